package io.fluxmq.node;

import static io.fluxmq.node.DynamicConfigsIT.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.tools.DeleteRecordsCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DeleteRecords with Kafka's {@code kafka-delete-records} tool and the Admin client on a three-process cluster: the low watermark moves on every replica
 * through the partition's Raft group, fetches below it answer OFFSET_OUT_OF_RANGE, ListOffsets earliest reports it,
 * offsets beyond the high watermark are refused, -1 means the high watermark, and the new start holds on the new
 * leader after the leader is killed, and again after that node restarts and the next leader is killed; on both
 * partition engines.
 */
class DeleteRecordsIT {
    private static final String TOPIC = "trimmed";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final int RECORDS = 100;

    @Test
    void deleteRecordsMovesTheLogStartOnEveryReplicaAcrossFailover(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of(NodeConfig.PARTITION_ENGINE, NodeConfig.RATIS));
             Admin admin = cluster.admin()) {
            deleteRecordsAcrossFailover(cluster, admin, dir, false);
        }
    }

    /**
     * The same on {@code partition.engine=multiraft}, where the segment log is the Raft log: the log start moves
     * inside a segment by an entry of the group (one offset, a control batch consumers skip), and finally the
     * partition's preferred replica is killed and restarted and, led by it again (ElectLeaders), still reports the log
     * start, as every replica's metrics do.
     */
    @Test
    void deleteRecordsMovesTheLogStartOnEveryReplicaAcrossFailoverOnMultiRaft(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of(NodeConfig.PARTITION_ENGINE,
                NodeConfig.MULTIRAFT)); Admin admin = cluster.admin()) {
            deleteRecordsAcrossFailover(cluster, admin, dir, true);
        }
    }

    private static void deleteRecordsAcrossFailover(TestCluster cluster, Admin admin, Path dir, boolean multiRaft)
            throws Exception {
        cluster.createTopic(TOPIC, 1, (short) 3);
        // the offset of record 0: 0 on Ratis; on multiraft after the entry of each leader the group had before it (one,
        // or two when the preferred replica took the leadership over right after the creation)
        long base;
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of())) {
            base = eventually(() -> producer.send(new ProducerRecord<>(TOPIC, 0, null, "r0")).get(30,
                    TimeUnit.SECONDS).offset());
            for (int i = 1; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(TOPIC, 0, null, "r" + i));
            }
            producer.flush();
        }
        if (multiRaft) {
            assertThat(base).isBetween(1L, 2L);
        } else {
            assertThat(base).isZero();
        }
        assertThat(Clients.awaitEndOffset(cluster.bootstrap(), TP, base + RECORDS, Duration.ofSeconds(30)))
                .isEqualTo(base + RECORDS);

        assertThat(kafkaDeleteRecords(cluster.bootstrap(), dir, base + 10)).contains("partition: trimmed-0")
                .contains("low_watermark: " + (base + 10));
        assertThat(earliest(admin)).isEqualTo(base + 10);
        assertThat(lowWatermark(admin, base + 40)).isEqualTo(base + 40);
        assertThat(earliest(admin)).isEqualTo(base + 40);
        assertThat(lowWatermark(admin, base + 30)).as("below the start: nothing changes").isEqualTo(base + 40);
        long beyond = latest(admin) + 1;
        assertThatThrownBy(() -> lowWatermark(admin, beyond)).cause()
                .isInstanceOf(org.apache.kafka.common.errors.OffsetOutOfRangeException.class);
        assertFetchBelowStartIsOutOfRange(cluster.bootstrap(), base + 39);
        assertThat(firstReadable(cluster.bootstrap(), base)).isEqualTo(base + 40);

        int first = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
        cluster.node(first).kill();
        int second = awaitNewLeader(cluster, first);
        assertThat(earliestAfterFailover(cluster)).as("log start on the new leader %d", second)
                .isEqualTo(base + 40);
        assertThat(firstReadable(cluster.bootstrap(), base)).isEqualTo(base + 40);

        cluster.restart(first);
        assertThat(lowWatermark(admin, base + 60)).isEqualTo(base + 60);
        cluster.node(second).kill();
        int third = awaitNewLeader(cluster, second);
        assertThat(earliestAfterFailover(cluster)).as("log start on leader %d after restarts", third)
                .isEqualTo(base + 60);
        cluster.restart(second);

        // -1: the high watermark (on multiraft past the leader-change and log-start entries of the group)
        long highWatermark = latest(admin);
        long low = lowWatermark(admin, -1);
        if (multiRaft) {
            assertThat(low).as("-1: the high watermark").isGreaterThanOrEqualTo(highWatermark);
        } else {
            assertThat(low).as("-1: the high watermark").isEqualTo(RECORDS).isEqualTo(highWatermark);
        }
        assertThat(earliest(admin)).isEqualTo(low);
        if (multiRaft) {
            int preferred = preferredReplica(admin);
            cluster.node(preferred).kill();
            cluster.restart(preferred);
            // Kafka's ElectLeaders (PREFERRED) once it is back in sync, rather than the periodic balancer's pass
            eventually(() -> {
                if (cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30)) != preferred) {
                    admin.electLeaders(ElectionType.PREFERRED, Set.of(TP)).all().get(30, TimeUnit.SECONDS);
                }
                return assertThat(cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30)))
                        .as("leadership back on the restarted preferred replica").isEqualTo(preferred);
            });
            assertThat(earliestAfterFailover(cluster)).as("log start on node %d after its restart", preferred)
                    .isEqualTo(low);
            for (int node = 0; node < cluster.size(); node++) { // every replica, each restarted once or more
                int n = node;
                eventually(() -> assertThat(MetricsIT.scrape(cluster.httpAddress(n)).value("fluxmq_log_start_offset",
                        "topic", TOPIC, "partition", "0")).as("node %d's log start", n).isEqualTo(low));
            }
        }
    }

    private static int preferredReplica(Admin admin) throws Exception {
        return admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS).get(TOPIC)
                .partitions().get(0).replicas().get(0).id();
    }

    /** Kafka's {@code kafka-delete-records.sh} (DeleteRecordsCommand from kafka-tools); returns what it printed. */
    private static String kafkaDeleteRecords(String bootstrap, Path dir, long offset) throws Exception {
        Path json = dir.resolve("delete-records.json");
        Files.writeString(json, "{\"partitions\": [{\"topic\": \"" + TOPIC + "\", \"partition\": 0, \"offset\": "
                + offset + "}], \"version\": 1}");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DeleteRecordsCommand.execute(new String[] {"--bootstrap-server", bootstrap, "--offset-json-file",
                json.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    private static long lowWatermark(Admin admin, long offset) throws Exception {
        return admin.deleteRecords(Map.of(TP, RecordsToDelete.beforeOffset(offset))).lowWatermarks().get(TP)
                .get(60, TimeUnit.SECONDS).lowWatermark();
    }

    private static long latest(Admin admin) throws Exception {
        return admin.listOffsets(Map.of(TP, OffsetSpec.latest())).partitionResult(TP).get(30, TimeUnit.SECONDS)
                .offset();
    }

    private static long earliest(Admin admin) throws Exception {
        return admin.listOffsets(Map.of(TP, OffsetSpec.earliest())).partitionResult(TP).get(30, TimeUnit.SECONDS)
                .offset();
    }

    /**
     * ListOffsets earliest through a new Admin client (one that never connected to the killed node), retried until
     * the new leader answers.
     */
    private static long earliestAfterFailover(TestCluster cluster) throws Exception {
        return eventually(() -> {
            try (Admin fresh = cluster.admin()) {
                return fresh.listOffsets(Map.of(TP, OffsetSpec.earliest())).partitionResult(TP)
                        .get(10, TimeUnit.SECONDS).offset();
            }
        });
    }

    /** Waits until Metadata names a leader other than {@code old} (which was killed). */
    private static int awaitNewLeader(TestCluster cluster, int old) throws Exception {
        return eventually(() -> {
            int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
            assertThat(leader).isNotEqualTo(old);
            return leader;
        });
    }

    private static KafkaConsumer<String, String> consumer(String bootstrap) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        return new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    }

    private static void assertFetchBelowStartIsOutOfRange(String bootstrap, long offset) {
        try (KafkaConsumer<String, String> consumer = consumer(bootstrap)) {
            consumer.assign(List.of(TP));
            consumer.seek(TP, offset);
            assertThatThrownBy(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200));
                }
            }).isInstanceOf(OffsetOutOfRangeException.class);
        }
    }

    /** The offset of the first record a consumer reading from the beginning gets (record i is at base + i). */
    private static long firstReadable(String bootstrap, long base) throws Exception {
        try (KafkaConsumer<String, String> consumer = consumer(bootstrap)) {
            consumer.assign(List.of(TP));
            consumer.seekToBeginning(List.of(TP));
            return eventually(() -> {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
                assertThat(records.isEmpty()).isFalse();
                ConsumerRecord<String, String> r = records.iterator().next();
                assertThat(r.value()).isEqualTo("r" + (r.offset() - base));
                return r.offset();
            });
        }
    }
}
