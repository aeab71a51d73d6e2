package io.fluxmq.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.RaftNodeConfig;
import io.fluxmq.raft.log.SegmentLogConfig;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A one-voter partition group on a real Ratis server: offsets, idempotence, restart. */
class PartitionReplicaIT {
    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final Uuid TOPIC_ID = Uuid.randomUuid();

    @TempDir
    Path dataDir;

    private RaftNode start(int port) throws Exception {
        RaftNode node = new RaftNode(new RaftNodeConfig(0, "127.0.0.1", port, dataDir, Duration.ofMillis(300),
                Duration.ofMillis(600), 1 << 20, SegmentLogConfig.defaults(), true, 50, 4096, false));
        node.register(spec());
        node.start();
        return node;
    }

    private static RaftNode.PartitionSpec spec() {
        return new RaftNode.PartitionSpec(TP, TOPIC_ID, new SegmentLogConfig(64 * 1024, 3_600_000, 4096, 1 << 20));
    }

    private static MemoryRecords batch(long pid, short epoch, int baseSeq, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(1000L + baseSeq + i, ("k" + (baseSeq + i)).getBytes(StandardCharsets.UTF_8),
                    ("v" + (baseSeq + i)).getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withIdempotentRecords(Compression.NONE, pid, epoch, baseSeq, records);
    }

    private static PartitionReplica awaitLeader(RaftNode node) throws InterruptedException {
        PartitionReplica replica = node.replica(TP);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!replica.isLeader() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(replica.isLeader()).isTrue();
        return replica;
    }

    private static PartitionError failure(PartitionReplica replica, MemoryRecords records) {
        assertThatThrownBy(() -> replica.append(records).join()).isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(PartitionException.class);
        try {
            replica.append(records).join();
            throw new AssertionError("append succeeded");
        } catch (CompletionException e) {
            return ((PartitionException) e.getCause()).error();
        }
    }

    @Test
    void offsetsIdempotenceAndRestart() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        RaftNode node = start(port);
        try {
            node.openLocalPartition(spec());
            PartitionReplica replica = awaitLeader(node);
            List<Long> offsets = new ArrayList<>();
            for (int b = 0; b < 200; b++) {
                offsets.add(replica.append(batch(1, (short) 0, b * 3, 3)).join().baseOffset());
            }
            assertThat(offsets.get(0)).isZero();
            assertThat(offsets.get(199)).isEqualTo(597);
            assertThat(replica.highWatermark()).isEqualTo(600);
            // A retry of one of the last five batches gets its original offset and appends nothing.
            assertThat(replica.append(batch(1, (short) 0, 597, 3)).join().baseOffset()).isEqualTo(597);
            assertThat(replica.highWatermark()).isEqualTo(600);
            assertThat(failure(replica, batch(1, (short) 0, 700, 3))).isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);
            // Snapshots every 50 entries let Ratis purge its log: record bytes are not kept twice.
            var raftLog = node.server().getDivision(replica.groupId()).getRaftLog();
            long purgeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (raftLog.getStartIndex() <= 0 && System.nanoTime() < purgeDeadline) {
                Thread.sleep(50);
            }
            assertThat(raftLog.getStartIndex()).as("Raft log start after snapshots").isPositive();
            // Leader epoch = Raft term is stamped into every batch.
            RecordBatch first = replica.read(0, 1 << 20, true).batches().iterator().next();
            assertThat(first.partitionLeaderEpoch()).isEqualTo(replica.leaderEpoch()).isPositive();
            assertThat(first.baseOffset()).isZero();
        } finally {
            node.close();
        }

        RaftNode again = start(port);
        try {
            PartitionReplica replica = awaitLeader(again);
            assertThat(replica.highWatermark()).isEqualTo(600);
            assertThat(replica.append(batch(1, (short) 0, 594, 3)).join().baseOffset())
                    .as("duplicate detected after restart").isEqualTo(594);
            assertThat(replica.append(batch(1, (short) 0, 600, 3)).join().baseOffset()).isEqualTo(600);
            assertThat(replica.append(batch(2, (short) 0, 603, 1)).join().baseOffset())
                    .as("a producer id the partition does not know may start at any sequence, as in Kafka")
                    .isEqualTo(603);
            assertThat(failure(replica, batch(2, (short) 0, 700, 1)))
                    .isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);
            long expected = 0;
            long offset = 0;
            while (offset < replica.highWatermark()) {
                MemoryRecords read = replica.read(offset, 4096, true);
                for (Record r : read.records()) {
                    assertThat(r.offset()).isEqualTo(expected);
                    assertThat(StandardCharsets.UTF_8.decode(r.value()).toString()).isEqualTo("v" + expected);
                    expected++;
                }
                offset = expected;
            }
            assertThat(expected).isEqualTo(604);
            assertThat(replica.offsetForTimestamp(1000L + 300).orElseThrow().offset()).isEqualTo(300);
            assertThat(replica.maxTimestamp().orElseThrow().timestamp()).isEqualTo(1000L + 603);
        } finally {
            again.close();
        }
    }

    @Test
    void batchesQueuedBehindAnEntryInFlightAreCoalescedAndKeepTheirOrder() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        RaftNode node = start(port);
        try {
            node.openLocalPartition(spec());
            PartitionReplica replica = awaitLeader(node);
            var raftLog = node.server().getDivision(replica.groupId()).getRaftLog();
            long indexBefore = raftLog.getLastEntryTermIndex().getIndex();
            int producers = 4;
            int batchesEach = 100;
            List<List<CompletableFuture<AppendResult>>> results = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                results.add(new ArrayList<>());
            }
            for (int b = 0; b < batchesEach; b++) { // without waiting: later batches queue behind the first entry
                for (int p = 0; p < producers; p++) {
                    results.get(p).add(replica.append(batch(10 + p, (short) 0, b * 3, 3)));
                }
            }
            List<Long> offsets = new ArrayList<>();
            for (List<CompletableFuture<AppendResult>> mine : results) {
                long previous = -1;
                for (CompletableFuture<AppendResult> r : mine) {
                    long offset = r.get(30, TimeUnit.SECONDS).baseOffset();
                    assertThat(offset).as("a producer's batches keep their order").isGreaterThan(previous);
                    previous = offset;
                    offsets.add(offset);
                }
            }
            assertThat(offsets).doesNotHaveDuplicates().hasSize(producers * batchesEach)
                    .allMatch(o -> o % 3 == 0 && o < 3L * producers * batchesEach);
            assertThat(replica.highWatermark()).isEqualTo(3L * producers * batchesEach);
            long entries = raftLog.getLastEntryTermIndex().getIndex() - indexBefore;
            assertThat(entries).as("Raft entries for %d batches", producers * batchesEach)
                    .isLessThan(producers * batchesEach);
            long expected = 0;
            while (expected < replica.highWatermark()) {
                for (Record r : replica.read(expected, 1 << 20, true).records()) {
                    assertThat(r.offset()).isEqualTo(expected++);
                }
            }
            // a retry of one of a producer's last five batches is a duplicate with its original offset
            assertThat(replica.append(batch(11, (short) 0, 97 * 3, 3)).join().baseOffset())
                    .isEqualTo(results.get(1).get(97).join().baseOffset());
        } finally {
            node.close();
        }
    }
}
