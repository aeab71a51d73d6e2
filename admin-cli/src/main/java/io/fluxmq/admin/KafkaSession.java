package io.fluxmq.admin;

import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.NodeState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

/**
 * A Kafka {@link Admin} client on the cluster's Kafka listeners, and the translation of its failures into
 * {@link AdminException}s that say what failed and what to try. The first use checks the cluster answers at all
 * (DescribeCluster) and ends the command with {@link AdminException#UNREACHABLE} when it does not.
 */
final class KafkaSession implements AutoCloseable {
    private final String bootstrap;
    private final long timeoutMs;
    private Admin admin;

    private final Properties clientProperties;

    private KafkaSession(String bootstrap, long timeoutMs, Properties clientProperties) {
        this.clientProperties = clientProperties;
        this.bootstrap = bootstrap;
        this.timeoutMs = timeoutMs;
    }

    /** A session on {@code --kafka-bootstrap}, or on the Kafka addresses the nodes registered. */
    static KafkaSession open(ConnectionOptions options, Supplier<DescribeNodesReply> nodes) {
        return new KafkaSession(kafkaBootstrap(options, nodes), options.timeoutMs, options.commandProperties());
    }

    /**
     * The Kafka bootstrap list: {@code --kafka-bootstrap} when given, else every registered node's
     * {@code host:kafkaPort} from DescribeNodes (nodes that are UP first).
     */
    static String kafkaBootstrap(ConnectionOptions options, Supplier<DescribeNodesReply> nodes) {
        if (!options.kafkaAddresses().isEmpty()) {
            return String.join(",", options.kafkaAddresses());
        }
        if (options.controlAddresses().isEmpty()) {
            throw AdminException.usage("no cluster address: give --bootstrap host:controlPort (or "
                    + "FLUXMQ_BOOTSTRAP), or --kafka-bootstrap host:kafkaPort (or FLUXMQ_KAFKA_BOOTSTRAP), or either in "
                    + "the config file (--admin-config, ~/.fluxmq/admin.properties)");
        }
        List<NodeInfo> registered = new ArrayList<>(nodes.get().getNodesList().stream()
                .filter(n -> !n.getEndpoint().getHost().isEmpty()).toList());
        registered.sort(Comparator.comparing((NodeInfo n) -> n.getState() != NodeState.NODE_STATE_UP)
                .thenComparingInt(NodeInfo::getNodeId));
        if (registered.isEmpty()) {
            throw AdminException.unreachable("no node has registered a Kafka address yet; wait for the nodes to "
                    + "start, or give --kafka-bootstrap host:kafkaPort");
        }
        return String.join(",", registered.stream()
                .map(n -> n.getEndpoint().getHost() + ":" + n.getEndpoint().getKafkaPort()).toList());
    }

    String bootstrap() {
        return bootstrap;
    }

    /** The Admin client, created (and the cluster checked to answer) on first use. */
    Admin admin() {
        if (admin == null) {
            Properties p = new Properties();
            p.putAll(clientProperties);
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(AdminClientConfig.CLIENT_ID_CONFIG, "fluxmq-admin");
            p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeoutMs));
            p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeoutMs));
            admin = Admin.create(p);
            try {
                admin.describeCluster().clusterId().get(timeoutMs + 1000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) { // TimeoutException: Kafka has its own
                throw AdminException.unreachable("no broker answered at " + bootstrap + " within " + timeoutMs
                        + " ms (is the cluster running? --kafka-bootstrap takes the Kafka port, 9092 by default)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw AdminException.failed("interrupted");
            }
        }
        return admin;
    }

    /** The future's value; a failure ends the command with a message starting with {@code what}. */
    <T> T await(KafkaFuture<T> future, String what) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw explain(what, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw AdminException.failed(what + ": interrupted");
        }
    }

    /** A Kafka client failure as a message that says what failed and what to try. */
    AdminException explain(String what, Throwable cause) {
        String hint;
        if (cause instanceof TimeoutException) {
            hint = "no answer within " + timeoutMs + " ms (a partition without a leader, or a busy cluster; check "
                    + "`fluxmq-admin cluster status`, or raise --timeout-ms)";
        } else if (cause instanceof UnsupportedVersionException) {
            hint = "the cluster does not support this request (" + cause.getMessage() + ")";
        } else if (cause instanceof TopicExistsException) {
            hint = "the topic already exists (see it with `fluxmq-admin topic describe`)";
        } else if (cause instanceof UnknownTopicOrPartitionException) {
            hint = "no such topic or partition (`fluxmq-admin topic list` shows the topics)";
        } else if (cause instanceof GroupNotEmptyException) {
            hint = "the group still has members; stop its consumers first";
        } else if (cause instanceof GroupIdNotFoundException) {
            hint = "no such group (`fluxmq-admin group list` shows the groups)";
        } else {
            hint = cause.getClass().getSimpleName() + ": " + cause.getMessage();
        }
        return AdminException.failed(what + " failed: " + hint);
    }

    @Override
    public void close() {
        if (admin != null) {
            admin.close(Duration.ofMillis(Math.min(timeoutMs, 2000)));
        }
    }
}
