package io.fluxmq.node;

import static io.fluxmq.node.DynamicConfigsIT.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes that join a running 3-node cluster with {@code node.id=-1} and only the seeds in {@code cluster.nodes} (no
 * id, no cluster id, no controllers of their own): the cluster gives them 1001 and 1002 (above
 * {@code reserved.broker.max.id}, as Kafka's generated broker ids), every node lists them, a restart keeps the id
 * without a new one being taken, partitions reassigned onto them catch up and serve every record, and a node
 * configured for another cluster is refused with exit code 2.
 */
class NodeIdAllocationIT {

    private static NodeProcess joiner(TestCluster cluster, Path dir, String name, Map<String, String> extra)
            throws Exception {
        Map<String, String> s = new HashMap<>();
        s.put("node.id", "-1");
        s.put("cluster.nodes", cluster.seeds());
        s.put("http.port", Integer.toString(TestNode.freePort()));
        s.put("control.port", Integer.toString(TestNode.freePort()));
        s.put("raft.election.timeout.min.ms", "1000");
        s.put("raft.election.timeout.max.ms", "2000");
        s.putAll(extra);
        return new NodeProcess(name, dir.resolve(name), TestNode.freePort(), TestNode.freePort(), s);
    }

    private static Map<Integer, Integer> brokers(Admin admin) throws Exception {
        return admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).stream()
                .collect(Collectors.toMap(Node::id, Node::port, (a, b) -> a, TreeMap::new));
    }

    @Test
    @Timeout(240)
    void joiningNodesAreGivenIdsThatLastAcrossRestarts(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir);
             Admin admin = cluster.admin();
             NodeProcess a = joiner(cluster, dir, "joiner-a", Map.of());
             NodeProcess b = joiner(cluster, dir, "joiner-b", Map.of());
             NodeProcess stranger = joiner(cluster, dir, "joiner-other-cluster", Map.of("cluster.id",
                     "AAAAAAAAAAAAAAAAAAAAAA"))) {
            a.start();
            b.start();
            assertThat(Files.readString(a.dataDir().resolve("meta.properties"))).contains("node.id=1001",
                    "cluster.id=" + cluster.clusterId(), "controller.nodes=0,1,2");
            assertThat(Files.readString(b.dataDir().resolve("meta.properties"))).contains("node.id=1002");
            eventually(() -> assertThat(brokers(admin)).isEqualTo(Map.of(0, port(cluster, 0), 1, port(cluster, 1),
                    2, port(cluster, 2), 1001, a.kafkaPort(), 1002, b.kafkaPort())));

            assertThat(a.stop()).as("exit status after SIGTERM").isIn(0, 143);
            a.start();
            assertThat(a.log()).contains("FluxMQ node 1001 ready");
            assertThat(Files.readString(a.dataDir().resolve("meta.properties"))).contains("node.id=1001");
            String nodes = NodeMembershipIT.admin(cluster, "node", "list");
            assertThat(nodes).contains("127.0.0.1:" + a.kafkaPort(), "127.0.0.1:" + b.kafkaPort());
            eventually(() -> assertThat(brokers(admin)).containsEntry(1001, a.kafkaPort()).hasSize(5));

            admin.createTopics(List.of(new NewTopic("on-new-nodes", 2, (short) 3))).all().get(60, TimeUnit.SECONDS);
            cluster.awaitTopicOnEveryNode("on-new-nodes", 2, Duration.ofSeconds(60));
            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(),
                    Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
                send(producer, 0, 50);
                Map<Integer, List<Integer>> target = Map.of(0, List.of(1001, 1002, 0), 1, List.of(1002, 1001, 1));
                admin.alterPartitionReassignments(target.entrySet().stream().collect(Collectors.toMap(
                        e -> new TopicPartition("on-new-nodes", e.getKey()),
                        e -> Optional.of(new NewPartitionReassignment(e.getValue()))))).all().get(60, TimeUnit.SECONDS);
                eventually(() -> {
                    for (TopicPartitionInfo p : admin.describeTopics(List.of("on-new-nodes")).allTopicNames()
                            .get(30, TimeUnit.SECONDS).get("on-new-nodes").partitions()) {
                        List<Integer> want = target.get(p.partition());
                        assertThat(p.replicas()).extracting(Node::id).as("replicas of %d", p.partition())
                                .containsExactlyInAnyOrderElementsOf(want);
                        assertThat(p.isr()).extracting(Node::id).as("in sync of %d", p.partition())
                                .containsExactlyInAnyOrderElementsOf(want);
                    }
                    return null;
                });
                send(producer, 50, 100);
            }
            Map<TopicPartition, List<ConsumerRecord<String, String>>> read =
                    Clients.readAll(cluster.bootstrap(), "on-new-nodes", 2, Duration.ofSeconds(60));
            assertThat(read.values().stream().flatMap(List::stream).map(ConsumerRecord::value))
                    .containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(0, 100)
                            .mapToObj(i -> "r" + i).toList());

            stranger.start(false);
            assertThat(stranger.awaitExit(60_000)).as("exit code of a node of another cluster").isEqualTo(2);
            assertThat(stranger.log()).contains("the cluster refused to give this node an id",
                    "configured for cluster AAAAAAAAAAAAAAAAAAAAAA");
            assertThat(stranger.dataDir().resolve("meta.properties")).doesNotExist();
            System.out.printf("NODE IDS given: 1001, 1002; restart kept 1001; members %s%n", brokers(admin));
        }
    }

    private static void send(KafkaProducer<String, String> producer, int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            producer.send(new ProducerRecord<>("on-new-nodes", i % 2, null, "r" + i)).get(60, TimeUnit.SECONDS);
        }
    }

    private static int port(TestCluster cluster, int id) {
        return cluster.node(id).kafkaPort();
    }
}
