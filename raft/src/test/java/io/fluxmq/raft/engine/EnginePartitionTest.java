package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raft.log.CleanerThrottle;
import io.fluxmq.raft.log.CompactionPolicy;
import io.fluxmq.raft.log.LogCleaner;
import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raft.partition.AppendResult;
import io.fluxmq.raft.partition.PartitionError;
import io.fluxmq.raft.partition.PartitionException;
import io.fluxmq.raft.partition.ProducerStateTable;
import io.fluxmq.raft.partition.TxnIndex;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.engine.EngineConfig;
import io.fluxmq.raftcore.engine.RaftEngine;
import io.fluxmq.raftcore.engine.Transport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.compress.Compression;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link EnginePartition} on three {@link RaftEngine}s in one JVM (an in-JVM network, segment logs and hard-state
 * files on disk): real Kafka batches are produced to the leader and read back, idempotent duplicates get the
 * original's offset, out-of-order sequences and fenced epochs are refused with Kafka's errors, transaction markers
 * move the last stable offset and record aborted transactions, and after the leader's node stops (and after every node
 * restarts from disk) the new leader holds every acknowledged batch and still recognises duplicates.
 */
class EnginePartitionTest {

    private static final Set<Integer> NODES = new TreeSet<>(List.of(1, 2, 3));
    private static final SegmentLogConfig CONFIG = new SegmentLogConfig(64 * 1024, Long.MAX_VALUE, 4096, 4096);
    private static final TopicPartition TP = new TopicPartition("orders", 0);
    private static final long GROUP = 7;

    @TempDir
    Path dir;
    private final Map<Integer, RaftEngine> engines = new ConcurrentHashMap<>();
    private final Map<Integer, EnginePartition> partitions = new ConcurrentHashMap<>();
    private final Map<Integer, SegmentRaftLog> logs = new ConcurrentHashMap<>();

    @AfterEach
    void stopAll() throws Exception {
        for (int node : new ArrayList<>(engines.keySet())) {
            stop(node);
        }
    }

    private void stop(int node) throws Exception {
        engines.remove(node).close();
        partitions.remove(node);
        logs.remove(node).close();
    }

    private void start(int node) throws Exception {
        start(node, NODES, 500);
    }

    private void start(int node, Set<Integer> voters, long electionTimeoutMs) throws Exception {
        Transport transport = (to, batch) -> {
            RaftEngine peer = engines.get(to);
            if (peer != null && engines.containsKey(node)) {
                peer.receive(node, List.copyOf(batch));
            }
        };
        Path nodeDir = dir.resolve("node-" + node);
        FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(nodeDir.resolve("raft-hard-state")));
        RaftEngine engine = new RaftEngine(new EngineConfig(node, 2, 50, 300), transport, storage).start();
        SegmentRaftLog log = SegmentRaftLog.open(nodeDir.resolve("orders-0"), CONFIG, System::currentTimeMillis);
        EnginePartition partition = new EnginePartition(TP, GROUP, engine, log, 1 << 20,
            ProducerStateTable.DEFAULT_EXPIRATION_MS);
        engines.put(node, engine);
        logs.put(node, log);
        partitions.put(node, partition);
        engine.addGroup(GROUP, new RaftConfig(node, voters, electionTimeoutMs, 50, 8, 1 << 20), log,
            storage.initialHardState(GROUP, log), partition.commitOffsetToStartFrom(), partition)
            .get(10, TimeUnit.SECONDS);
    }

    private void startAll() throws Exception {
        for (int node : NODES) {
            start(node);
        }
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /** The node whose replica is the ready leader, waiting for one. */
    private EnginePartition leader() {
        EnginePartition[] found = new EnginePartition[1];
        await("a ready leader", Duration.ofSeconds(10), () -> {
            for (EnginePartition p : partitions.values()) {
                if (p.isLeader()) {
                    found[0] = p;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    private int leaderNode() {
        EnginePartition leader = leader();
        return partitions.entrySet().stream().filter(e -> e.getValue() == leader).findFirst().orElseThrow().getKey();
    }

    private static MemoryRecords idempotent(long producerId, short epoch, int sequence, String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(1_000L + i, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch, sequence, records);
    }

    private static MemoryRecords transactional(long producerId, short epoch, int sequence, String value) {
        return MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, epoch, sequence,
            new SimpleRecord(1_000L, value.getBytes(StandardCharsets.UTF_8)));
    }

    private static MemoryRecords plain(String value) {
        return MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(1_000L, value.getBytes(StandardCharsets.UTF_8)));
    }

    private static AppendResult join(CompletableFuture<AppendResult> future) throws Exception {
        return future.get(10, TimeUnit.SECONDS);
    }

    private static PartitionError errorOf(CompletableFuture<AppendResult> future) {
        try {
            future.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException && e.getCause().getCause() != null
                ? e.getCause().getCause() : e.getCause();
            assertThat(cause).isInstanceOf(PartitionException.class);
            return ((PartitionException) cause).error();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("the append succeeded");
    }

    /** The values of the data records readable from {@code partition} from {@code offset}, control batches skipped. */
    private static List<String> values(EnginePartition partition, long offset) {
        List<String> values = new ArrayList<>();
        long next = offset;
        while (next < partition.highWatermark()) {
            MemoryRecords records = partition.read(next, 1 << 20, true);
            for (RecordBatch batch : records.batches()) {
                assertThat(batch.partitionLeaderEpoch()).isPositive();
                if (!batch.isControlBatch()) {
                    for (Record record : batch) {
                        values.add(StandardCharsets.UTF_8.decode(record.value()).toString());
                    }
                }
                next = batch.nextOffset();
            }
        }
        return values;
    }

    @Test
    void writesThatComeBeforeTheFirstElectionWaitForItInOrder() throws Exception {
        // one voter: it elects itself when its election timeout (2 s) runs out, and nothing else happens meanwhile
        start(1, Set.of(1), 2_000);
        EnginePartition partition = partitions.get(1);
        assertThat(partition.leader()).as("no leader yet").isEqualTo(io.fluxmq.raftcore.RaftGroup.NO_LEADER);
        // a new idempotent producer's first two batches, sent back to back before the replica leads: refusing the
        // first and taking the second once elected would leave a gap the producer could never fill
        CompletableFuture<AppendResult> first = partition.append(idempotent(42, (short) 0, 0, "a"));
        CompletableFuture<AppendResult> second = partition.append(idempotent(42, (short) 0, 1, "b"));
        assertThat(first).as("waiting for the election").isNotDone();
        AppendResult a = join(first);
        assertThat(join(second).baseOffset()).isEqualTo(a.baseOffset() + 1);
        assertThat(values(partition, 0)).containsExactly("a", "b");
    }

    @Test
    void producesReadsAndRecognisesDuplicates() throws Exception {
        startAll();
        EnginePartition leader = leader();
        AppendResult first = join(leader.append(idempotent(42, (short) 0, 0, "a", "b", "c")));
        AppendResult second = join(leader.append(idempotent(42, (short) 0, 3, "d")));
        assertThat(second.baseOffset()).isEqualTo(first.baseOffset() + 3);
        join(leader.append(plain("e")));

        // a retry of the first batch is a duplicate: the original's offset, nothing written
        long end = leader.highWatermark();
        assertThat(join(leader.append(idempotent(42, (short) 0, 0, "a", "b", "c"))).baseOffset())
            .isEqualTo(first.baseOffset());
        assertThat(errorOf(leader.append(idempotent(42, (short) 0, 9, "x")))).isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);
        assertThat(leader.highWatermark()).isEqualTo(end);

        // a newer epoch fences the older one
        join(leader.append(idempotent(42, (short) 1, 0, "f")));
        assertThat(errorOf(leader.append(idempotent(42, (short) 0, 4, "g")))).isEqualTo(PartitionError.INVALID_PRODUCER_EPOCH);

        assertThat(values(leader, 0)).containsExactly("a", "b", "c", "d", "e", "f");
        assertThat(leader.leaderEpoch()).isPositive();
        assertThat(leader.endOffsetForEpoch(leader.leaderEpoch())).containsExactly(leader.leaderEpoch(),
            leader.highWatermark());
        // every replica applies the same entries
        long hw = leader.highWatermark();
        await("followers apply up to " + hw, Duration.ofSeconds(5),
            () -> partitions.values().stream().allMatch(p -> p.highWatermark() >= hw));
        for (EnginePartition p : partitions.values()) {
            assertThat(values(p, 0)).containsExactly("a", "b", "c", "d", "e", "f");
        }
        assertThatThrownBy(() -> leader.read(hw + 1, 100, true)).isInstanceOf(PartitionException.class)
            .extracting(e -> ((PartitionException) e).error()).isEqualTo(PartitionError.OFFSET_OUT_OF_RANGE);
        assertThat(leader.append(MemoryRecords.withEndTransactionMarker(1L, 42, (short) 1,
            new org.apache.kafka.common.record.EndTransactionMarker(
                org.apache.kafka.common.record.ControlRecordType.ABORT, 0)))).isCompletedExceptionally();
    }

    private static MemoryRecords big(long producerId, int sequence) {
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, (short) 0, sequence,
            new SimpleRecord(1_000L, new byte[1000]));
    }

    @Test
    void retentionCompactsToASegmentBoundaryAndTheSnapshotCarriesProducerState() throws Exception {
        startAll();
        EnginePartition leader = leader();
        int first = leaderNode();
        int stopped = first == 3 ? 2 : 3;
        for (int i = 0; i < 3; i++) {
            join(leader.append(idempotent(42, (short) 0, i, "early-" + i)));
        }
        stop(stopped); // misses everything from here on, and the compaction
        for (int i = 0; i < 300; i++) { // about five 64 KiB segments of another producer
            join(leader.append(big(7, i)));
        }
        long hw = leader.highWatermark();
        for (EnginePartition p : partitions.values()) {
            await("replica applied up to " + hw, Duration.ofSeconds(5), () -> p.highWatermark() >= hw);
            long start = p.enforceRetention(0, -1).get(10, TimeUnit.SECONDS);
            assertThat(start).as("log start after retention").isGreaterThan(3).isLessThan(hw);
            assertThat(p.logStartOffset()).isEqualTo(start);
        }
        long start = leader.logStartOffset();
        assertThatThrownBy(() -> leader.read(0, 100, true)).isInstanceOf(PartitionException.class)
            .extracting(e -> ((PartitionException) e).error()).isEqualTo(PartitionError.OFFSET_OUT_OF_RANGE);
        // producer 42's batches are all below the log start now: only the snapshot remembers it
        assertThat(errorOf(leader.append(idempotent(42, (short) 0, 9, "gap"))))
            .isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);

        // the stopped node comes back behind the leader's log start: it installs the snapshot, then catches up
        start(stopped);
        await("node " + stopped + " caught up", Duration.ofSeconds(10),
            () -> partitions.get(stopped).highWatermark() >= hw);
        assertThat(partitions.get(stopped).logStartOffset()).isEqualTo(start);
        // and knows producer 42 from the snapshot once it leads
        leader.transferLeadership(stopped).get(10, TimeUnit.SECONDS);
        await("node " + stopped + " leads", Duration.ofSeconds(10), () -> partitions.get(stopped).isLeader());
        EnginePartition installed = partitions.get(stopped);
        assertThat(errorOf(installed.append(idempotent(42, (short) 0, 9, "gap"))))
            .isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);
        join(installed.append(idempotent(42, (short) 0, 3, "late-3")));

        // every node restarted from its directory starts from its own snapshot
        stopAll();
        startAll();
        EnginePartition restarted = leader();
        assertThat(restarted.logStartOffset()).isEqualTo(start);
        assertThat(errorOf(restarted.append(idempotent(42, (short) 0, 9, "gap"))))
            .isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);
        join(restarted.append(idempotent(42, (short) 0, 4, "late-4")));
        assertThat(values(restarted, start)).endsWith("late-3", "late-4");
    }

    /** One record of 1 KiB for key {@code k<key>}, its value naming the producer and sequence. */
    private static MemoryRecords keyed(long producerId, int sequence, int key) {
        byte[] value = new byte[1000];
        byte[] name = (producerId + "-" + sequence).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(name, 0, value, 0, name.length);
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, (short) 0, sequence,
            new SimpleRecord(1_000L, ("k" + key).getBytes(StandardCharsets.UTF_8), value));
    }

    /** Every batch of a replica's log as base..last@epoch: the group's entries. */
    private List<String> entries(int node) {
        List<String> entries = new ArrayList<>();
        SegmentRaftLog log = logs.get(node);
        long next = log.startOffset();
        while (next < log.endOffset()) {
            for (RecordBatch batch : log.segmentLog().read(next, 1 << 20, Long.MAX_VALUE, true).batches()) {
                entries.add(batch.baseOffset() + ".." + batch.lastOffset() + "@" + batch.partitionLeaderEpoch());
                next = batch.nextOffset();
            }
        }
        return entries;
    }

    /**
     * Log compaction on this engine: every replica cleans its own committed segments, keeping every entry (emptied
     * batches stay as empty batches), so a replica that was stopped catches up from the compacted leader, every
     * replica holds the same entries, and a producer whose batches were all emptied is still known after a restart
     * replays the log.
     */
    @Test
    void compactionKeepsEveryEntryAndTheProducersOfEmptiedBatches() throws Exception {
        startAll();
        EnginePartition leader = leader();
        int stopped = leaderNode() == 3 ? 2 : 3;
        for (int seq = 0; seq < 8; seq++) { // producer 43's keys are all written again below: its batches empty
            join(leader.append(keyed(43, seq, seq)));
        }
        stop(stopped); // misses the updates and the compaction
        for (int seq = 0; seq < 300; seq++) { // about five 64 KiB segments
            join(leader.append(keyed(42, seq, seq % 8)));
        }
        long hw = leader.highWatermark();
        List<String> uncompacted = values(leader, 0);
        List<String> latest = uncompacted.subList(uncompacted.size() - 8, uncompacted.size());
        LogCleaner cleaner = new LogCleaner(CleanerThrottle.unlimited(), 1 << 20, System::currentTimeMillis);
        for (EnginePartition p : partitions.values()) {
            await("replica applied up to " + hw, Duration.ofSeconds(5), () -> p.highWatermark() >= hw);
            assertThat(p.compact(cleaner, new CompactionPolicy(60_000, 0, 0)).segmentsReplaced()).isPositive();
            List<String> compacted = values(p, 0);
            assertThat(compacted).hasSizeLessThan(uncompacted.size() / 2).endsWith(latest.toArray(String[]::new));
            assertThat(compacted).noneMatch(v -> v.startsWith("43-"));
        }

        start(stopped);
        await("node " + stopped + " caught up", Duration.ofSeconds(10),
            () -> partitions.get(stopped).highWatermark() >= hw);
        assertThat(values(partitions.get(stopped), 0)).endsWith(latest.toArray(String[]::new));
        await("every replica holds the same entries", Duration.ofSeconds(10),
            () -> entries(1).equals(entries(2)) && entries(2).equals(entries(3)));

        stopAll();
        startAll();
        EnginePartition restarted = leader();
        assertThat(errorOf(restarted.append(keyed(43, 9, 0)))).as("producer 43 is known: its next sequence is 8")
            .isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);
        join(restarted.append(keyed(43, 8, 0)));
        join(restarted.append(keyed(42, 300, 1)));
    }

    private static PartitionError readError(EnginePartition partition, long offset) {
        try {
            partition.read(offset, 100, true);
        } catch (PartitionException e) {
            return e.error();
        }
        throw new AssertionError("the read at " + offset + " succeeded");
    }

    @Test
    void deleteRecordsMovesTheLogStartInsideASegmentOnEveryReplicaAndAcrossRestarts() throws Exception {
        startAll();
        EnginePartition leader = leader();
        for (int i = 0; i < 300; i++) { // about five 64 KiB segments
            join(leader.append(big(7, i)));
        }
        long hw = leader.highWatermark();
        long target = hw / 2 + 1;
        assertThat(leader.advanceLogStart(target).get(10, TimeUnit.SECONDS)).as("the low watermark").isEqualTo(target);
        assertThat(leader.advanceLogStart(target - 5).get(10, TimeUnit.SECONDS)).as("below: no change")
            .isEqualTo(target);
        assertThatThrownBy(() -> leader.advanceLogStart(leader.highWatermark() + 1).get(10, TimeUnit.SECONDS))
            .cause().isInstanceOf(PartitionException.class)
            .extracting(e -> ((PartitionException) e).error()).isEqualTo(PartitionError.OFFSET_OUT_OF_RANGE);
        long end = leader.highWatermark();
        assertThat(end).as("the entry takes one offset, as a transaction marker").isEqualTo(hw + 1);
        for (Map.Entry<Integer, EnginePartition> e : partitions.entrySet()) {
            EnginePartition p = e.getValue();
            await("node " + e.getKey() + " applied the new log start", Duration.ofSeconds(5),
                () -> p.highWatermark() >= end);
            assertThat(p.logStartOffset()).isEqualTo(target);
            assertThat(logs.get(e.getKey()).startOffset()).as("the Raft log keeps its entries").isZero();
            assertThat(readError(p, target - 1)).isEqualTo(PartitionError.OFFSET_OUT_OF_RANGE);
            assertThat(p.read(target, 100, true).batches().iterator().next().lastOffset()).isGreaterThanOrEqualTo(target);
            assertThat(p.offsetForTimestamp(0).orElseThrow().offset()).as("by time: from the log start")
                .isEqualTo(target);
            assertThat(values(p, target)).as("the entry is a control batch consumers skip").hasSize((int) (hw - target));
            // retention drops the whole segments below the new start from the Raft log
            int segments = p.logSegmentCount();
            assertThat(p.enforceRetention(Long.MAX_VALUE, -1).get(10, TimeUnit.SECONDS)).isEqualTo(target);
            assertThat(logs.get(e.getKey()).startOffset()).as("the Raft log start").isPositive()
                .isLessThanOrEqualTo(target);
            assertThat(p.logSegmentCount()).isLessThan(segments);
            assertThat(p.logStartOffset()).isEqualTo(target);
        }

        stopAll();
        startAll();
        EnginePartition restarted = leader();
        long after = restarted.highWatermark();
        for (Map.Entry<Integer, EnginePartition> e : partitions.entrySet()) {
            EnginePartition p = e.getValue();
            await("node " + e.getKey() + " replayed its log", Duration.ofSeconds(5), () -> p.highWatermark() >= after);
            assertThat(p.logStartOffset()).as("node %d after a restart", e.getKey()).isEqualTo(target);
            assertThat(readError(p, target - 1)).isEqualTo(PartitionError.OFFSET_OUT_OF_RANGE);
        }
        // a later DeleteRecords moves it again, past the first entry, and a snapshot installed carries it
        assertThat(restarted.advanceLogStart(after).get(10, TimeUnit.SECONDS)).isEqualTo(after);
        await("every replica applied " + after, Duration.ofSeconds(5),
            () -> partitions.values().stream().allMatch(p -> p.logStartOffset() == after));
    }

    @Test
    void statusShowsEveryMembersMatchAndATransferCompletesOnceTheTargetLeads() throws Exception {
        startAll();
        EnginePartition leader = leader();
        int from = leaderNode();
        join(leader.append(plain("a")));
        long end = leader.highWatermark();
        // (the followers' lag, EnginePartition.followerLag, is published by EnginePartitions, not in this harness)
        await("the leader sees every follower hold " + end, Duration.ofSeconds(5),
            () -> leader.groupStatus().join().peers().stream().allMatch(p -> p.matchIndex() == end));
        io.fluxmq.raft.partition.GroupStatus status = leader.groupStatus().get(10, TimeUnit.SECONDS);
        assertThat(status.role()).isEqualTo("LEADER");
        assertThat(status.leader()).isEqualTo(from);
        assertThat(status.term()).isEqualTo(leader.leaderEpoch());
        assertThat(status.commitIndex()).isEqualTo(end);
        assertThat(status.lastIndex()).isEqualTo(end);
        assertThat(status.snapshotIndex()).as("nothing compacted").isEqualTo(-1);
        assertThat(status.peers()).hasSize(3).allSatisfy(p -> {
            assertThat(p.matchIndex()).isEqualTo(end);
            assertThat(p.lag()).isZero();
        });
        int target = from == 1 ? 2 : 1;
        io.fluxmq.raft.partition.GroupStatus follower = partitions.get(target).groupStatus().get(10, TimeUnit.SECONDS);
        assertThat(follower.role()).isEqualTo("FOLLOWER");
        assertThat(follower.peers()).allSatisfy(p -> assertThat(p.matchIndex()).as("known on the leader only")
            .isEqualTo(-1));

        assertThat(leader.transferLeadership(target, 5_000).get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(leader.leader()).isEqualTo(target);
        await("node " + target + " leads", Duration.ofSeconds(5), () -> partitions.get(target).isLeader());
        assertThatThrownBy(() -> leader.transferLeadership(target, 5_000).get(10, TimeUnit.SECONDS))
            .cause().isInstanceOf(PartitionException.class)
            .extracting(e -> ((PartitionException) e).error()).isEqualTo(PartitionError.NOT_LEADER);
    }

    @Test
    void transactionMarkersMoveTheLastStableOffset() throws Exception {
        startAll();
        EnginePartition leader = leader();
        AppendResult aborted = join(leader.append(transactional(7, (short) 0, 0, "t1")));
        assertThat(leader.lastStableOffset()).isEqualTo(aborted.baseOffset());
        assertThat(leader.activeProducers()).singleElement().satisfies(p -> {
            assertThat(p.producerId()).isEqualTo(7);
            assertThat(p.producerEpoch()).isZero();
            assertThat(p.lastSequence()).isZero();
            assertThat(p.lastTimestamp()).isPositive();
            assertThat(p.currentTxnStartOffset()).as("the open transaction").isEqualTo(aborted.baseOffset());
        });
        AppendResult marker = join(leader.appendMarker(7, (short) 0, false, 3));
        assertThat(leader.lastStableOffset()).isEqualTo(leader.highWatermark());
        assertThat(leader.abortedTransactions(0, leader.highWatermark()))
            .containsExactly(new TxnIndex.AbortedTxn(7, aborted.baseOffset(), marker.baseOffset()));

        AppendResult committed = join(leader.append(transactional(7, (short) 0, 1, "t2")));
        assertThat(leader.lastStableOffset()).isEqualTo(committed.baseOffset());
        join(leader.appendMarker(7, (short) 0, true, 3));
        assertThat(leader.lastStableOffset()).isEqualTo(leader.highWatermark());
        assertThat(leader.activeProducers()).singleElement().satisfies(p -> {
            assertThat(p.lastSequence()).isEqualTo(1);
            assertThat(p.currentTxnStartOffset()).as("no transaction open").isEqualTo(-1);
        });
        assertThat(leader.abortedTransactions(committed.baseOffset(), leader.highWatermark())).isEmpty();
        // a newer epoch's marker fences the producer; an older epoch's marker is then refused
        join(leader.appendMarker(7, (short) 1, false, 4));
        assertThat(errorOf(leader.appendMarker(7, (short) 0, true, 3))).isEqualTo(PartitionError.INVALID_PRODUCER_EPOCH);
    }

    @Test
    void aNewLeaderHoldsWhatWasAcknowledgedAndKnowsItsProducers() throws Exception {
        startAll();
        List<String> acknowledged = new ArrayList<>();
        EnginePartition leader = leader();
        for (int i = 0; i < 20; i++) {
            join(leader.append(idempotent(5, (short) 0, i, "v" + i)));
            acknowledged.add("v" + i);
        }
        int old = leaderNode();
        stop(old);
        EnginePartition next = leader();
        assertThat(next).isNotSameAs(leader);
        assertThat(values(next, 0)).containsExactlyElementsOf(acknowledged);
        // the last batch retried against the new leader is a duplicate; the next sequence goes on
        long end = next.highWatermark();
        assertThat(join(next.append(idempotent(5, (short) 0, 19, "v19"))).baseOffset()).isLessThan(end);
        join(next.append(idempotent(5, (short) 0, 20, "v20")));
        acknowledged.add("v20");

        // every node restarts from its directory: same records, same producer state
        stopAll();
        startAll();
        EnginePartition restarted = leader();
        await("the restarted leader applied its log", Duration.ofSeconds(5),
            () -> values(restarted, 0).size() == acknowledged.size());
        assertThat(values(restarted, 0)).containsExactlyElementsOf(acknowledged);
        assertThat(errorOf(restarted.append(idempotent(5, (short) 0, 30, "gap"))))
            .isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);
        join(restarted.append(idempotent(5, (short) 0, 21, "v21")));
    }

    /**
     * A failed write of the node's storage (a full disk under the write-ahead log stops the group with the plain
     * IOException) is answered as a storage error, which producers retry, not UNKNOWN_SERVER_ERROR (FullDiskFailoverIT
     * with the write-ahead log saw 75 sends fail with UnknownServerException before).
     */
    @org.junit.jupiter.api.Test
    void storageFailuresAreStorageErrors() {
        assertThat(EnginePartition.translate(new java.io.IOException("No space left on device")).error())
                .isEqualTo(PartitionError.STORAGE_ERROR);
        assertThat(EnginePartition.translate(new java.io.UncheckedIOException(new java.io.IOException("x"))).error())
                .isEqualTo(PartitionError.STORAGE_ERROR);
        assertThat(EnginePartition.translate(new RuntimeException("a bug")).error()).isEqualTo(PartitionError.UNKNOWN);
    }
}
