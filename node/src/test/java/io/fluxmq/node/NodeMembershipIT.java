package io.fluxmq.node;

import static io.fluxmq.node.DynamicConfigsIT.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.admin.FluxmqAdmin;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster membership on a real multi-process cluster: three nodes in racks a, b, c; a fourth node (rack b) joins the
 * running cluster with {@code cluster.nodes} naming the three as seeds, and the original nodes, whose
 * {@code cluster.nodes} never mention it, list it (address and rack) from metadata; then node 1 is decommissioned with
 * {@code fluxmq-admin node decommission} while a default producer writes: every partition (the RF=3 topic and
 * {@code __consumer_offsets}) ends with 3 replicas on nodes 0, 2, 3 (node 1's replicas went to node 3, its rack), node
 * 1 holds none in metadata or in its data directory, every acknowledged record is read back once at its offset, new
 * topics avoid node 1 until {@code node recommission 1}. Finally node 3 is decommissioned, stopped and removed
 * ({@code node remove 3}): no node lists it any more and every partition is back on nodes 0, 1, 2.
 */
class NodeMembershipIT {
    private static final String TOPIC = "orders";
    private static final int PARTITIONS = 4;
    private static final List<String> RACKS = List.of("a", "b", "c");

    @Test
    @Timeout(240)
    void aNodeJoinsAndAnotherIsDecommissionedWhileProducing(@TempDir Path dir) throws Exception {
        Map<String, String> settings = Map.of("offsets.topic.num.partitions", "2", "leader.balance.interval.ms",
                "3600000");
        try (TestCluster cluster = TestCluster.start(dir, settings, new int[] {TestNode.freePort(),
                TestNode.freePort(), TestNode.freePort()}, i -> Map.of("broker.rack", RACKS.get(i)));
             Admin admin = cluster.admin()) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get(60, TimeUnit.SECONDS);
            // each node registers its rack in metadata after it started; the answering node may not have applied all yet
            eventually(() -> assertThat(racks(admin)).isEqualTo(Map.of(0, "a", 1, "b", 2, "c")));
            for (List<Integer> replicas : assignment(admin, TOPIC).values()) {
                assertThat(replicas.stream().map(id -> RACKS.get(id)).collect(Collectors.toSet())).as("rack-aware")
                        .hasSize(3);
            }
            ContinuousProducer producer = ContinuousProducer.start(cluster.bootstrap(), TOPIC, "m", 20);
            assertThat(producer.awaitAcked(1000, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(1000);

            long joinStarted = System.nanoTime();
            cluster.join(Map.of("broker.rack", "b"));
            long portMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - joinStarted);
            try (Admin viaNode0 = adminOf("127.0.0.1:" + kafkaPort(cluster, 0))) {
                eventually(() -> assertThat(racks(viaNode0)).as("node 0 knows node 3 from metadata only")
                        .isEqualTo(Map.of(0, "a", 1, "b", 2, "c", 3, "b")));
            }
            long joinedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - joinStarted);
            Map<String, String> node3 = describeNode(cluster, 3);
            assertThat(node3).containsEntry("state", "UP").containsEntry("membership", "ACTIVE")
                    .containsEntry("rack", "b");

            int acked = producer.acked().size();
            long decommissionStarted = System.nanoTime();
            String out = admin(cluster, "node", "decommission", "1", "--wait-timeout-ms", "150000");
            long decommissionMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - decommissionStarted);
            assertThat(out).contains("Decommissioning node 1", "replicas left on node 1",
                    "Done: node 1 is DECOMMISSIONED and holds no replica");
            assertThat(producer.awaitAcked(acked + 1000, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(acked + 1000);
            assertThat(producer.stop(Duration.ofSeconds(60))).isTrue();

            Map<TopicPartition, List<Integer>> all = new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
            Collection<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
            eventually(() -> {
                all.clear();
                for (String t : topics) {
                    all.putAll(assignment(admin, t));
                }
                assertThat(all).hasSize(PARTITIONS + 2);
                for (Map.Entry<TopicPartition, List<Integer>> e : all.entrySet()) {
                    assertThat(e.getValue()).as("replicas of %s", e.getKey()).hasSize(3)
                            .containsExactlyInAnyOrder(0, 2, 3);
                }
                for (String t : topics) {
                    for (TopicPartitionInfo p : describe(admin, t).partitions()) {
                        assertThat(ids(p.isr())).as("in sync: %s-%d", t, p.partition())
                                .containsExactlyInAnyOrder(0, 2, 3);
                    }
                }
                return null;
            });
            Map<TopicPartition, List<ConsumerRecord<String, String>>> read =
                    Clients.readAll(cluster.bootstrap(), TOPIC, PARTITIONS, Duration.ofSeconds(60));
            Consistency.check("after decommissioning node 1", read, producer.sent(), producer.acked());
            eventually(() -> {
                Path engineDir = PartitionDirs.engineRoot(dir.resolve("node-1"));
                try (var left = Files.list(engineDir)) { // multiraft's .trash is emptied at the next start
                    assertThat(left.filter(d -> Files.isDirectory(d) && !d.getFileName().toString().startsWith("."))
                            .toList())
                            .as("partition directories left on node 1").isEmpty();
                }
                return null;
            });
            assertThat(describeNode(cluster, 1)).containsEntry("membership", "DECOMMISSIONED")
                    .containsEntry("replicas", "0").containsEntry("leaders", "0");

            admin.createTopics(List.of(new NewTopic("after", 8, (short) 1))).all().get(60, TimeUnit.SECONDS);
            // CreateTopics answers once the answering node applied the topic (as Kafka); the Admin may ask another
            cluster.awaitTopicOnEveryNode("after", 8, Duration.ofSeconds(60));
            assertThat(assignment(admin, "after").values().stream().flatMap(List::stream).collect(Collectors.toSet()))
                    .as("placement skips a decommissioned node").containsExactlyInAnyOrder(0, 2, 3);
            assertThat(admin(cluster, "node", "recommission", "1")).contains("Node 1 is ACTIVE");
            admin.createTopics(List.of(new NewTopic("again", 8, (short) 1))).all().get(60, TimeUnit.SECONDS);
            cluster.awaitTopicOnEveryNode("again", 8, Duration.ofSeconds(60));
            assertThat(assignment(admin, "again").values().stream().flatMap(List::stream).collect(Collectors.toSet()))
                    .as("a recommissioned node takes replicas").containsExactlyInAnyOrder(0, 1, 2, 3);
            String list = admin(cluster, "node", "list") + admin(cluster, "node", "describe", "3");

            // node 3 (a Raft listener of the metadata group, not a controller) leaves for good
            admin.deleteTopics(List.of("after", "again")).all().get(60, TimeUnit.SECONDS);
            long removeStarted = System.nanoTime();
            admin(cluster, "node", "decommission", "3", "--wait-timeout-ms", "120000");
            assertThat(cluster.node(3).stop()).as("exit status after SIGTERM").isIn(0, 143);
            eventually(() -> assertThat(describeNode(cluster, 3)).containsEntry("state", "DOWN"));
            assertThat(admin(cluster, "node", "remove", "3")).contains("Node 3 is removed from the cluster");
            long removedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - removeStarted);
            assertThat(admin(cluster, "node", "list")).doesNotContain("127.0.0.1:" + kafkaPort(cluster, 3));
            // each node registers its rack in metadata after it started; the answering node may not have applied all yet
            eventually(() -> assertThat(racks(admin)).isEqualTo(Map.of(0, "a", 1, "b", 2, "c")));
            eventually(() -> {
                for (String t : topics) {
                    for (TopicPartitionInfo p : describe(admin, t).partitions()) {
                        assertThat(ids(p.replicas())).as("%s-%d", t, p.partition()).hasSize(3).doesNotContain(3);
                        assertThat(ids(p.isr())).as("in sync: %s-%d", t, p.partition()).hasSize(3);
                    }
                }
                return null;
            });
            System.out.printf("MEMBERSHIP node 3 started (Kafka port open) in %d ms, visible on node 0 in %d ms; node 1 "
                            + "decommissioned in %d ms while producing: %d records acked, %d failed sends; node 3 "
                            + "decommissioned, stopped and removed in %d ms; %s%n%s%s",
                    portMs, joinedMs, decommissionMs,
                    producer.acked().size(), producer.failed(), removedMs, all, out, list);
        }
    }

    private static int kafkaPort(TestCluster cluster, int id) {
        String b = cluster.node(id).bootstrap();
        return Integer.parseInt(b.substring(b.lastIndexOf(':') + 1));
    }

    /** Runs fluxmq-admin against the control ports of the original nodes; returns stdout, asserting exit 0. */
    static String admin(TestCluster cluster, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap", cluster.controlAddress(0) + "," + cluster.controlAddress(1) + ","
                + cluster.controlAddress(2)));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = FluxmqAdmin.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        assertThat(exit).as("fluxmq-admin %s: %s %s", all, out, err).isZero();
        return out.toString();
    }

    /** {@code node describe ID} as key/value pairs. */
    private static Map<String, String> describeNode(TestCluster cluster, int id) {
        Map<String, String> out = new HashMap<>();
        for (String line : admin(cluster, "node", "describe", Integer.toString(id)).split("\n")) {
            String[] kv = line.split(":\\s+", 2);
            out.put(kv[0], kv.length > 1 ? kv[1].trim() : "");
        }
        return out;
    }

    private static Admin adminOf(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }

    private static Map<Integer, String> racks(Admin admin) throws Exception {
        Map<Integer, String> out = new HashMap<>();
        for (Node n : admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)) {
            out.put(n.id(), n.rack());
        }
        return out;
    }

    private static TopicDescription describe(Admin admin, String topic) throws Exception {
        return admin.describeTopics(Set.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
    }

    private static Map<TopicPartition, List<Integer>> assignment(Admin admin, String topic) throws Exception {
        Map<TopicPartition, List<Integer>> out = new HashMap<>();
        for (TopicPartitionInfo p : describe(admin, topic).partitions()) {
            out.put(new TopicPartition(topic, p.partition()), ids(p.replicas()));
        }
        return out;
    }

    private static List<Integer> ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).toList();
    }
}
