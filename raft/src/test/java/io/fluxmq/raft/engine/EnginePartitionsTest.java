package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raft.partition.ProducerStateTable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One node's {@link EnginePartitions} with single-member groups: a partition directory belongs to one topic id, so a
 * directory left by a deleted topic of the same name is discarded when the new topic's replica opens, and a
 * directory with data but no topic id is refused rather than guessed.
 */
class EnginePartitionsTest {

    private static final TopicPartition TP = new TopicPartition("orders", 0);
    private static final SegmentLogConfig CONFIG = new SegmentLogConfig(64 * 1024, Long.MAX_VALUE, 4096, 4096);

    @TempDir
    Path dir;

    private EnginePartitions start() throws IOException {
        return new EnginePartitions(new EnginePartitions.Settings(1, "engine-test", dir,
            new InetSocketAddress("127.0.0.1", 0), 1, 300, 50, 50, 200, 1 << 20,
            ProducerStateTable.DEFAULT_EXPIRATION_MS, 1000), node -> null).start();
    }

    private EnginePartitions startWithWal(long walSegmentBytes) throws IOException {
        return new EnginePartitions(new EnginePartitions.Settings(1, "engine-test", dir,
            new InetSocketAddress("127.0.0.1", 0), 1, 300, 50, 50, 200, 1 << 20,
            ProducerStateTable.DEFAULT_EXPIRATION_MS, 1000).withWal(walSegmentBytes), node -> null).start();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(path);
            }
        }
    }

    /**
     * Records acknowledged through the write-ahead log come back after the segments lost them (the partition's
     * directory put back as it was before they were appended, the write-ahead files as they were once they were
     * acknowledged), even when the node restarts with the write-ahead log turned off.
     */
    @Test
    void acknowledgedRecordsTheSegmentsLostAreReplayedFromTheWriteAheadLog() throws Exception {
        Uuid id = Uuid.randomUuid();
        Path before = dir.getParent().resolve(dir.getFileName() + "-before");
        Path walCopy = dir.getParent().resolve(dir.getFileName() + "-wal");
        long acknowledgedEnd;
        try (EnginePartitions node = startWithWal(1 << 20)) {
            EnginePartition p = ready(node.open(TP, id, CONFIG, Set.of(1), 1).get(10, TimeUnit.SECONDS));
            p.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("first".getBytes())))
                .get(10, TimeUnit.SECONDS);
            copyTree(dir.resolve("orders-0"), before);
            for (int i = 0; i < 5; i++) {
                p.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(("r" + i).getBytes()),
                    new SimpleRecord(("s" + i).getBytes()))).get(10, TimeUnit.SECONDS);
            }
            acknowledgedEnd = p.highWatermark();
            copyTree(dir.resolve(EnginePartitions.WAL_DIR), walCopy);
        }
        assertThat(dir.resolve(EnginePartitions.WAL_DIR)).as("a clean stop needs no replay").isEmptyDirectory();
        deleteTree(dir.resolve("orders-0"));
        copyTree(before, dir.resolve("orders-0"));
        copyTree(walCopy, dir.resolve(EnginePartitions.WAL_DIR));
        try (EnginePartitions node = start()) { // the write-ahead log turned off: its files are replayed still
            EnginePartition p = ready(node.open(TP, id, CONFIG, Set.of(1), 1).get(10, TimeUnit.SECONDS));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (p.highWatermark() < acknowledgedEnd + 1) { // + the new leader's entry
                assertThat(System.nanoTime()).as("every acknowledged record back, committed").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            java.util.List<Path> found;
            try (var files = Files.list(walCopy)) {
                found = files.map(f -> dir.resolve(EnginePartitions.WAL_DIR).resolve(f.getFileName())).toList();
            }
            assertThat(found).isNotEmpty();
            while (found.stream().anyMatch(Files::exists)) {
                assertThat(System.nanoTime()).as("the replayed files deleted").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
        }
    }

    private static EnginePartition ready(EnginePartition p) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!p.isLeader()) {
            assertThat(System.nanoTime()).as("the single member leads").isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        return p;
    }

    @Test
    void aDirectoryOfAnotherTopicIdIsDiscardedAndOneWithoutATopicIdIsRefused() throws Exception {
        Uuid first = Uuid.randomUuid();
        try (EnginePartitions node = start()) {
            EnginePartition p = ready(node.open(TP, first, CONFIG, Set.of(1), 1).get(10, TimeUnit.SECONDS));
            p.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("old".getBytes())))
                .get(10, TimeUnit.SECONDS);
            assertThat(p.highWatermark()).isGreaterThan(1);
        }
        try (EnginePartitions node = start()) { // same topic id: the data stays
            EnginePartition p = ready(node.open(TP, first, CONFIG, Set.of(1), 1).get(10, TimeUnit.SECONDS));
            assertThat(p.highWatermark()).isGreaterThan(1);
        }
        try (EnginePartitions node = start()) { // the topic was deleted and created again meanwhile
            EnginePartition p = ready(node.open(TP, Uuid.randomUuid(), CONFIG, Set.of(1), 1).get(10, TimeUnit.SECONDS));
            assertThat(p.logStartOffset()).isZero();
            assertThat(p.highWatermark()).as("only the new leader's entry").isEqualTo(1);
            assertThat(dir.resolve(EnginePartitions.TRASH_DIR)).as("the old replica renamed aside, then deleted")
                .isEmptyDirectory();
        }
        Files.delete(dir.resolve("orders-0").resolve(EnginePartitions.TOPIC_ID_FILE));
        try (EnginePartitions node = start()) {
            assertThatThrownBy(() -> node.open(TP, first, CONFIG, Set.of(1), 1).get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(IOException.class).hasMessageContaining(EnginePartitions.TOPIC_ID_FILE);
            assertThat(node.isHosted(TP)).as("a failed opening leaves nothing behind").isFalse();
            assertThat(node.openFound(CONFIG).get(10, TimeUnit.SECONDS)).as("nor does a restart guess").isEmpty();
        }
    }

    @Test
    void aRestartRunsTheReplicasFoundOnDiskWithTheirTopicsLogSettingsBeforeMetadataIsKnown() throws Exception {
        Uuid id = Uuid.randomUuid();
        SegmentLogConfig topics = new SegmentLogConfig(16 * 1024, 3_600_000, 1024, 2048);
        Path idFile = dir.resolve("orders-0").resolve(EnginePartitions.TOPIC_ID_FILE);
        try (EnginePartitions node = start()) {
            ready(node.open(TP, id, CONFIG, Set.of(1), 1).get(10, TimeUnit.SECONDS));
            assertThat(EnginePartitions.readIdentity(idFile).logConfig()).isEqualTo(CONFIG);
            node.reconfigure(TP, topics); // the topic's settings, once metadata is known
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!topics.equals(EnginePartitions.readIdentity(idFile).logConfig())) {
                assertThat(System.nanoTime()).as("the new settings recorded").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
        }
        try (EnginePartitions node = start()) {
            assertThat(node.openFound(CONFIG).get(10, TimeUnit.SECONDS)).containsExactly(TP); // the broker's defaults
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (node.partition(TP) == null) {
                assertThat(System.nanoTime()).as("opened").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            assertThat(node.logConfigOf(TP)).as("the settings the directory records").isEqualTo(topics);
            assertThat(EnginePartitions.readIdentity(idFile))
                .isEqualTo(new EnginePartitions.DirectoryIdentity(id, Set.of(1), topics));
        }
    }

    @Test
    void aRestartRunsTheReplicasFoundOnDiskWithTheirRecordedVoters() throws Exception {
        Uuid id = Uuid.randomUuid();
        TopicPartition other = new TopicPartition("orders-eu", 12);
        try (EnginePartitions node = start()) {
            for (TopicPartition tp : java.util.List.of(TP, other)) {
                EnginePartition p = ready(node.open(tp, id, CONFIG, Set.of(1), 1).get(10, TimeUnit.SECONDS));
                p.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("kept".getBytes())))
                    .get(10, TimeUnit.SECONDS);
            }
        }
        assertThat(EnginePartitions.readIdentity(dir.resolve("orders-eu-12").resolve(EnginePartitions.TOPIC_ID_FILE)))
            .isEqualTo(new EnginePartitions.DirectoryIdentity(id, Set.of(1), CONFIG));
        Files.writeString(dir.resolve("orders-0").resolve(EnginePartitions.TOPIC_ID_FILE), id.toString()); // older
        try (EnginePartitions node = start()) {
            assertThat(node.openFound(CONFIG).get(10, TimeUnit.SECONDS)).as("only the directory that records its voters")
                .containsExactly(other);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (node.partition(other) == null) {
                assertThat(System.nanoTime()).as("opened").isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            EnginePartition p = ready(node.partition(other));
            assertThat(p.highWatermark()).as("its record and both leaders' entries").isGreaterThan(2);
            assertThat(node.topicIdOf(other)).isEqualTo(id);
            assertThat(node.partition(TP)).isNull();
        }
    }
}
