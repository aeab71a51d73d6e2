package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.RaftNode;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower that was down while the leader purged its Raft log catches up by installing a snapshot fetched from
 * the leader (snapshot file + segment bytes); its segment files then match the leader's byte for byte.
 */
class SnapshotCatchUpIT {
    private static final String TOPIC = "catchup";

    @Test
    void followerBehindThePurgePointInstallsASnapshot(@TempDir Path dir) throws Exception {
        // Ratis only: it is about Ratis purging its own Raft log (entry headers) to a snapshot while the segments stay,
        // which the multi-Raft engine cannot do (its segment log is the Raft log; nothing is purged but by retention).
        // LongOutageIT covers the multi-Raft catch-up by snapshot, after retention deleted what a follower lacked.
        Map<String, String> settings = Map.of("raft.snapshot.interval.entries", "100",
                "raft.log.segment.bytes", "8192", "raft.log.purge.upto.snapshot", "true",
                "leader.balance.interval.ms", "3600000", NodeConfig.PARTITION_ENGINE, NodeConfig.RATIS);
        try (TestCluster cluster = TestCluster.start(3, dir, settings)) {
            cluster.createTopic(TOPIC, 1, (short) 3);
            Uuid topicId = cluster.awaitTopicId(TOPIC, Duration.ofSeconds(30));
            int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
            int follower = (leader + 1) % 3;
            cluster.node(follower).kill();

            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of())) {
                for (int i = 0; i < 2000; i++) {
                    producer.send(new ProducerRecord<>(TOPIC, "k" + i, "value-" + i)).get();
                }
            }
            Path leaderLog = dir.resolve("node-" + leader).resolve("raft")
                    .resolve(RaftNode.groupId(topicId, 0).getUuid().toString()).resolve("current");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (firstLogIndex(leaderLog) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(firstLogIndex(leaderLog)).as("the leader purged the start of its Raft log").isPositive();

            cluster.restart(follower);
            Path followerLog = Path.of("target", "node-logs", "cluster-node-" + follower + ".log");
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(followerLog).contains("installed snapshot") && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(Files.readString(followerLog)).contains("Partition " + TOPIC + "-0 installed snapshot");

            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of())) {
                for (int i = 2000; i < 2100; i++) {
                    producer.send(new ProducerRecord<>(TOPIC, "k" + i, "value-" + i)).get();
                }
            }
            var read = Clients.readAll(cluster.bootstrap(), TOPIC, 1, Duration.ofSeconds(60))
                    .get(new TopicPartition(TOPIC, 0));
            assertThat(read).hasSize(2100);
            Thread.sleep(3000);
            for (int i = 0; i < 3; i++) {
                cluster.node(i).stop();
            }
            byte[] leaderSegments = segments(dir.resolve("node-" + leader));
            assertThat(segments(dir.resolve("node-" + follower))).as("caught-up follower matches the leader")
                    .isEqualTo(leaderSegments);
            assertThat(segments(dir.resolve("node-" + (leader + 2) % 3))).isEqualTo(leaderSegments);
        }
    }

    /** The first index of the Ratis log in a group's {@code current} directory (0 while nothing was purged). */
    private static long firstLogIndex(Path current) throws Exception {
        if (!Files.isDirectory(current)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(current)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("log_"))
                    .map(n -> n.replace("log_inprogress_", "").replace("log_", "").split("-")[0])
                    .mapToLong(Long::parseLong).min().orElse(0);
        }
    }

    private static byte[] segments(Path nodeDir) throws Exception {
        Path partition = nodeDir.resolve("topics").resolve(TOPIC + "-0");
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        try (Stream<Path> files = Files.list(partition)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".log")).sorted().toList()) {
                all.write(Files.readAllBytes(f));
            }
        }
        return all.toByteArray();
    }
}
