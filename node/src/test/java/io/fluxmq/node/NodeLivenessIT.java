package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.admin.FluxmqAdmin;
import io.fluxmq.control.v1.ControlServiceGrpc;
import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.DescribeNodesRequest;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.NodeState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes register and heartbeat over gRPC. A frozen (SIGSTOP) node that is not the controller leader
 * is marked DOWN once its session times out: fluxmq-admin says so, Kafka Metadata lists it as an offline replica and
 * no longer as a broker. Thawed, it is UP again; killed and restarted, it registers its new incarnation.
 */
class NodeLivenessIT {
    private static final String TOPIC = "liveness";
    private static final long SESSION_TIMEOUT_MS = 6000;
    private static final long HEARTBEAT_MS = 1000;

    @Test
    void aFrozenNodeIsMarkedDownAndComesBackUp(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of(
                "node.heartbeat.interval.ms", Long.toString(HEARTBEAT_MS),
                "node.session.timeout.ms", Long.toString(SESSION_TIMEOUT_MS)))) {
            cluster.createTopic(TOPIC, 3, (short) 3);
            DescribeNodesReply up = await(cluster, 0, r -> r.getControllerId() >= 0
                    && r.getNodesList().stream().allMatch(n -> n.getState() == NodeState.NODE_STATE_UP), 60_000);
            assertThat(up.getNodesList()).extracting(NodeInfo::getNodeId).containsExactly(0, 1, 2);
            assertThat(up.getNodesList()).allSatisfy(n -> {
                assertThat(n.getLastHeartbeatAgeMs()).isBetween(0L, SESSION_TIMEOUT_MS);
                assertThat(n.getIncarnation()).isPositive();
                assertThat(n.getVersion()).isNotBlank();
            });
            int controller = up.getControllerId();
            int victim = controller == 2 ? 1 : 2;
            int observer = controller == 0 ? (victim == 1 ? 2 : 1) : 0;
            String cli = admin(cluster.controlAddress(observer));
            assertThat(line(cli, controller)).contains(" UP ", "controller (leader)");
            assertThat(line(cli, victim)).contains(" UP ");

            cluster.node(victim).freeze();
            long frozenAt = System.nanoTime();
            await(cluster, observer, r -> state(r, victim) == NodeState.NODE_STATE_DOWN,
                    SESSION_TIMEOUT_MS + 10_000);
            long toDownMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt);
            System.out.printf("NodeLivenessIT: node %d frozen -> DOWN after %d ms (session timeout %d ms)%n", victim,
                    toDownMs, SESSION_TIMEOUT_MS);
            assertThat(toDownMs).as("not before the session timeout (less the last heartbeat interval)")
                    .isGreaterThanOrEqualTo(SESSION_TIMEOUT_MS - HEARTBEAT_MS);
            assertThat(toDownMs).as("within the session timeout plus slack").isLessThan(SESSION_TIMEOUT_MS + 5_000);

            cli = admin(cluster.controlAddress(observer));
            assertThat(line(cli, victim)).contains(" DOWN ");
            assertThat(line(cli, observer)).contains(" UP ");
            String survivor = cluster.node(observer).bootstrap();
            assertKafkaView(survivor, victim, true);

            cluster.node(victim).thaw();
            long thawedAt = System.nanoTime();
            await(cluster, observer, r -> state(r, victim) == NodeState.NODE_STATE_UP, 15_000);
            System.out.printf("NodeLivenessIT: node %d thawed -> UP after %d ms%n", victim,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - thawedAt));
            assertKafkaView(survivor, victim, false);

            long firstIncarnation = find(describe(cluster, observer), victim).getIncarnation();
            cluster.node(victim).kill();
            await(cluster, observer, r -> state(r, victim) == NodeState.NODE_STATE_DOWN, SESSION_TIMEOUT_MS + 10_000);
            cluster.restart(victim);
            DescribeNodesReply back = await(cluster, observer, r -> state(r, victim) == NodeState.NODE_STATE_UP
                    && find(r, victim).getIncarnation() > firstIncarnation, 60_000);
            assertThat(find(back, victim).getLastHeartbeatAgeMs()).isLessThan(SESSION_TIMEOUT_MS);
            assertKafkaView(survivor, victim, false);
        }
    }

    /** Kafka's view on a surviving node: the victim listed as broker or not, as offline replica or not. */
    private static void assertKafkaView(String bootstrap, int victim, boolean down) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        AssertionError last = null;
        while (System.nanoTime() < deadline) {
            try {
                checkKafkaView(bootstrap, victim, down);
                return;
            } catch (AssertionError e) {
                last = e;
                Thread.sleep(200);
            }
        }
        throw last;
    }

    private static void checkKafkaView(String bootstrap, int victim, boolean down) throws Exception {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", bootstrap);
        try (Admin admin = Admin.create(p)) {
            List<Integer> brokers = admin.describeCluster().nodes().get().stream().map(Node::id).toList();
            TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
            if (down) {
                assertThat(brokers).doesNotContain(victim).hasSize(2);
                assertThat(d.partitions()).allSatisfy(tp ->
                        assertThat(tp.isr()).extracting(Node::id).doesNotContain(victim));
            } else {
                assertThat(brokers).contains(victim).hasSize(3);
            }
        }
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        short version = 12;
        RequestHeader header = new RequestHeader(ApiKeys.METADATA, version, "liveness-it", 1);
        MetadataRequestData body = new MetadataRequestData().setAllowAutoTopicCreation(false)
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(TOPIC)));
        try (RawKafkaConnection c = RawKafkaConnection.open(port)) {
            c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(), body, version));
            MetadataResponse response = (MetadataResponse) AbstractResponse.parseResponse(c.readFrame(), header);
            List<Integer> brokers = response.data().brokers().stream().map(b -> b.nodeId()).toList();
            List<MetadataResponsePartition> partitions = response.data().topics().find(TOPIC).partitions();
            assertThat(partitions).hasSize(3);
            if (down) {
                assertThat(brokers).doesNotContain(victim);
                assertThat(partitions).allSatisfy(tp -> {
                    assertThat(tp.replicaNodes()).contains(victim);
                    assertThat(tp.offlineReplicas()).containsExactly(victim);
                });
            } else {
                assertThat(brokers).contains(victim);
                assertThat(partitions).allSatisfy(tp -> assertThat(tp.offlineReplicas()).doesNotContain(victim));
            }
        }
    }

    private static DescribeNodesReply await(TestCluster cluster, int node, Predicate<DescribeNodesReply> condition,
                                            long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        DescribeNodesReply last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = describe(cluster, node);
                if (condition.test(last)) {
                    return last;
                }
            } catch (io.grpc.StatusRuntimeException notYet) {
                // the node's control service is not up yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("condition not met within " + timeoutMs + " ms; last DescribeNodes: " + last);
    }

    private static DescribeNodesReply describe(TestCluster cluster, int node) throws InterruptedException {
        String address = cluster.controlAddress(node);
        ManagedChannel channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
        try {
            return ControlServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .describeNodes(DescribeNodesRequest.getDefaultInstance());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static NodeInfo find(DescribeNodesReply reply, int id) {
        return reply.getNodesList().stream().filter(n -> n.getNodeId() == id).findFirst().orElseThrow();
    }

    private static NodeState state(DescribeNodesReply reply, int id) {
        return find(reply, id).getState();
    }

    /** Runs the real {@code fluxmq-admin nodes} command and returns what it printed. */
    private static String admin(String bootstrap) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = FluxmqAdmin.run(new PrintWriter(out), new PrintWriter(err), "nodes", "--bootstrap", bootstrap);
        assertThat(exit).as("fluxmq-admin exit code; stderr: %s", err).isZero();
        return out.toString();
    }

    private static String line(String table, int id) {
        return Arrays.stream(table.split("\n")).filter(l -> l.startsWith(id + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no line for node " + id + " in:\n" + table)) + " ";
    }
}
