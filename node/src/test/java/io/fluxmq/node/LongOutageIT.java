package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.RaftNode;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower is down while retention deletes segments the follower never received and the leader purges its Raft
 * log. After its restart it catches up through a snapshot; then every replica has the same log start offset and
 * byte-identical segment files, and every record from the log start on is readable.
 */
class LongOutageIT {
    private static final String TOPIC = "outage";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

    @Test
    void followerDownWhileRetentionDeletesCatchesUpBySnapshot(@TempDir Path dir) throws Exception {
        Map<String, String> settings = Map.of("raft.snapshot.interval.entries", "100",
                "raft.log.segment.bytes", "8192", "log.retention.check.interval.ms", "200",
                "leader.balance.interval.ms", "3600000");
        try (TestCluster cluster = TestCluster.start(3, dir, settings)) {
            try (Admin admin = cluster.admin()) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 3).configs(Map.of(
                        "segment.bytes", "65536", "retention.bytes", "100000")))).all().get();
            }
            Uuid topicId = cluster.awaitTopicId(TOPIC, Duration.ofSeconds(30));
            int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
            int follower = (leader + 1) % 3;
            produce(cluster, 0, 500);
            cluster.node(follower).kill();

            produce(cluster, 500, 8000);
            awaitCondition("the leader moved the log start past what the follower has", Duration.ofSeconds(60),
                    () -> earliestOffset(cluster) > 0 && firstSegmentBase(dir, leader) > 0);
            if (PartitionDirs.isMultiRaft(dir.resolve("node-" + leader))) {
                // The segment log is the Raft log there: retention moving its start past the follower's end (checked
                // above) is the purge, so the follower can only catch up through a snapshot.
                System.out.printf("log start %d, leader's first segment (= its Raft log start) %d%n",
                        earliestOffset(cluster), firstSegmentBase(dir, leader));
            } else {
                Path leaderLog = dir.resolve("node-" + leader).resolve("raft")
                        .resolve(RaftNode.groupId(topicId, 0).getUuid().toString()).resolve("current");
                awaitCondition("the leader purged the start of its Raft log", Duration.ofSeconds(30),
                        () -> firstLogIndex(leaderLog) > 0);
                System.out.printf("log start %d, leader's first segment %d, leader's Raft log starts at index %d%n",
                        earliestOffset(cluster), firstSegmentBase(dir, leader), firstLogIndex(leaderLog));
            }

            cluster.restart(follower);
            Path followerLog = Path.of("target", "node-logs", "cluster-node-" + follower + ".log");
            awaitCondition("the follower installed a snapshot", Duration.ofSeconds(60),
                    () -> read(followerLog).contains("Partition " + TOPIC + "-0 installed snapshot"));
            produce(cluster, 8000, 8100);

            long start = earliestOffset(cluster);
            List<ConsumerRecord<String, String>> records = readFrom(cluster, start);
            assertThat(records).as("records from the log start %d", start).isNotEmpty();
            // On the multi-Raft engine each leader term's LEADER_CHANGE control batch takes an offset (consumers skip
            // it): values follow one another without a gap while offsets may skip; on Ratis value n is at offset n.
            boolean multiRaft = PartitionDirs.isMultiRaft(dir.resolve("node-" + leader));
            assertThat(records.get(0).offset()).as("first record at the log start").isEqualTo(start);
            long first = Long.parseLong(records.get(0).value().substring("value-".length()));
            for (int i = 0; i < records.size(); i++) {
                if (multiRaft) {
                    assertThat(records.get(i).offset()).isGreaterThanOrEqualTo(start + i);
                    assertThat(records.get(i).value()).isEqualTo("value-" + (first + i));
                } else {
                    assertThat(records.get(i).offset()).isEqualTo(start + i);
                    assertThat(records.get(i).value()).isEqualTo("value-" + (start + i));
                }
            }
            assertThat(records.get(records.size() - 1).value()).isEqualTo("value-8099");

            try {
                awaitCondition("every replica holds the same segment files", Duration.ofSeconds(60),
                        () -> segments(dir, 0).equals(segments(dir, 1)) && segments(dir, 1).equals(segments(dir, 2)));
            } catch (AssertionError e) {
                for (int i = 0; i < 3; i++) {
                    System.out.println("node " + i + " segments: " + segments(dir, i));
                }
                throw e;
            }
            // Followers first: a leader stopped before them would leave them to elect another, and on the multi-Raft
            // engine that election's LEADER_CHANGE batch would be in their logs only.
            int last = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
            for (int i = 1; i <= 3; i++) {
                cluster.node((last + i) % 3).stop();
            }
            Map<String, String> leaderFiles = segments(dir, leader);
            assertThat(leaderFiles.keySet().iterator().next())
                    .as("first segment is the log start").isEqualTo(String.format("%020d.log", start));
            for (int i = 0; i < 3; i++) {
                assertThat(segments(dir, i)).as("segments of node %d", i).isEqualTo(leaderFiles);
            }
        }
    }

    private static void produce(TestCluster cluster, int from, int to) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of())) {
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            for (int i = from; i < to; i++) {
                sends.add(producer.send(new ProducerRecord<>(TOPIC, "k" + i, "value-" + i)));
                if (sends.size() % 10 == 0) { // small batches: many Raft entries, so the leader snapshots and purges
                    producer.flush();
                }
            }
            producer.flush();
            for (Future<RecordMetadata> f : sends) {
                f.get();
            }
        }
    }

    private static KafkaConsumer<String, String> consumer(TestCluster cluster) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        return new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    }

    private static long earliestOffset(TestCluster cluster) {
        try (KafkaConsumer<String, String> consumer = consumer(cluster)) {
            return consumer.beginningOffsets(List.of(TP)).get(TP);
        }
    }

    private static List<ConsumerRecord<String, String>> readFrom(TestCluster cluster, long start) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer(cluster)) {
            consumer.assign(List.of(TP));
            consumer.seek(TP, start);
            long end = consumer.endOffsets(List.of(TP)).get(TP);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (consumer.position(TP) < end && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private static void awaitCondition(String what, Duration timeout, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            Thread.sleep(200);
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (Exception e) {
            return "";
        }
    }

    private static long firstSegmentBase(Path dir, int node) {
        Map<String, String> files = segments(dir, node);
        return files.isEmpty() ? -1 : Long.parseLong(files.keySet().iterator().next().substring(0, 20));
    }

    /** Segment .log file name to its content (trailing zeros of a pre-sized active segment removed). */
    private static Map<String, String> segments(Path dir, int node) {
        Path partition = PartitionDirs.of(dir.resolve("node-" + node), TOPIC, 0);
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(partition)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".log")).sorted().toList()) {
                byte[] bytes = Files.readAllBytes(f);
                int end = bytes.length;
                while (end > 0 && bytes[end - 1] == 0) {
                    end--;
                }
                ByteArrayOutputStream content = new ByteArrayOutputStream();
                content.write(bytes, 0, end);
                out.put(f.getFileName().toString(), java.util.HexFormat.of().formatHex(
                        java.security.MessageDigest.getInstance("SHA-256").digest(content.toByteArray())));
            }
        } catch (Exception e) {
            return Map.of("unreadable", e.toString());
        }
        return out;
    }

    private static long firstLogIndex(Path current) {
        if (!Files.isDirectory(current)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(current)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("log_"))
                    .map(n -> n.replace("log_inprogress_", "").replace("log_", "").split("-")[0])
                    .mapToLong(Long::parseLong).min().orElse(0);
        } catch (Exception e) {
            return 0;
        }
    }
}
