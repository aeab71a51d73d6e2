package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11: moving data is throttled. Three nodes on the multi-Raft engine with
 * {@code leader.replication.throttled.rate} = 512 KiB/s; a partition of RF 1 holding 4 MiB is reassigned to its node
 * and another: the other catches up no faster than the rate allows (the bucket holds a second's worth and one append
 * may overdraw it, so at least (4 MiB - 0.5 MiB - 1 MiB) / 512 KiB/s = 5 s; unthrottled, loopback takes well under a
 * second), then holds every record, and the throttle is lifted: records produced after the move are acknowledged by
 * both replicas at once.
 */
class ReplicationThrottleIT {
    private static final String TOPIC = "moved";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final long RATE = 512 * 1024;
    private static final int RECORDS = 4096;
    private static final int RECORD_BYTES = 1024;

    @Test
    @Timeout(300)
    void aReassignedReplicaCatchesUpAtTheThrottledRate(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of(NodeConfig.PARTITION_ENGINE, NodeConfig.MULTIRAFT,
                NodeConfig.LEADER_REPLICATION_THROTTLED_RATE, Long.toString(RATE)));
             Admin admin = cluster.admin()) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            int only = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
            int added = (only + 1) % 3;
            produce(cluster.bootstrap(), 0, RECORDS);

            long start = System.nanoTime();
            admin.alterPartitionReassignments(Map.of(TP, Optional.of(new NewPartitionReassignment(List.of(only, added)))))
                    .all().get(60, TimeUnit.SECONDS);
            awaitThrottledMove(admin, start, "alterPartitionReassignments");

            TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(TOPIC);
            assertThat(d.partitions().get(0).replicas()).extracting(n -> n.id()).containsExactlyInAnyOrder(only, added);
            // lifted: a new record is committed by both replicas (RF 2, a majority of 2) without waiting on the bucket
            long before = System.nanoTime();
            produce(cluster.bootstrap(), RECORDS, 64);
            System.out.printf("64 records after the move acknowledged in %.0f ms%n",
                    (System.nanoTime() - before) / 1e6);
            List<ConsumerRecord<String, String>> read = Clients.readAll(cluster.bootstrap(), TOPIC, 1,
                    Duration.ofSeconds(60)).get(TP);
            assertThat(read).hasSize(RECORDS + 64);
        }
    }

    /**
     * The same move with Kafka's own tool and no node setting: {@code kafka-reassign-partitions --execute --throttle}
     * sets {@code leader.replication.throttled.rate} as a dynamic broker config on the nodes of the move, which their
     * leaders apply at once; {@code --verify} after completion clears it again.
     */
    @Test
    @Timeout(300)
    void kafkaReassignPartitionsThrottleSetsTheRateAtRuntime(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of(NodeConfig.PARTITION_ENGINE,
                NodeConfig.MULTIRAFT)); Admin admin = cluster.admin()) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            int only = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
            int added = (only + 1) % 3;
            produce(cluster.bootstrap(), 0, RECORDS);
            Path plan = dir.resolve("plan.json");
            java.nio.file.Files.writeString(plan, "{\"version\": 1, \"partitions\": [{\"topic\": \"" + TOPIC
                    + "\", \"partition\": 0, \"replicas\": [" + only + ", " + added + "]}]}");

            long start = System.nanoTime();
            String executed = ReassignmentIT.tool(cluster, "--execute", "--reassignment-json-file", plan.toString(),
                    "--throttle", Long.toString(RATE));
            assertThat(executed).contains("Successfully started partition reassignment", "throttle");
            ConfigResource leaderNode = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(only));
            ConfigEntry rate = admin.describeConfigs(List.of(leaderNode)).all().get(30, TimeUnit.SECONDS)
                    .get(leaderNode).get("leader.replication.throttled.rate");
            assertThat(rate.value()).isEqualTo(Long.toString(RATE));
            assertThat(rate.source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG);
            awaitThrottledMove(admin, start, "kafka-reassign-partitions --throttle " + RATE);

            String verified = DynamicConfigsIT.eventually(() -> {
                String out = ReassignmentIT.tool(cluster, "--verify", "--reassignment-json-file", plan.toString());
                assertThat(out).contains("Reassignment of partition " + TP + " is completed");
                return out;
            });
            assertThat(verified).contains("Clearing broker-level throttles");
            ConfigEntry cleared = admin.describeConfigs(List.of(leaderNode)).all().get(30, TimeUnit.SECONDS)
                    .get(leaderNode).get("leader.replication.throttled.rate");
            assertThat(cleared.source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
            assertThat(Clients.readAll(cluster.bootstrap(), TOPIC, 1, Duration.ofSeconds(60)).get(TP))
                    .hasSize(RECORDS);
        }
    }

    /**
     * Waits (at most 120 s) until no reassignment is in progress, then asserts the move of the partition's
     * {@code RECORDS * RECORD_BYTES} bytes, begun at {@code startNanos}, took at least what the throttle allows.
     */
    private static void awaitThrottledMove(Admin admin, long startNanos, String how) throws Exception {
        long deadline = startNanos + TimeUnit.SECONDS.toNanos(120);
        while (!admin.listPartitionReassignments().reassignments().get(30, TimeUnit.SECONDS).isEmpty()) {
            assertThat(System.nanoTime()).as("the reassignment completes within 120 s").isLessThan(deadline);
            Thread.sleep(50);
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        long bytes = (long) RECORDS * RECORD_BYTES;
        System.out.printf("%s: moved %d KiB in %.1f s (%.0f KiB/s at a throttle of %d KiB/s)%n", how, bytes / 1024,
                seconds, bytes / 1024 / seconds, RATE / 1024);
        assertThat(seconds).as("catch-up time of %d bytes at %d B/s", bytes, RATE)
                .isGreaterThanOrEqualTo((bytes - RATE - (1 << 20)) / (double) RATE);
    }

    private static void produce(String bootstrap, int from, int count) throws Exception {
        String value = "x".repeat(RECORD_BYTES - 16);
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap,
                Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                sent.add(producer.send(new ProducerRecord<>(TOPIC, 0, "k" + i, value)));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
    }
}
