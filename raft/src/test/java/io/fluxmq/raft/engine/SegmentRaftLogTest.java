package io.fluxmq.raft.engine;

import static io.fluxmq.raft.engine.RaftLogContractTest.answers;
import static io.fluxmq.raft.engine.RaftLogContractTest.assertSameEntries;
import static io.fluxmq.raft.engine.SegmentRaftLogContractTest.SMALL;
import static io.fluxmq.raft.engine.TestEntries.batch;
import static io.fluxmq.raft.engine.TestEntries.data;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raft.log.ForcedImage;
import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.MemoryRaftLog;
import io.fluxmq.raftcore.RaftLog;
import io.fluxmq.raftcore.Snapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.common.message.LeaderChangeMessage;
import org.apache.kafka.common.message.VotersRecord;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.ControlRecordUtils;
import org.apache.kafka.common.record.DefaultRecordBatch;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link SegmentRaftLog} adds to the {@code RaftLog} contract: Kafka batches, retention, recovery. */
class SegmentRaftLogTest {

    @TempDir
    Path dir;
    private final List<SegmentRaftLog> opened = new ArrayList<>();

    private SegmentRaftLog open(Path path) throws IOException {
        SegmentRaftLog log = SegmentRaftLog.open(path, SMALL, () -> 0L);
        opened.add(log);
        return log;
    }

    private SegmentRaftLog open() throws IOException {
        return open(dir.resolve("log"));
    }

    private SegmentRaftLog reopen(SegmentRaftLog log) throws IOException {
        log.close();
        return open();
    }

    @AfterEach
    void closeAll() throws IOException {
        for (SegmentRaftLog log : opened) {
            log.close();
        }
    }

    private static List<RecordBatch> batches(SegmentRaftLog log) {
        List<RecordBatch> batches = new ArrayList<>();
        long next = log.startOffset();
        while (next < log.endOffset()) {
            MemoryRecords records = log.segmentLog().read(next, Integer.MAX_VALUE, Long.MAX_VALUE, true);
            for (MutableRecordBatch batch : records.batches()) {
                batches.add(batch);
                next = batch.nextOffset();
            }
        }
        return batches;
    }

    @Test
    void storesTheEntrysPositionAndTermInTheBatchNotTheProposersBuffer() throws IOException {
        SegmentRaftLog log = open();
        log.append(Entry.leaderChange(0, 3));
        ByteBuffer proposed = batch(0, 4, RecordBatch.NO_PARTITION_LEADER_EPOCH, 30); // as a producer sent it
        ByteBuffer before = ByteBuffer.allocate(proposed.remaining()).put(proposed.duplicate()).flip();
        log.append(Entry.data(1, 4, 3, proposed)); // what RaftGroup.propose appends

        assertThat(proposed).isEqualTo(before);
        RecordBatch stored = batches(log).get(1);
        assertThat(stored.baseOffset()).isEqualTo(1);
        assertThat(stored.lastOffset()).isEqualTo(4);
        assertThat(stored.partitionLeaderEpoch()).isEqualTo(3);
        stored.ensureValid(); // the CRC does not cover either field
        List<Long> offsets = new ArrayList<>();
        for (Record record : stored) {
            offsets.add(record.offset());
        }
        assertThat(offsets).containsExactly(1L, 2L, 3L, 4L);
        Entry read = log.read(1, 100).get(0);
        assertThat(read.samePlace(Entry.data(1, 4, 3, proposed))).isTrue();
        assertThat(read.data().getLong(0)).isEqualTo(1);
    }

    @Test
    void refusesWhatIsNotOneBatchSpanningTheEntry() throws IOException {
        SegmentRaftLog log = open();
        log.append(Entry.leaderChange(0, 3));
        ByteBuffer two = ByteBuffer.allocate(1024);
        two.put(batch(1, 2, 3, 10)).put(batch(3, 2, 3, 10)).flip();
        ByteBuffer corrupt = batch(1, 2, 3, 10);
        corrupt.put(corrupt.limit() - 1, (byte) (corrupt.get(corrupt.limit() - 1) ^ 1));

        assertThatThrownBy(() -> log.append(Entry.data(1, 3, 3, batch(1, 2, 3, 10))))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 offsets");
        assertThatThrownBy(() -> log.append(Entry.data(1, 4, 3, two)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not one record batch");
        assertThatThrownBy(() -> log.append(Entry.data(1, 2, 3, corrupt)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CRC");
        assertThatThrownBy(() -> log.append(Entry.data(1, 1, 3,
            EntryBatches.controlBatch(Entry.leaderChange(1, 3)))))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("control batch");
        assertThatThrownBy(() -> log.append(data(1, 1, 2)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("after term 3");
        assertThat(log.endOffset()).isEqualTo(1);
        assertThat(batches(log)).hasSize(1);
    }

    @Test
    void leaderChangesAndVoterSetsAreControlBatchesConsumersSkip() throws IOException {
        SegmentRaftLog log = open();
        log.append(Entry.leaderChange(0, 2));
        log.append(Entry.config(1, 2, Set.of(4, 1, 7)));
        ByteBuffer abort = MemoryRecords.withEndTransactionMarker(2, 5, 2, 99L, (short) 1,
            new EndTransactionMarker(ControlRecordType.ABORT, 0)).buffer();
        log.append(Entry.data(2, 1, 2, abort)); // a transaction marker is data to Raft

        List<RecordBatch> batches = batches(log);
        for (RecordBatch control : batches.subList(0, 2)) {
            assertThat(control.isControlBatch()).isTrue();
            assertThat(control.hasProducerId()).isFalse();
            assertThat(control.isTransactional()).isFalse();
            assertThat(control.maxTimestamp()).isEqualTo(RecordBatch.NO_TIMESTAMP);
            assertThat(control.partitionLeaderEpoch()).isEqualTo(2);
            control.ensureValid();
        }
        assertThat(batches.get(0).iterator().hasNext()).isFalse(); // a leader change is an empty batch
        assertThat(batches.get(0).baseOffset()).isEqualTo(0);
        assertThat(batches.get(0).lastOffset()).isEqualTo(0);
        Record voters = batches.get(1).iterator().next();
        assertThat(ControlRecordType.parse(voters.key())).isEqualTo(ControlRecordType.KRAFT_VOTERS);
        assertThat(ControlRecordUtils.deserializeVotersRecord(voters).voters())
            .extracting(VotersRecord.Voter::voterId).containsExactly(1, 4, 7);

        List<Entry> entries = log.read(0, Integer.MAX_VALUE);
        assertThat(entries).extracting(Entry::kind)
            .containsExactly(Entry.Kind.LEADER_CHANGE, Entry.Kind.CONFIG, Entry.Kind.DATA);
        assertThat(entries.get(1).voters()).containsExactly(1, 4, 7);
    }

    @Test
    void aLeaderChangeOfTheEarlierOneRecordFormStillReadsAsOne() {
        LeaderChangeMessage change = new LeaderChangeMessage()
            .setVersion(ControlRecordUtils.LEADER_CHANGE_CURRENT_VERSION)
            .setLeaderId(-1)
            .setVoters(new ArrayList<>())
            .setGrantingVoters(new ArrayList<>());
        ByteBuffer legacy = MemoryRecords.withLeaderChangeMessage(7, RecordBatch.NO_TIMESTAMP, 3,
            ByteBuffer.allocate(128), change).buffer();

        Entry read = EntryBatches.toEntry(legacy, 0, legacy.remaining());
        assertThat(read.kind()).isEqualTo(Entry.Kind.LEADER_CHANGE);
        assertThat(read.baseOffset()).isEqualTo(7);
        assertThat(read.term()).isEqualTo(3);
        // an empty control batch with a producer id (the cleaner's kind, were it to keep one) is not a leader change
        ByteBuffer withProducer = ByteBuffer.allocate(DefaultRecordBatch.RECORD_BATCH_OVERHEAD);
        DefaultRecordBatch.writeEmptyHeader(withProducer, RecordBatch.MAGIC_VALUE_V2, 42L, (short) 0, 0, 8, 8, 3,
            TimestampType.CREATE_TIME, RecordBatch.NO_TIMESTAMP, true, true);
        withProducer.flip();
        assertThat(EntryBatches.kind(withProducer, 0, withProducer.remaining())).isEqualTo(Entry.Kind.DATA);
    }

    private static Snapshot snapshot(long offset, long term, Set<Integer> voters, String state) {
        return new Snapshot(offset, term, voters, ByteBuffer.wrap(state.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void logStartFollowsCompactionAndSurvivesReopen() throws IOException {
        SegmentRaftLog log = open();
        RaftLogContractTest.fill(log);
        for (long term = 5, base = 20; term <= 7; term++) {
            log.append(Entry.leaderChange(base, term));
            log.append(data(base + 1, 10, term, 100));
            base += 11;
        }
        assertThat(log.segmentLog().segmentCount()).isGreaterThan(3);
        assertThatThrownBy(() -> log.compact(snapshot(10, 2, Set.of(), ""))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.compact(snapshot(16, 3, Set.of(), ""))).isInstanceOf(IllegalArgumentException.class);

        log.compact(snapshot(16, 4, Set.of(1, 2, 3), "state at 16")); // inside term 4, after the config entry at 15
        assertThat(log.startOffset()).isEqualTo(16);
        assertThat(log.startTerm()).isEqualTo(4);
        assertThat(log.termOfEntryEndingAt(15)).isEqualTo(4);
        assertThat(log.termOfEntryEndingAt(14)).isEqualTo(-1);
        assertThat(log.endOffsetForTerm(2)).isEqualTo(16);
        assertThat(log.endOffsetForTerm(4)).isEqualTo(20);
        assertThat(log.floorBoundary(3)).isEqualTo(16);
        assertThat(log.configEntries()).isEmpty();
        assertThatThrownBy(() -> log.read(13, 100)).isInstanceOf(IllegalArgumentException.class);
        assertThat(log.read(16, 0)).hasSize(1);
        assertThatThrownBy(() -> log.truncateTo(13)).isInstanceOf(IllegalArgumentException.class);

        int segmentsBefore = log.segmentLog().segmentCount();
        log.compact(snapshot(31, 5, Set.of(1, 2, 3), "state at 31")); // the start of term 6: segments below go
        assertThat(log.segmentLog().segmentCount()).isLessThan(segmentsBefore);
        assertThat(log.startTerm()).isEqualTo(5);
        assertThat(log.lastTerm()).isEqualTo(7);
        List<String> answers = answers(log);

        SegmentRaftLog reopened = reopen(log);
        assertThat(answers(reopened)).isEqualTo(answers);
        assertThat(reopened.snapshot().offset()).isEqualTo(31);
        assertThat(reopened.snapshot().voters()).containsExactly(1, 2, 3);
        assertThat(StandardCharsets.UTF_8.decode(reopened.snapshot().data()).toString()).isEqualTo("state at 31");
        reopened.truncateTo(31);
        assertThat(reopened.endOffset()).isEqualTo(31);
        assertThat(reopened.lastTerm()).isEqualTo(5);
        reopened.append(Entry.leaderChange(31, 8));
        assertThat(reopened.endOffsetForTerm(5)).isEqualTo(31);
        assertThat(reopened.endOffsetForTerm(7)).isEqualTo(31);
    }

    @Test
    void resetStartsAnEmptyLogAtTheSnapshotAndSurvivesReopen() throws IOException {
        SegmentRaftLog log = open();
        RaftLogContractTest.fill(log);
        log.reset(snapshot(50, 6, Set.of(1, 2), "leader's state"));
        assertThat(log.startOffset()).isEqualTo(50);
        assertThat(log.endOffset()).isEqualTo(50);
        assertThat(log.lastTerm()).isEqualTo(6);
        log.append(Entry.leaderChange(50, 7));
        log.append(data(51, 2, 7));
        List<String> answers = answers(log);
        SegmentRaftLog reopened = reopen(log);
        assertThat(answers(reopened)).isEqualTo(answers);
        assertThat(reopened.snapshot().voters()).containsExactly(1, 2);

        reopened.reset(snapshot(52, 7, Set.of(), "")); // inside the log: its tail is dropped too
        assertThat(reopened.endOffset()).isEqualTo(52);
        assertThat(answers(reopen(reopened))).isEqualTo(answers(opened.get(opened.size() - 1)));
    }

    /** A crash after the snapshot was written and before the segments were replaced: the open finishes the reset. */
    @Test
    void aResetCutShortIsFinishedOnOpen() throws IOException {
        for (long offset : new long[] {9, 40}) { // inside an entry of the old log, past its end
            Path path = dir.resolve("cut-" + offset);
            SegmentRaftLog log = open(path);
            RaftLogContractTest.fill(log);
            log.close();
            LogStartSnapshot.write(path, snapshot(offset, 3, Set.of(), ""));
            SegmentRaftLog reopened = open(path);
            assertThat(reopened.startOffset()).isEqualTo(offset);
            assertThat(reopened.endOffset()).isEqualTo(offset);
            assertThat(reopened.lastTerm()).isEqualTo(3);
            reopened.append(Entry.leaderChange(offset, 4));
            assertThat(answers(reopen(reopened, path))).isEqualTo(answers(reopened));
        }
    }

    private SegmentRaftLog reopen(SegmentRaftLog log, Path path) throws IOException {
        log.close();
        return open(path);
    }

    @Test
    void refusesToOpenWithoutAKnownTermBeforeItsStart() throws IOException {
        SegmentRaftLog log = open();
        for (long base = 0, term = 1; term <= 6; term++, base += 11) {
            log.append(data(base, 11, term, 100));
        }
        log.compact(snapshot(44, 4, Set.of(), ""));
        assertThat(log.segmentLog().logStartOffset()).isEqualTo(44);
        log.close();
        Path file = dir.resolve("log").resolve(LogStartSnapshot.FILE);
        byte[] good = Files.readAllBytes(file);

        byte[] flipped = good.clone();
        flipped[10] ^= 1;
        Files.write(file, flipped);
        assertThatThrownBy(this::open).isInstanceOf(IOException.class).hasMessageContaining("corrupt");

        Files.delete(file);
        assertThatThrownBy(this::open).isInstanceOf(IOException.class).hasMessageContaining("term before");

        Files.write(file, good);
        SegmentRaftLog reopened = open();
        assertThat(reopened.startOffset()).isEqualTo(44);
        assertThat(reopened.startTerm()).isEqualTo(4);
    }

    /**
     * A power cut: whatever was not forced is lost. The log's forces are recorded in an image of its segment
     * ({@link ForcedImage}); the crash copies the directory and puts the image in place of the segment's data. Forced
     * entries survive, unforced ones vanish, and a truncation followed by a re-append to the same end is forced again.
     */
    @Test
    void forcedEntriesSurviveAPowerCutAndUnforcedOnesVanish() throws IOException {
        int segmentBytes = 1 << 20;
        ForcedImage disk = new ForcedImage(segmentBytes);
        Path path = dir.resolve("log");
        SegmentLogConfig config = new SegmentLogConfig(segmentBytes, Long.MAX_VALUE, 128, 4096);
        SegmentRaftLog log = SegmentRaftLog.open(path, disk.open(path, config));
        opened.add(log);
        RaftLogContractTest.fill(log);
        log.force(log.endOffset());
        List<String> forced = answers(log);
        log.append(Entry.leaderChange(20, 5));
        log.append(data(21, 7, 5, 300));
        assertThat(answers(crash(path, disk, "cut-1"))).isEqualTo(forced);

        log.force(21); // a Ready's persist end below the log end: the whole log is forced anyway
        List<String> forcedAgain = answers(log);
        log.truncateTo(21);
        log.append(data(21, 7, 5, 100)); // same end, other bytes
        log.force(28);
        assertThat(answers(log)).isNotEqualTo(forcedAgain);
        assertThat(answers(crash(path, disk, "cut-2"))).isEqualTo(answers(log));

        log.append(data(28, 3, 5, 100));
        log.force(28); // already durable below 28: nothing to do, and the entry at 28 may vanish
        assertThat(crash(path, disk, "cut-3").endOffset()).isEqualTo(28);
    }

    /** Opens a copy of the log directory holding only what reached the disk. */
    private SegmentRaftLog crash(Path path, ForcedImage disk, String name) throws IOException {
        Path copy = dir.resolve(name);
        Files.createDirectories(copy);
        try (var files = Files.list(path)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.copy(file, copy.resolve(file.getFileName()));
            }
        }
        disk.writeTo(copy);
        return open(copy);
    }

    /**
     * The segment log against the memory reference under random appends, truncations and reopens: after every step
     * both answer every query alike.
     */
    @Test
    void answersLikeTheMemoryLogUnderRandomAppendsTruncationsAndReopens() throws IOException {
        for (long seed = 1; seed <= 3; seed++) {
            Random random = new Random(seed);
            SegmentRaftLog log = open(dir.resolve("random-" + seed));
            MemoryRaftLog model = new MemoryRaftLog();
            long term = 1;
            for (int step = 0; step < 300; step++) {
                int action = random.nextInt(20);
                long end = model.endOffset();
                if (action < 12) {
                    Entry entry = data(end, 1 + random.nextInt(8), term, 10 + random.nextInt(300));
                    model.append(entry);
                    log.append(entry);
                } else if (action < 14) {
                    term += 1 + random.nextInt(2);
                    model.append(Entry.leaderChange(end, term));
                    log.append(Entry.leaderChange(end, term));
                } else if (action < 15) {
                    Entry config = Entry.config(end, term, Set.of(1, 2, 3 + random.nextInt(5)));
                    model.append(config);
                    log.append(config);
                } else if (action < 18 && end > 0) {
                    long to = model.floorBoundary(random.nextLong(end));
                    model.truncateTo(to);
                    log.truncateTo(to);
                } else if (action == 19) {
                    log.close();
                    log = open(dir.resolve("random-" + seed));
                }
                assertThat(answers(log)).as("seed %d step %d", seed, step).isEqualTo(answers(model));
            }
            assertSameEntries(log.read(0, Integer.MAX_VALUE), model.read(0, Integer.MAX_VALUE));
            assertThat(log.segmentLog().segmentCount()).isGreaterThan(1);
        }
    }
}
