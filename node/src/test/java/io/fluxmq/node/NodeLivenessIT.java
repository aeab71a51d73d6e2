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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import org.apache.kafka.common.message.MetadataResponseData;
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
 * no longer as a broker. Thawed, it is UP again; killed and restarted, it registers its new incarnation, and its
 * {@code /ready} answers 200 only once that registration is accepted and it has caught up with the metadata committed
 * while it was down (a topic created then is in its own Metadata answer). A node started alone serves Kafka
 * connections but is not ready (it cannot register) until a second node is back.
 */
class NodeLivenessIT {
    private static final String TOPIC = "liveness";
    private static final long SESSION_TIMEOUT_MS = 6000;
    private static final long HEARTBEAT_MS = 1000;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

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
            // a topic the restarted node has never seen: at /ready 200 its own Metadata answer must list it
            cluster.createTopic(WHILE_DOWN, 3, (short) 3);
            cluster.restart(victim);
            awaitReady(cluster, victim);
            long readyIncarnation = find(describe(cluster, controller), victim).getIncarnation();
            assertThat(readyIncarnation).as("ready only once the controller accepted the new registration")
                    .isGreaterThan(firstIncarnation);
            assertThat(metadata(cluster.node(victim).bootstrap(), WHILE_DOWN).partitions())
                    .as("ready only once caught up with the metadata committed before it started").hasSize(3);
            DescribeNodesReply back = await(cluster, observer, r -> state(r, victim) == NodeState.NODE_STATE_UP
                    && find(r, victim).getIncarnation() > firstIncarnation, 60_000);
            assertThat(find(back, victim).getLastHeartbeatAgeMs()).isLessThan(SESSION_TIMEOUT_MS);
            assertKafkaView(survivor, victim, false);

            // alone, a node serves Kafka connections but cannot register: not ready until a second node is back
            for (int i = 0; i < 3; i++) {
                cluster.node(i).kill();
            }
            cluster.restart(0); // returns once its Kafka listener accepts connections
            Ready alone = ready(cluster, 0);
            assertThat(alone.status()).as("%s", alone).isEqualTo(503);
            // "starting" only in the instant between the listener's bind and the readiness stage moving on
            assertThat(alone.body()).isIn("starting\n", "registering with the metadata controller\n");
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!alone.body().startsWith("registering") && System.nanoTime() < until) {
                Thread.sleep(50);
                alone = ready(cluster, 0);
            }
            assertThat(alone).isEqualTo(new Ready(503, "registering with the metadata controller\n"));
            cluster.restart(1);
            awaitReady(cluster, 0);
            awaitReady(cluster, 1);
        }
    }

    private static final String WHILE_DOWN = "while-down";

    private record Ready(int status, String body) {}

    /** {@code GET /ready} of a node. */
    private static Ready ready(TestCluster cluster, int node) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.httpAddress(node) + "/ready"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return new Ready(r.statusCode(), r.body());
    }

    /** Waits for {@code /ready} 200, checking every 503 names a start-up stage. */
    private static void awaitReady(TestCluster cluster, int node) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        Ready last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = ready(cluster, node);
            } catch (java.io.IOException notListening) {
                Thread.sleep(100);
                continue;
            }
            if (last.status() == 200) {
                assertThat(last.body()).isEqualTo("ready\n");
                return;
            }
            assertThat(last.body()).isIn("starting\n", "registering with the metadata controller\n",
                    "catching up with the cluster metadata\n");
            Thread.sleep(100);
        }
        throw new AssertionError("node " + node + " not ready within 90 s; last /ready: " + last);
    }

    /** One Metadata request (v12) for {@code topic} to the node at {@code bootstrap}, no retry. */
    private static MetadataResponseData.MetadataResponseTopic metadata(String bootstrap, String topic)
            throws Exception {
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        short version = 12;
        RequestHeader header = new RequestHeader(ApiKeys.METADATA, version, "liveness-it", 2);
        MetadataRequestData body = new MetadataRequestData().setAllowAutoTopicCreation(false)
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(topic)));
        try (RawKafkaConnection c = RawKafkaConnection.open(port)) {
            c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(), body, version));
            MetadataResponse response = (MetadataResponse) AbstractResponse.parseResponse(c.readFrame(), header);
            MetadataResponseData.MetadataResponseTopic t = response.data().topics().find(topic);
            assertThat(t).isNotNull();
            assertThat(t.errorCode()).as("error of %s", topic).isZero();
            return t;
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
