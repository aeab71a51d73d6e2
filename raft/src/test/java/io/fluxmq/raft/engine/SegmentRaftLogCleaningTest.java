package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raft.log.CleanResult;
import io.fluxmq.raft.log.CleanerThrottle;
import io.fluxmq.raft.log.CompactionPolicy;
import io.fluxmq.raft.log.LogCleaner;
import io.fluxmq.raft.log.LogCleaner.EmptyBatches;
import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raftcore.Entry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.DefaultRecordBatch;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Log compaction of a segment log that is a Raft log ({@code partition.engine=multiraft}): the cleaner keeps every
 * batch, so every entry keeps its offset range and term, and a follower takes the compacted entries as they are.
 */
class SegmentRaftLogCleaningTest {

    /** Small segments (a few three-record batches each), an index entry per batch. */
    private static final SegmentLogConfig SMALL = new SegmentLogConfig(1024, Long.MAX_VALUE / 2, 0, 4096);
    private static final long HOUR = 3_600_000L;
    private static final CompactionPolicy EAGER = new CompactionPolicy(HOUR, 0, 0);

    @TempDir
    Path dir;
    private final AtomicLong clock = new AtomicLong(10 * HOUR);
    private final List<SegmentRaftLog> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws IOException {
        for (SegmentRaftLog log : opened) {
            log.close();
        }
    }

    private SegmentRaftLog open(String name) throws IOException {
        SegmentRaftLog log = SegmentRaftLog.open(dir.resolve(name), SMALL, clock::get);
        opened.add(log);
        return log;
    }

    private LogCleaner cleaner() {
        return new LogCleaner(CleanerThrottle.unlimited(), 1 << 20, clock::get);
    }

    record Place(long base, int count, long term, Entry.Kind kind) {
    }

    record Rec(long offset, String key, String value) {
    }

    /** A batch of three updates at {@code base}, keys cycling over four, each value naming its offset. */
    private ByteBuffer updates(long base, long term) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(512), RecordBatch.MAGIC_VALUE_V2,
            Compression.NONE, TimestampType.CREATE_TIME, base, RecordBatch.NO_TIMESTAMP, (int) term);
        for (long offset = base; offset < base + 3; offset++) {
            builder.append(clock.get(), bytes("k" + offset % 4), bytes("v@" + offset));
        }
        return builder.build().buffer();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Three terms, each opened by a leader change; a voter set in the first; many segments of updates. */
    private void fill(SegmentRaftLog log) {
        log.append(Entry.leaderChange(0, 1));
        log.append(Entry.config(1, 1, Set.of(1, 2, 3)));
        for (long term = 1; term <= 3; term++) {
            if (term > 1) {
                log.append(Entry.leaderChange(log.endOffset(), term));
            }
            for (int i = 0; i < 25; i++) {
                long base = log.endOffset();
                log.append(Entry.data(base, 3, term, updates(base, term)));
            }
        }
    }

    private static List<Place> places(SegmentRaftLog log) {
        return log.read(log.startOffset(), Integer.MAX_VALUE).stream()
            .map(e -> new Place(e.baseOffset(), e.count(), e.term(), e.kind())).toList();
    }

    private static List<MutableRecordBatch> batches(SegmentRaftLog log) {
        List<MutableRecordBatch> out = new ArrayList<>();
        long next = log.startOffset();
        while (next < log.endOffset()) { // a read stops at the end of a segment
            for (MutableRecordBatch batch : log.segmentLog().read(next, Integer.MAX_VALUE, Long.MAX_VALUE, true)
                .batches()) {
                out.add(batch);
                next = batch.nextOffset();
            }
        }
        return out;
    }

    /** The data records (control batches left out), in offset order; checks each value names its own offset. */
    private static List<Rec> records(SegmentRaftLog log) {
        List<Rec> out = new ArrayList<>();
        for (MutableRecordBatch batch : batches(log)) {
            if (batch.isControlBatch()) {
                continue;
            }
            for (Record r : batch) {
                String value = new String(Utils.toArray(r.value()), StandardCharsets.UTF_8);
                assertThat(value).isEqualTo("v@" + r.offset());
                out.add(new Rec(r.offset(), new String(Utils.toArray(r.key()), StandardCharsets.UTF_8), value));
            }
        }
        return out;
    }

    private static Map<String, Rec> latest(List<Rec> records) {
        Map<String, Rec> latest = new LinkedHashMap<>();
        records.forEach(r -> latest.put(r.key(), r));
        return latest;
    }

    /** What Raft asks of the log: the term each entry ends in and where each term ends. */
    private static List<Long> termQueries(SegmentRaftLog log) {
        List<Long> answers = new ArrayList<>();
        for (Place p : places(log)) {
            answers.add(log.termOfEntryEndingAt(p.base() + p.count() - 1));
            answers.add(log.floorBoundary(p.base() + p.count() / 2));
        }
        for (long term = 0; term <= 4; term++) {
            answers.add(log.endOffsetForTerm(term));
        }
        return answers;
    }

    @Test
    void aCompactedLogKeepsEveryEntryWithItsOffsetsAndTerm() throws Exception {
        SegmentRaftLog log = open("leader");
        fill(log);
        List<Place> places = places(log);
        List<Long> queries = termQueries(log);
        List<Rec> before = records(log);
        long end = log.endOffset();

        CleanResult result = cleaner().clean(log.segmentLog(), end, EAGER, EmptyBatches.KEEP);

        assertThat(result.segmentsReplaced()).isPositive();
        assertThat(result.recordsRemoved()).isPositive();
        assertThat(places(log)).isEqualTo(places);
        assertThat(termQueries(log)).isEqualTo(queries);
        assertThat(log.configEntries()).containsExactly(Entry.config(1, 1, Set.of(1, 2, 3)));
        assertThat(log.endOffset()).isEqualTo(end);
        List<Rec> after = records(log);
        assertThat(after).hasSizeLessThan(before.size());
        assertThat(before).containsAll(after);
        assertThat(latest(after)).isEqualTo(latest(before));
        assertThat(batches(log)).as("emptied batches stay as empty shells with their offsets and term")
            .anySatisfy(b -> {
                assertThat(b.countOrNull()).isZero();
                assertThat(b.sizeInBytes()).isEqualTo(DefaultRecordBatch.RECORD_BATCH_OVERHEAD);
                assertThat(b.lastOffset() - b.baseOffset()).isEqualTo(2);
                assertThat(b.partitionLeaderEpoch()).isPositive();
            });

        log.close();
        opened.remove(log);
        SegmentRaftLog reopened = open("leader"); // the scan on open checks entries are contiguous and terms rise
        assertThat(places(reopened)).isEqualTo(places);
        assertThat(termQueries(reopened)).isEqualTo(queries);
        assertThat(records(reopened)).isEqualTo(after);
        reopened.append(Entry.leaderChange(end, 4));
    }

    /** Why the ratis engine's way (emptied batches go) is not this engine's: the Raft log would have holes. */
    @Test
    void droppingEmptiedBatchesLeavesALogThatNoLongerOpensAsARaftLog() throws Exception {
        SegmentRaftLog log = open("leader");
        fill(log);
        cleaner().clean(log.segmentLog(), log.endOffset(), EAGER, EmptyBatches.DROP);
        log.close();
        opened.remove(log);
        assertThatThrownBy(() -> open("leader")).isInstanceOf(IOException.class)
            .hasMessageContaining("expected a batch at offset");
    }

    @Test
    void aFollowerFedTheCompactedEntriesHoldsTheSameLog() throws Exception {
        SegmentRaftLog leader = open("leader");
        fill(leader);
        List<Rec> before = records(leader);
        // one follower took the first half before the leader compacted, another starts empty afterwards
        SegmentRaftLog lagging = open("lagging");
        List<Entry> entries = leader.read(0, Integer.MAX_VALUE);
        entries.subList(0, entries.size() / 2).forEach(lagging::append);
        long caughtUpTo = lagging.endOffset();

        cleaner().clean(leader.segmentLog(), leader.endOffset(), EAGER, EmptyBatches.KEEP);
        SegmentRaftLog empty = open("empty");
        for (SegmentRaftLog follower : List.of(lagging, empty)) {
            while (follower.endOffset() < leader.endOffset()) {
                leader.read(follower.endOffset(), 4096).forEach(follower::append); // CRC checked on append
            }
        }

        for (SegmentRaftLog follower : List.of(lagging, empty)) {
            assertThat(places(follower)).isEqualTo(places(leader));
            assertThat(termQueries(follower)).isEqualTo(termQueries(leader));
            assertThat(latest(records(follower))).isEqualTo(latest(before));
        }
        assertThat(records(empty)).isEqualTo(records(leader));
        assertThat(records(lagging).stream().filter(r -> r.offset() < caughtUpTo).toList())
            .isEqualTo(before.stream().filter(r -> r.offset() < caughtUpTo).toList());
        assertThat(records(lagging).stream().filter(r -> r.offset() >= caughtUpTo).toList())
            .isEqualTo(records(leader).stream().filter(r -> r.offset() >= caughtUpTo).toList());
        // and the lagging follower compacts its own copy to the same records
        cleaner().clean(lagging.segmentLog(), lagging.endOffset(), EAGER, EmptyBatches.KEEP);
        assertThat(latest(records(lagging))).isEqualTo(latest(before));
        assertThat(places(lagging)).isEqualTo(places(leader));
    }

    /** A power cut at each point of the swap leaves a Raft log that opens with every entry, old or cleaned. */
    @ParameterizedTest
    @EnumSource(LogCleaner.Step.class)
    void aCrashMidSwapLeavesAWholeRaftLog(LogCleaner.Step crashAt) throws Exception {
        SegmentRaftLog log = open("leader");
        fill(log);
        log.force(log.endOffset());
        List<Place> places = places(log);
        List<Rec> before = records(log);
        Path reference = dir.resolve("reference");
        Files.createDirectories(reference);
        try (Stream<Path> files = Files.list(dir.resolve("leader"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, reference.resolve(f.getFileName()));
            }
        }
        SegmentRaftLog uninterrupted = open("reference");
        cleaner().clean(uninterrupted.segmentLog(), uninterrupted.endOffset(), EAGER, EmptyBatches.KEEP);

        LogCleaner crashing = new LogCleaner(CleanerThrottle.unlimited(), 1 << 20, clock::get, step -> {
            if (step == crashAt) {
                throw new IOException("power cut at " + step);
            }
        });
        assertThatThrownBy(() -> crashing.clean(log.segmentLog(), log.endOffset(), EAGER, EmptyBatches.KEEP))
            .hasMessageContaining("power cut");
        opened.remove(log); // dropped unclosed, as by the crash
        SegmentRaftLog recovered = open("leader");

        assertThat(places(recovered)).isEqualTo(places);
        assertThat(latest(records(recovered))).isEqualTo(latest(before));
        assertThat(before).containsAll(records(recovered));
        try (Stream<Path> files = Files.list(dir.resolve("leader"))) {
            assertThat(files.map(f -> f.getFileName().toString()))
                .noneMatch(n -> n.endsWith(".cleaned") || n.endsWith(".swap"));
        }
        cleaner().clean(recovered.segmentLog(), recovered.endOffset(), EAGER, EmptyBatches.KEEP);
        assertThat(records(recovered)).isEqualTo(records(uninterrupted));
        assertThat(places(recovered)).isEqualTo(places);
        recovered.append(Entry.leaderChange(recovered.endOffset(), 4));
    }
}
