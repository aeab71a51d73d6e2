package io.fluxmq.raft.partition;

import static io.fluxmq.raft.partition.PartitionEntries.LEADER;
import static io.fluxmq.raft.partition.PartitionEntries.batchEntry;
import static io.fluxmq.raft.partition.PartitionEntries.clientBatch;
import static io.fluxmq.raft.partition.PartitionEntries.coalescedEntry;
import static io.fluxmq.raft.partition.PartitionEntries.committed;
import static io.fluxmq.raft.partition.PartitionEntries.header;
import static io.fluxmq.raft.partition.PartitionEntries.idempotentBatch;
import static io.fluxmq.raft.partition.PartitionEntries.logStartEntry;
import static io.fluxmq.raft.partition.PartitionEntries.stamp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raft.log.SegmentLog;
import io.fluxmq.raft.log.SegmentLogConfig;
import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.LogProtoUtils;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drives a {@link PartitionStateMachine} the way Ratis does, without a Raft server: entries go through
 * startTransaction, write (every replica, in log order), truncate and applyTransaction (committed), over a real
 * {@link RaftStorage} and segment log in a temporary directory.
 */
class PartitionStateMachineTest {
    private static final TopicPartition TP = new TopicPartition("orders", 0);
    /** Three 100-byte records make a batch of about 400 bytes: two batches per 1 KiB segment. */
    private static final SegmentLogConfig SMALL_SEGMENTS = new SegmentLogConfig(1024, 7L * 24 * 3600 * 1000, 0, 4096);
    private static final long PRODUCER = 42;
    private static final short PRODUCER_EPOCH = 3;

    @TempDir
    Path dir;
    private RaftStorage raftStorage;
    private PartitionStateMachine sm;
    private SegmentLog leaderLog;
    private final List<Long> leadersAsked = new ArrayList<>();
    /** Responses the leader source gives before it fails. */
    private int failAfterResponses = Integer.MAX_VALUE;

    @AfterEach
    void close() throws IOException {
        closeReplica();
        if (leaderLog != null) {
            leaderLog.close();
        }
    }

    @Test
    void writeAppendsTheBatchAndApplyAdvancesTheHighWatermark() throws Exception {
        open();
        List<Long> notified = new ArrayList<>();
        sm.addHighWatermarkListener(notified::add);
        MemoryRecords batch = stamp(clientBatch("a", 3), 0, 1);
        LogEntryProto entry = batchEntry(sm, 1, 1, batch);

        sm.write(entry, null).join();

        assertThat(sm.log().logEndOffset()).isEqualTo(3);
        assertThat(sm.log().read(0, Integer.MAX_VALUE, 3, true).buffer()).isEqualTo(batch.buffer());
        assertThat(sm.log().read(0, Integer.MAX_VALUE, 3, true).batches().iterator().next().partitionLeaderEpoch())
                .isEqualTo(1);
        assertThat(sm.highWatermark()).isZero();
        assertThat(sm.read(entry, null).join().asReadOnlyByteBuffer()).isEqualTo(batch.buffer());

        sm.applyTransaction(committed(sm, entry)).join();

        assertThat(sm.highWatermark()).isEqualTo(3);
        assertThat(notified).containsExactly(3L);
        assertThat(sm.getLastAppliedTermIndex()).isEqualTo(TermIndex.valueOf(1, 1));
        assertThat(sm.endOffsetForEpoch(1)).containsExactly(1, 3);
    }

    @Test
    void anEntryOfCoalescedBatchesIsWrittenReadAndAppliedAsThoseBatches() throws Exception {
        open();
        List<MemoryRecords> batches = List.of(
                stamp(idempotentBatch("a", 2, PRODUCER, PRODUCER_EPOCH, 0), 0, 1),
                stamp(idempotentBatch("b", 1, PRODUCER, PRODUCER_EPOCH, 2), 2, 1),
                stamp(clientBatch("c", 1), 3, 1));
        LogEntryProto entry = coalescedEntry(sm, 1, 1, batches);
        // on a follower: a context without a client request, so every batch's CRC is checked
        TransactionContext fromLeader = TransactionContext.newBuilder().setServerRole(RaftPeerRole.FOLLOWER)
                .setStateMachine(sm).setLogEntry(entry).build();

        sm.write(entry, fromLeader).join();

        assertThat(sm.log().logEndOffset()).isEqualTo(4);
        ByteBuffer expected = concat(batches);
        assertThat(sm.read(LogProtoUtils.removeStateMachineData(entry), null).join().asReadOnlyByteBuffer())
                .as("the entry's data read back from the segments").isEqualTo(expected);

        sm.applyTransaction(committed(sm, entry)).join();

        assertThat(sm.highWatermark()).isEqualTo(4);
        assertThat(sm.endOffsetForEpoch(1)).containsExactly(1, 4);
        assertThat(sm.applied(PRODUCER, PRODUCER_EPOCH, new ProducerStateTable.BatchMetadata(0, 1, 0, 1))).isTrue();
        assertThat(sm.applied(PRODUCER, PRODUCER_EPOCH, new ProducerStateTable.BatchMetadata(2, 2, 2, 2))).isTrue();
        assertThat(sm.appliedState().producers().check(header(idempotentBatch("b", 1, PRODUCER, PRODUCER_EPOCH, 2))))
                .as("a retry of the entry's second batch").isInstanceOf(ProducerStateTable.Check.Duplicate.class);
    }

    @Test
    void aCoalescedEntryWhoseBatchesWereCopiedAcrossASegmentRollReadsBackWhole() throws Exception {
        open();
        // a replica that copied these batches one by one (gap repair) rolled between them: ~400 bytes each, 1 KiB
        // segments; the leader had them in one entry
        List<MemoryRecords> batches = List.of(stamp(clientBatch("a", 3), 0, 1), stamp(clientBatch("b", 3), 3, 1),
                stamp(clientBatch("c", 3), 6, 1));
        for (MemoryRecords batch : batches) {
            sm.log().append(batch.buffer());
        }
        assertThat(segmentBases(sm.log())).containsExactly(0L, 6L);
        LogEntryProto entry = LogProtoUtils.removeStateMachineData(coalescedEntry(sm, 1, 1, batches));

        assertThat(sm.read(entry, null).join().asReadOnlyByteBuffer()).isEqualTo(concat(batches));
    }

    @Test
    void aFollowerChecksTheCrcOfEveryBatchItWrites() throws Exception {
        open();
        MemoryRecords batch = stamp(clientBatch("a", 3), 0, 1);
        ByteBuffer bytes = batch.buffer();
        int last = bytes.limit() - 3;
        bytes.put(last, (byte) (bytes.get(last) ^ 0x40)); // a flipped bit in a record: the CRC fails
        LogEntryProto entry = batchEntry(sm, 1, 1, batch);
        // as Ratis hands a leader's entry to a follower: a context without a client request
        TransactionContext fromLeader = TransactionContext.newBuilder().setServerRole(RaftPeerRole.FOLLOWER)
                .setStateMachine(sm).setLogEntry(entry).build();

        assertThatThrownBy(() -> sm.write(entry, fromLeader))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CRC mismatch");
        assertThat(sm.log().logEndOffset()).isZero();
    }

    @Test
    void writeOverlappingTheUncommittedTailReplacesItButNeverBelowTheHighWatermark() throws Exception {
        open();
        List<LogEntryProto> term1 = writeBatches(1, 1, 3); // offsets [0,3) [3,6) [6,9) at indices 1..3
        sm.applyTransaction(committed(sm, term1.get(0))).join();
        assertThat(sm.highWatermark()).isEqualTo(3);

        // a new leader (term 2) replaces indices 2.. with its own batch at offset 3
        MemoryRecords replacement = stamp(clientBatch("b", 2), 3, 2);
        sm.write(batchEntry(sm, 2, 2, replacement), null).join();

        assertThat(sm.log().logEndOffset()).isEqualTo(5);
        assertThat(sm.log().read(3, Integer.MAX_VALUE, 5, true).buffer()).isEqualTo(replacement.buffer());

        // an entry whose batch starts below the high watermark would drop committed records
        List<ByteBuffer> before = logContents();
        LogEntryProto stale = batchEntry(sm, 2, 3, stamp(clientBatch("c", 1), 0, 2)); // a batch boundary
        assertThatThrownBy(() -> sm.write(stale, null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("to offset 0, below its high watermark 3");
        assertThat(sm.log().logEndOffset()).isEqualTo(5);
        assertThat(logContents()).isEqualTo(before);
    }

    @Test
    void truncateDropsUnappliedBatchesButNeverBelowTheHighWatermark() throws Exception {
        open();
        List<LogEntryProto> entries = writeBatches(1, 1, 3); // offsets [0,3) [3,6) [6,9)
        sm.applyTransaction(committed(sm, entries.get(0))).join();

        sm.truncate(3).join();
        assertThat(sm.log().logEndOffset()).isEqualTo(6);
        sm.truncate(2).join();
        assertThat(sm.log().logEndOffset()).isEqualTo(3);
        sm.truncate(2).join(); // nothing left to drop at or after index 2
        assertThat(sm.log().logEndOffset()).isEqualTo(3);

        // An inconsistent replica: index 5 was written at offset 3, then index 4 committed offsets [3,6) over it.
        // Raft dropping index 5 would now take committed records with it.
        sm.write(batchEntry(sm, 1, 5, stamp(clientBatch("d", 3), 3, 1)), null).join();
        sm.applyTransaction(committed(sm, batchEntry(sm, 1, 4, stamp(clientBatch("d", 3), 3, 1)))).join();
        assertThat(sm.highWatermark()).isEqualTo(6);
        List<ByteBuffer> before = logContents();

        assertThatThrownBy(() -> sm.truncate(5))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("refuses to truncate its segment log to offset 3");
        assertThat(sm.log().logEndOffset()).isEqualTo(6);
        assertThat(logContents()).isEqualTo(before);
    }

    @Test
    void afterARestartTheNextOverlappingWriteDropsAnUncommittedTailRaftAlreadyTruncated() throws Exception {
        open();
        List<LogEntryProto> entries = writeBatches(1, 1, 3); // offsets [0,3) [3,6) [6,9); index 3 never commits
        sm.applyTransaction(committed(sm, entries.get(0))).join();
        sm.applyTransaction(committed(sm, entries.get(1))).join();
        closeReplica();

        open(); // no snapshot: Ratis replays the committed entries from its own log, without write()
        assertThat(sm.highWatermark()).isZero();
        sm.applyTransaction(committed(sm, entries.get(0))).join();
        sm.applyTransaction(committed(sm, entries.get(1))).join();
        assertThat(sm.highWatermark()).isEqualTo(6);

        // this process never wrote index 3, so it cannot map it to an offset: the segment log keeps the batch
        sm.truncate(3).join();
        assertThat(sm.log().logEndOffset()).isEqualTo(9);

        MemoryRecords replacement = stamp(clientBatch("new", 1), 6, 2);
        sm.write(batchEntry(sm, 2, 3, replacement), null).join();

        assertThat(sm.log().logEndOffset()).isEqualTo(7);
        assertThat(sm.log().read(6, Integer.MAX_VALUE, 7, true).buffer()).isEqualTo(replacement.buffer());
    }

    @Test
    void snapshotRestoresHighWatermarkProducersAndLogStartInAFreshStateMachine() throws Exception {
        open();
        List<LogEntryProto> entries = new ArrayList<>();
        for (int i = 0; i < 4; i++) { // offsets [0,3) [3,6) | [6,9) [9,12), sequences 0..11
            MemoryRecords batch = stamp(idempotentBatch("p", 3, PRODUCER, PRODUCER_EPOCH, 3 * i), 3L * i, 1);
            entries.add(batchEntry(sm, 1, i + 1, batch));
            sm.write(entries.get(i), null).join();
            sm.applyTransaction(committed(sm, entries.get(i))).join();
        }
        sm.applyTransaction(committed(sm, logStartEntry(sm, 1, 5, 7))).join(); // inside the second segment
        sm.write(batchEntry(sm, 1, 6, stamp(clientBatch("tail", 2), 12, 1)), null).join(); // uncommitted

        assertThat(sm.takeSnapshot()).isEqualTo(5);

        File smDir = raftStorage.getStorageDir().getStateMachineDir();
        try (Stream<Path> files = Files.list(smDir.toPath())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("snapshot.1_5", "snapshot.1_5.md5");
        }
        try (DataInputStream in = new DataInputStream(Files.newInputStream(smDir.toPath().resolve("snapshot.1_5")))) {
            assertThat(in.readInt()).as("magic").isEqualTo(0x464c5831);
            assertThat(in.readShort()).as("version").isEqualTo((short) 3);
            assertThat(in.readLong()).as("high watermark").isEqualTo(12);
            assertThat(in.readLong()).as("log start").isEqualTo(7);
        }

        closeReplica();
        open();

        assertThat(sm.getLastAppliedTermIndex()).isEqualTo(TermIndex.valueOf(1, 5));
        assertThat(sm.highWatermark()).isEqualTo(12);
        assertThat(sm.log().logStartOffset()).isEqualTo(7);
        assertThat(sm.log().logEndOffset()).isEqualTo(14);
        assertThat(sm.endOffsetForEpoch(1)).containsExactly(1, 12);
        assertThat(sm.applied(PRODUCER, PRODUCER_EPOCH, new ProducerStateTable.BatchMetadata(9, 11, 9, 11))).isTrue();
        ProducerStateTable producers = sm.appliedState().producers();
        assertThat(producers.check(header(idempotentBatch("p", 3, PRODUCER, PRODUCER_EPOCH, 9))))
                .isInstanceOf(ProducerStateTable.Check.Duplicate.class);
        assertThat(producers.check(header(idempotentBatch("p", 3, PRODUCER, PRODUCER_EPOCH, 12))))
                .isInstanceOf(ProducerStateTable.Check.Accept.class);
        assertThat(producers.check(header(idempotentBatch("p", 3, PRODUCER, PRODUCER_EPOCH, 15))))
                .isInstanceOf(ProducerStateTable.Check.Reject.class);
        assertThat(sm.latestSnapshot().getLong(8)).as("snapshot index served to followers").isEqualTo(5);
    }

    @Test
    void transactionsSetTheLastStableOffsetAndTheAbortedIndexWhichSnapshotsKeep() throws Exception {
        open();
        long other = PRODUCER + 1;
        List<LogEntryProto> entries = new ArrayList<>();
        entries.add(batchEntry(sm, 1, 1, stamp(transactionalBatch("t", 3, PRODUCER, 0), 0, 1)));        // [0,3)
        entries.add(coalescedEntry(sm, 1, 2, List.of(stamp(clientBatch("c", 2), 3, 1),                  // [3,5)
                stamp(transactionalBatch("u", 2, other, 0), 5, 1))));                                     // [5,7)
        entries.add(batchEntry(sm, 1, 3, stamp(marker(PRODUCER, false), 7, 1)));                         // abort @7
        for (LogEntryProto e : entries) {
            sm.write(e, null).join();
            sm.applyTransaction(committed(sm, e)).join();
        }
        assertThat(sm.highWatermark()).isEqualTo(8);
        assertThat(sm.lastStableOffset()).as("producer 43's transaction is open from 5").isEqualTo(5);
        assertThat(sm.abortedTransactions(0, 8)).containsExactly(new TxnIndex.AbortedTxn(PRODUCER, 0, 7));
        assertThat(sm.activeProducers()).extracting(ProducerState::producerId, ProducerState::producerEpoch,
                        ProducerState::lastSequence, ProducerState::currentTxnStartOffset)
                .containsExactly(tuple(PRODUCER, PRODUCER_EPOCH, 2, -1L), tuple(other, PRODUCER_EPOCH, 1, 5L));

        assertThat(sm.takeSnapshot()).isEqualTo(3);
        try (DataInputStream in = new DataInputStream(Files.newInputStream(
                raftStorage.getStorageDir().getStateMachineDir().toPath().resolve("snapshot.1_3")))) {
            in.readInt();
            assertThat(in.readShort()).as("version with transactions").isEqualTo((short) 4);
        }
        closeReplica();
        open();
        assertThat(sm.lastStableOffset()).isEqualTo(5);
        assertThat(sm.abortedTransactions(0, 8)).containsExactly(new TxnIndex.AbortedTxn(PRODUCER, 0, 7));

        LogEntryProto commit = batchEntry(sm, 1, 4, stamp(marker(other, true), 8, 1));
        sm.write(commit, null).join();
        sm.applyTransaction(committed(sm, commit)).join();
        assertThat(sm.lastStableOffset()).isEqualTo(9).isEqualTo(sm.highWatermark());
        assertThat(sm.abortedTransactions(0, 9)).hasSize(1);
        assertThat(sm.activeProducers()).extracting(ProducerState::producerId, ProducerState::currentTxnStartOffset)
                .as("restored from the snapshot, then the commit closed it").containsExactly(tuple(PRODUCER, -1L),
                        tuple(other, -1L));
    }

    private static MemoryRecords transactionalBatch(String tag, int count, long producerId, int baseSequence) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord((tag + i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, PRODUCER_EPOCH, baseSequence,
                records);
    }

    private static MemoryRecords marker(long producerId, boolean commit) {
        return MemoryRecords.withEndTransactionMarker(0, producerId, PRODUCER_EPOCH, new EndTransactionMarker(
                commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT, 1));
    }

    @Test
    void writeAfterAGapCopiesTheMissingBatchesFromTheLeader() throws Exception {
        List<MemoryRecords> batches = leaderWithBatches(6); // offsets [0,3) .. [15,18), three segments
        open();
        for (int i = 0; i < 2; i++) {
            sm.write(batchEntry(sm, 1, i + 1, batches.get(i)), null).join();
        }

        sm.write(batchEntry(sm, 1, 6, batches.get(5)), null).join(); // indices 3..5 never reached this replica

        assertThat(leadersAsked).isNotEmpty().containsOnly(2L);
        assertThat(sm.log().logEndOffset()).isEqualTo(18);
        assertSameSegments(sm.log(), leaderLog);
    }

    @Test
    void applyOfACommittedEntryWhoseBatchIsMissingCopiesItFromTheLeaderFirst() throws Exception {
        List<MemoryRecords> batches = leaderWithBatches(3);
        open();
        sm.write(batchEntry(sm, 1, 1, batches.get(0)), null).join();

        sm.applyTransaction(committed(sm, batchEntry(sm, 1, 3, batches.get(2)))).join();

        assertThat(sm.highWatermark()).isEqualTo(9);
        assertSameSegments(sm.log(), leaderLog);
    }

    @Test
    void appliedLogStartEntryMovesTheLogStartAndDeletesWholeSegmentsBelowIt() throws Exception {
        open();
        List<LogEntryProto> entries = writeBatches(1, 1, 7); // two batches per segment: bases 0, 6, 12, 18
        for (LogEntryProto entry : entries.subList(0, 6)) {
            sm.applyTransaction(committed(sm, entry)).join();
        }
        List<Path> filesBefore = sm.log().segmentFiles();
        assertThat(segmentBases(sm.log())).containsExactly(0L, 6L, 12L, 18L);

        sm.applyTransaction(committed(sm, logStartEntry(sm, 1, 8, 13))).join();

        assertThat(sm.log().logStartOffset()).isEqualTo(13);
        assertThat(segmentBases(sm.log())).containsExactly(12L, 18L);
        assertThat(filesBefore.subList(0, 6)).allMatch(Files::notExists);
        assertThat(sm.getLastAppliedTermIndex()).isEqualTo(TermIndex.valueOf(1, 8));

        // a log start beyond the high watermark (18) only goes as far as the committed data
        sm.applyTransaction(committed(sm, logStartEntry(sm, 1, 9, 21))).join();
        assertThat(sm.log().logStartOffset()).isEqualTo(18);
        assertThat(segmentBases(sm.log())).containsExactly(18L);
    }

    @Test
    void aCopiedCompactedLogRollsWhereTheLeadersSegmentsStart() throws Exception {
        // a compacted leader log: one batch per segment (far below segment.bytes), gaps between the batches
        leaderLog = compactedLeader(0, 10, 20, 30);
        open();

        sm.catchUpSegments(0, leaderLog.logEndOffset());

        assertThat(segmentBases(sm.log())).containsExactly(0L, 10L, 20L, 30L);
        assertSameSegments(sm.log(), leaderLog);
    }

    @Test
    void aRetriedInstallCopiesAgainWhatAnInterruptedOneCopied() throws Exception {
        leaderLog = compactedLeader(0, 10, 20, 30);
        open();
        failAfterResponses = 2;
        assertThatThrownBy(() -> sm.catchUpSegments(0, leaderLog.logEndOffset())).isInstanceOf(IOException.class);
        assertThat(sm.log().logEndOffset()).as("the first two segments copied").isEqualTo(13);
        // meanwhile the leader compacted offsets 10..12 away; the retry comes with the high watermark the first
        // install already loaded as the committed prefix
        leaderLog.close();
        deleteRecursively(dir.resolve("leader"));
        leaderLog = compactedLeader(0, 20, 30);
        failAfterResponses = Integer.MAX_VALUE;

        sm.catchUpSegments(leaderLog.logEndOffset(), leaderLog.logEndOffset());

        assertSameSegments(sm.log(), leaderLog);
    }

    /** A leader log whose batches of three records start at {@code bases}, each in a segment of its own. */
    private SegmentLog compactedLeader(long... bases) throws IOException {
        SegmentLog log = SegmentLog.open(dir.resolve("leader"), SMALL_SEGMENTS, () -> 0L);
        for (long base : bases) {
            log.rollIfNotEmpty(base, "test");
            log.appendCopied(stamp(clientBatch("c" + base, 3), base, 1).buffer());
        }
        return log;
    }

    private static void deleteRecursively(Path path) throws IOException {
        try (Stream<Path> all = Files.walk(path)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void checkAgainstRaftLogCountsTheOffsetsTheSegmentLogLacks() throws Exception {
        open();
        List<LogEntryProto> written = writeBatches(1, 1, 2); // offsets [0,3) [3,6)
        LogEntryProto lost = batchEntry(sm, 1, 3, stamp(clientBatch("lost", 4), 6, 1)); // [6,10), never written
        LogEntryProto logStart = logStartEntry(sm, 1, 4, 3);

        assertThat(sm.checkAgainstRaftLog(RatisStubs.raftLog(written.get(0), written.get(1)))).isZero();
        assertThat(sm.checkAgainstRaftLog(RatisStubs.raftLog(written.get(0), written.get(1), lost, logStart)))
                .isEqualTo(4);
        assertThat(sm.checkAgainstRaftLog(RatisStubs.raftLog())).isZero();
    }

    private void open() throws IOException {
        Path raftDir = dir.resolve("raft");
        raftStorage = RaftStorage.newBuilder()
                .setDirectory(raftDir.toFile())
                .setOption(Files.exists(raftDir) ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
                .setStorageFreeSpaceMin(SizeInBytes.ZERO)
                .build();
        raftStorage.initialize();
        sm = new PartitionStateMachine(TP, dir.resolve("segments"), SMALL_SEGMENTS, true, Runnable::run, term -> { },
                new LeaderSource(), ProducerStateTable.DEFAULT_EXPIRATION_MS);
        sm.initialize(RatisStubs.server(RaftPeerId.valueOf("n1"), LEADER), PartitionEntries.GROUP, raftStorage);
    }

    private void closeReplica() throws IOException {
        if (sm != null) {
            sm.close();
            sm = null;
        }
        if (raftStorage != null) {
            raftStorage.close();
            raftStorage = null;
        }
    }

    /** Writes {@code count} batches of three records from the log end, at consecutive indices. */
    private List<LogEntryProto> writeBatches(long term, long firstIndex, int count) {
        List<LogEntryProto> entries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            MemoryRecords batch = stamp(clientBatch("t" + term + "i" + (firstIndex + i), 3), sm.log().logEndOffset(), term);
            entries.add(batchEntry(sm, term, firstIndex + i, batch));
            sm.write(entries.get(i), null).join();
        }
        return entries;
    }

    /** Opens the leader's segment log with {@code count} batches of three records appended one by one. */
    private List<MemoryRecords> leaderWithBatches(int count) throws IOException {
        leaderLog = SegmentLog.open(dir.resolve("leader"), SMALL_SEGMENTS, () -> 0L);
        List<MemoryRecords> batches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            MemoryRecords batch = stamp(clientBatch("l" + i, 3), 3L * i, 1);
            leaderLog.append(batch.buffer());
            batches.add(batch);
        }
        return batches;
    }

    private List<ByteBuffer> logContents() {
        List<ByteBuffer> contents = new ArrayList<>();
        for (long next = sm.log().logStartOffset(); next < sm.log().logEndOffset(); ) {
            MemoryRecords records = sm.log().read(next, Integer.MAX_VALUE, Long.MAX_VALUE, true);
            contents.add(copy(records.buffer()));
            for (RecordBatch batch : records.batches()) {
                next = batch.nextOffset();
            }
        }
        return contents;
    }

    private static List<Long> segmentBases(SegmentLog log) {
        return log.segmentFiles().stream()
                .map(p -> p.getFileName().toString())
                .filter(name -> name.endsWith(".log"))
                .map(name -> Long.parseLong(name.substring(0, name.length() - ".log".length())))
                .toList();
    }

    /** Same segment files (names and bytes: data, offset and time indexes) as the leader's. */
    private static void assertSameSegments(SegmentLog follower, SegmentLog leader) throws IOException {
        List<Path> mine = follower.segmentFiles();
        List<Path> theirs = leader.segmentFiles();
        assertThat(mine.stream().map(Path::getFileName).toList())
                .isEqualTo(theirs.stream().map(Path::getFileName).toList());
        for (int i = 0; i < mine.size(); i++) {
            assertThat(Files.readAllBytes(mine.get(i))).as(mine.get(i).getFileName().toString())
                    .isEqualTo(Files.readAllBytes(theirs.get(i)));
        }
    }

    private static ByteBuffer concat(List<MemoryRecords> batches) {
        ByteBuffer all = ByteBuffer.allocate(batches.stream().mapToInt(MemoryRecords::sizeInBytes).sum());
        batches.forEach(batch -> all.put(batch.buffer()));
        return all.flip();
    }

    private static ByteBuffer copy(ByteBuffer buffer) {
        ByteBuffer copy = ByteBuffer.allocate(buffer.remaining());
        copy.put(buffer.duplicate());
        return copy.flip();
    }

    /** Serves the leader's committed batches, as the node's HTTP endpoint does; records which leader was asked. */
    private final class LeaderSource implements SnapshotSource {
        @Override
        public ByteBuffer snapshot(int leaderNodeId, TopicPartition tp) throws IOException {
            throw new IOException("no snapshot in these tests");
        }

        @Override
        public ByteBuffer records(int leaderNodeId, TopicPartition tp, long from, long to) throws IOException {
            leadersAsked.add((long) leaderNodeId);
            if (leaderLog == null) {
                throw new IOException("no leader log");
            }
            if (failAfterResponses-- <= 0) {
                throw new IOException("the leader stopped answering");
            }
            return leaderLog.read(from, Integer.MAX_VALUE, to, true).buffer();
        }

        @Override
        public SegmentRecords segmentRecords(int leaderNodeId, TopicPartition tp, long from, long to)
                throws IOException {
            ByteBuffer batches = records(leaderNodeId, tp, from, to);
            long base = batches.hasRemaining() ? leaderLog.segmentBaseOf(MemoryRecords.readableRecords(batches)
                    .batches().iterator().next().baseOffset()) : -1;
            return new SegmentRecords(batches, base);
        }
    }
}
