package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Log compaction on a three-process cluster with real Kafka clients: a topic switched to {@code cleanup.policy=compact}
 * by IncrementalAlterConfigs receives many updates per key and tombstones; every replica's cleaner compacts its own
 * segment files (read from each node's data directory) to one record per live key, with the tombstones gone after
 * {@code delete.retention.ms}; a consumer reading from the beginning sees each key's latest value; a record without
 * a key is refused with INVALID_RECORD, as Kafka does on compacted topics. On both partition engines; on
 * {@code multiraft}, where the segment log is the Raft log, every replica also keeps the same batches (offset ranges and
 * leader epochs), emptied ones as empty batches.
 */
class CompactionIT {
    private static final String TOPIC = "compacted";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final int KEYS = 20;
    private static final int UPDATES = 40;
    private static final int DELETED = 5;
    private static final int FILLER = 150;
    /** On Ratis (the methods on multiraft use {@link #MULTIRAFT}). */
    private static final Map<String, String> SETTINGS = Map.of(NodeConfig.PARTITION_ENGINE, NodeConfig.RATIS,
            // frequent Raft snapshots and small Raft log segments, so the entries of cleaned offsets are purged soon
            // (the cleaner only rewrites offsets whose Raft entries are gone)
            "raft.snapshot.interval.entries", "20", "raft.log.segment.bytes", "2048",
            "log.cleaner.backoff.ms", "300", "log.cleaner.io.max.bytes.per.second", "2000000");

    private static final Map<String, String> MULTIRAFT = Map.of(NodeConfig.PARTITION_ENGINE, NodeConfig.MULTIRAFT,
            "log.cleaner.backoff.ms", "300", "log.cleaner.io.max.bytes.per.second", "2000000");

    @Test
    void everyReplicaCompactsToTheLastValueOfEveryKey(@TempDir Path dir) throws Exception {
        everyReplicaCompacts(dir, SETTINGS);
    }

    @Test
    void everyReplicaCompactsToTheLastValueOfEveryKeyOnMultiRaft(@TempDir Path dir) throws Exception {
        everyReplicaCompacts(dir, MULTIRAFT);
    }

    private static boolean multiRaft(Map<String, String> settings) {
        return NodeConfig.MULTIRAFT.equals(settings.getOrDefault(NodeConfig.PARTITION_ENGINE,
                NodeProcess.testEngine()));
    }

    private static void everyReplicaCompacts(Path dir, Map<String, String> settings) throws Exception {
        boolean multiRaft = multiRaft(settings);
        try (TestCluster cluster = TestCluster.start(3, dir, settings); Admin admin = cluster.admin()) {
            createCompactedTopic(cluster, admin);
            Map<String, String> expected = produceUpdates(cluster);
            long written = (long) KEYS * UPDATES + DELETED + FILLER;

            for (int node = 0; node < 3; node++) {
                Map<String, Integer> perKey = awaitOneRecordPerKey(cluster, dir, node, multiRaft,
                        expected.keySet(), Duration.ofSeconds(120));
                assertThat(perKey).as("records per key on node %d", node)
                        .containsOnlyKeys(expected.keySet().toArray(String[]::new));
            }
            if (multiRaft) {
                awaitSameBatches(dir, Duration.ofSeconds(60));
            }

            List<ConsumerRecord<String, String>> read = Clients.readAll(cluster.bootstrap(), TOPIC, 1,
                    Duration.ofSeconds(60)).get(TP);
            Map<String, String> latest = new TreeMap<>();
            Map<String, Integer> seen = new HashMap<>();
            for (ConsumerRecord<String, String> r : read) {
                seen.merge(r.key(), 1, Integer::sum);
                if (r.value() == null) {
                    latest.remove(r.key());
                } else {
                    latest.put(r.key(), r.value());
                }
            }
            assertThat(latest).isEqualTo(expected);
            assertThat(seen.values()).as("a consumer from the beginning sees one record per key").containsOnly(1);
            ConsumerRecord<String, String> last = read.get(read.size() - 1);
            assertThat(last.key()).isEqualTo("filler-" + (FILLER - 1));
            if (!multiRaft) { // on multiraft, leader changes and other control entries take offsets too
                assertThat(last.offset()).isEqualTo(written - 1);
            }
            assertThat(read.size()).isLessThan((int) written / 5);
        }
    }

    /**
     * Sends {@value #UPDATES} updates of each of {@value #KEYS} keys, tombstones for the first {@value #DELETED} keys,
     * then {@value #FILLER} records of keys written once; checks that a record without a key is refused. Returns the
     * latest value of every live key.
     */
    private static Map<String, String> produceUpdates(TestCluster cluster) throws Exception {
        Map<String, String> expected = new TreeMap<>();
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(),
                Map.of(ProducerConfig.LINGER_MS_CONFIG, 0, ProducerConfig.ACKS_CONFIG, "all"))) {
            for (int u = 0; u < UPDATES; u++) {
                for (int k = 0; k < KEYS; k++) {
                    String value = "value-" + u + "-of-key-" + k;
                    producer.send(new ProducerRecord<>(TOPIC, 0, "key-" + k, value));
                    expected.put("key-" + k, value);
                }
                producer.flush();
            }
            for (int k = 0; k < DELETED; k++) {
                producer.send(new ProducerRecord<>(TOPIC, 0, "key-" + k, null)).get(30, TimeUnit.SECONDS);
                expected.remove("key-" + k);
            }
            // one entry each, on keys written once: they push the updates out of the active segment and the
            // Raft log, and leave nothing to compact behind them
            for (int f = 0; f < FILLER; f++) {
                producer.send(new ProducerRecord<>(TOPIC, 0, "filler-" + f, "f" + f)).get(30, TimeUnit.SECONDS);
                expected.put("filler-" + f, "f" + f);
            }
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(TOPIC, 0, null, "no key"))
                    .get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(InvalidRecordException.class);
        }
        return expected;
    }

    /**
     * Creates the one-partition RF=3 topic with 4 KiB segments, waits for its leader and switches it to compaction;
     * returns the leader.
     */
    private static int createCompactedTopic(TestCluster cluster, Admin admin) throws Exception {
        admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 3).configs(Map.of(
                "segment.bytes", "4096", "max.message.bytes", "4096")))).all().get(60, TimeUnit.SECONDS);
        int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
        configureCompaction(cluster, admin);
        return leader;
    }

    private static void configureCompaction(TestCluster cluster, Admin admin) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC);
        admin.incrementalAlterConfigs(Map.of(resource, List.of(
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("min.cleanable.dirty.ratio", "0.01"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("delete.retention.ms", "2000"), AlterConfigOp.OpType.SET))))
                .all().get(60, TimeUnit.SECONDS);
        // every node, the leader among them, applies the change before the updates (and the keyless record the
        // leader must refuse) are sent; a node that answered DescribeConfigs right away once still said "delete"
        cluster.awaitTopicConfigOnEveryNode(TOPIC, "cleanup.policy", "compact", Duration.ofSeconds(30));
    }

    private static Path partitionDir(Path dir, int node, boolean multiRaft) {
        return dir.resolve("node-" + node).resolve(multiRaft ? "multiraft" : "topics").resolve(TOPIC + "-0");
    }

    /**
     * A replica that was down while the leader compacted catches up by installing a snapshot and copying the leader's
     * compacted segments (gaps between batches and all), and ends with one record per key too, in segments that start
     * where the leader's do.
     */
    @Test
    void aReplicaThatWasDownCopiesTheCompactedLogFromTheLeader(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, SETTINGS); Admin admin = cluster.admin()) {
            int leader = createCompactedTopic(cluster, admin);
            int down = (leader + 1) % 3;
            cluster.node(down).kill();

            Map<String, String> expected = produceUpdates(cluster);
            int now = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
            boolean multiRaft = multiRaft(SETTINGS);
            awaitOneRecordPerKey(cluster, dir, now, multiRaft, expected.keySet(), Duration.ofSeconds(120));

            cluster.restart(down);
            assertThat(awaitOneRecordPerKey(cluster, dir, down, multiRaft, expected.keySet(),
                    Duration.ofSeconds(120))).as("records per key on the replica that was down").containsOnlyKeys(
                            expected.keySet().toArray(String[]::new));
            awaitSameSegments(partitionDir(dir, down, multiRaft), partitionDir(dir, now, multiRaft),
                    Duration.ofSeconds(60));
        }
    }

    /**
     * Waits until both replicas' segment files start at the same offsets: the copy rolls where the leader's segments
     * start, and each replica's cleaner then groups the same segments the same way.
     */
    private static void awaitSameSegments(Path copy, Path leader, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> mine = List.of();
        List<String> theirs = List.of();
        while (System.nanoTime() < deadline) {
            mine = logFiles(copy);
            theirs = logFiles(leader);
            if (mine.equals(theirs)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("segments of the copy " + mine + ", of the leader " + theirs);
    }

    private static List<String> logFiles(Path partition) throws IOException {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(partition)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".log")).sorted().toList();
        }
    }

    /**
     * On multiraft a replica that was down while the others compacted catches up through the Raft log: the leader
     * sends it the compacted entries (empty batches and all), which it appends as they are. Afterwards every replica
     * holds the same batches, one record per key, and each key's latest value, and so does a consumer.
     */
    @Test
    void aReplicaThatWasDownTakesTheCompactedEntriesOnMultiRaft(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, MULTIRAFT); Admin admin = cluster.admin()) {
            int leader = createCompactedTopic(cluster, admin);
            int down = (leader + 1) % 3;
            cluster.node(down).kill();

            Map<String, String> expected = produceUpdates(cluster);
            for (int node = 0; node < 3; node++) {
                if (node != down) {
                    awaitOneRecordPerKey(cluster, dir, node, true, expected.keySet(), Duration.ofSeconds(120));
                }
            }
            cluster.restart(down);
            for (int node = 0; node < 3; node++) {
                awaitOneRecordPerKey(cluster, dir, node, true, expected.keySet(), Duration.ofSeconds(120));
                assertThat(latestPerKey(partitionDir(dir, node, true))).as("each key's latest value on node %d", node)
                        .isEqualTo(expected);
            }
            awaitSameBatches(dir, Duration.ofSeconds(60));

            Map<String, String> consumed = new TreeMap<>();
            for (ConsumerRecord<String, String> r : Clients.readAll(cluster.bootstrap(), TOPIC, 1,
                    Duration.ofSeconds(60)).get(TP)) {
                consumed.put(r.key(), r.value());
            }
            assertThat(consumed).isEqualTo(expected);
        }
    }

    /** The value of every key's latest record in a partition's segment files, read once no swap got in the way. */
    private static Map<String, String> latestPerKey(Path partition) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Map<String, String> latest = new TreeMap<>();
            try {
                forEachBatch(partition, batch -> {
                    if (!batch.isControlBatch()) {
                        for (Record record : batch) {
                            latest.put(new String(Utils.toArray(record.key()), StandardCharsets.UTF_8),
                                    record.hasValue() ? new String(Utils.toArray(record.value()),
                                            StandardCharsets.UTF_8) : null);
                        }
                    }
                });
                return latest;
            } catch (IOException e) { // a segment swapped while listed: look again
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }

    /**
     * Waits until the multiraft replicas of every node hold the same batches: the same base and last offsets and
     * leader epochs, one Raft entry each, however much each replica's cleaner took out of them.
     */
    private static void awaitSameBatches(Path dir, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<List<String>> perNode = List.of();
        while (System.nanoTime() < deadline) {
            try {
                List<List<String>> found = new ArrayList<>();
                for (int node = 0; node < 3; node++) {
                    List<String> batches = new ArrayList<>();
                    forEachBatch(partitionDir(dir, node, true), batch -> batches.add(batch.baseOffset() + ".."
                            + batch.lastOffset() + "@" + batch.partitionLeaderEpoch()));
                    found.add(batches);
                }
                perNode = found;
            } catch (IOException e) { // a segment swapped while listed: look again
                continue;
            }
            boolean contiguous = perNode.stream().allMatch(CompactionIT::contiguous);
            if (contiguous && perNode.get(1).equals(perNode.get(0)) && perNode.get(2).equals(perNode.get(0))) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("replicas do not hold the same contiguous batches within " + timeout + ": "
                + perNode);
    }

    private static boolean contiguous(List<String> batches) {
        long next = 0;
        for (String b : batches) {
            long base = Long.parseLong(b.substring(0, b.indexOf('.')));
            if (base != next) {
                return false;
            }
            next = Long.parseLong(b.substring(b.indexOf("..") + 2, b.indexOf('@'))) + 1;
        }
        return true;
    }

    /**
     * Waits until the partition's segment files on one node hold exactly one record for each of {@code keys} and none
     * for any other key; returns the count of records per key found last.
     */
    /**
     * {@link #awaitOneRecordPerKey(Path, Set, Duration)} on a node's replica; a failure quotes what that node's log said
     * about the partition's cleaning and catch-up (the cleaner logs why a pass did nothing at DEBUG in tests).
     */
    private static Map<String, Integer> awaitOneRecordPerKey(TestCluster cluster, Path dir, int node, boolean multiRaft,
                                                             Set<String> keys, Duration timeout) throws Exception {
        try {
            return awaitOneRecordPerKey(partitionDir(dir, node, multiRaft), keys, timeout);
        } catch (AssertionError e) {
            List<String> lines = cluster.node(node).log().lines()
                    .filter(l -> l.contains(TOPIC + "-0") || l.contains("Log cleaning")).toList();
            throw new AssertionError(e.getMessage() + "\nnode " + node + "'s last lines on the partition:\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())), e);
        }
    }

    private static Map<String, Integer> awaitOneRecordPerKey(Path partition, Set<String> keys,
                                                             Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Integer> perKey = Map.of();
        while (System.nanoTime() < deadline) {
            try {
                perKey = recordsPerKey(partition);
            } catch (IOException e) { // a segment swapped while listed: look again
                continue;
            }
            if (perKey.keySet().equals(keys) && perKey.values().stream().allMatch(n -> n == 1)) {
                return perKey;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("segments in " + partition + " did not compact to one record per key within "
                + timeout + "; records per key: " + new TreeMap<>(perKey));
    }

    /** Counts the records of every key in the {@code .log} files of a partition directory (tombstones included). */
    static Map<String, Integer> recordsPerKey(Path partition) throws IOException {
        Map<String, Integer> perKey = new HashMap<>();
        forEachBatch(partition, batch -> {
            if (!batch.isControlBatch()) {
                for (Record record : batch) {
                    perKey.merge(new String(Utils.toArray(record.key()), StandardCharsets.UTF_8), 1, Integer::sum);
                }
            }
        });
        return perKey;
    }

    /** Every batch of the {@code .log} files of a partition directory, in offset order. */
    private static void forEachBatch(Path partition, Consumer<MutableRecordBatch> action) throws IOException {
        List<Path> logs = new ArrayList<>();
        try (Stream<Path> files = Files.list(partition)) {
            files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().forEach(logs::add);
        }
        for (Path log : logs) {
            ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(log));
            // the active segment is pre-sized: its batches end where a zero length starts
            for (int pos = 0; pos + 12 <= data.limit() && data.getInt(pos + 8) > 0; pos += data.getInt(pos + 8) + 12) {
                int size = data.getInt(pos + 8) + 12;
                if (pos + size > data.limit()) {
                    break;
                }
                for (MutableRecordBatch batch : MemoryRecords.readableRecords(data.slice(pos, size)).batches()) {
                    action.accept(batch);
                }
            }
        }
    }
}
