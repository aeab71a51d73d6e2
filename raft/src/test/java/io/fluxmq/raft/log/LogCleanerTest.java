package io.fluxmq.raft.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.apache.kafka.common.compress.Compression;
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

class LogCleanerTest {

    /** Small segments (about seven three-record batches each), an index entry per batch. */
    private static final SegmentLogConfig SMALL = new SegmentLogConfig(1024, Long.MAX_VALUE / 2, 0, 4096);
    private static final long HOUR = 3_600_000L;

    @TempDir
    Path dir;
    private final AtomicLong clock = new AtomicLong(10 * HOUR);
    private SegmentLog log;

    @AfterEach
    void closeLog() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    record Rec(long offset, String key, String value) {
    }

    /** One batch at {@code base}: records key-value pairs ({@code null} value: tombstone), timestamps {@code ts}. */
    static ByteBuffer keyed(long base, long ts, String... kv) {
        ByteBuffer buf = ByteBuffer.allocate(512);
        MemoryRecordsBuilder builder = MemoryRecords.builder(buf, RecordBatch.MAGIC_VALUE_V2, Compression.NONE,
            TimestampType.CREATE_TIME, base, RecordBatch.NO_TIMESTAMP, TestBatches.EPOCH);
        for (int i = 0; i < kv.length; i += 2) {
            builder.append(ts, bytes(kv[i]), kv[i + 1] == null ? null : bytes(kv[i + 1] + "@" + (base + i / 2)));
        }
        return builder.build().buffer();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Appends {@code batches} batches of three updates each, cycling over {@code keys} keys. */
    private void appendUpdates(int batches, int keys) throws IOException {
        for (int b = 0; b < batches; b++) {
            long base = log.logEndOffset();
            String[] kv = new String[6];
            for (int i = 0; i < 3; i++) {
                kv[2 * i] = "k" + ((base + i) % keys);
                kv[2 * i + 1] = "v";
            }
            log.append(keyed(base, clock.get(), kv));
        }
    }

    /** Every record from the log start, in offset order; checks each value names its own offset. */
    static List<Rec> readAll(SegmentLog log) {
        List<Rec> out = new ArrayList<>();
        long next = log.logStartOffset();
        while (next < log.logEndOffset()) {
            MemoryRecords records = log.read(next, Integer.MAX_VALUE, Long.MAX_VALUE, true);
            assertThat(records.sizeInBytes()).as("read at %d", next).isPositive();
            for (MutableRecordBatch batch : records.batches()) {
                for (Record r : batch) {
                    String value = r.hasValue() ? new String(Utils.toArray(r.value()), StandardCharsets.UTF_8) : null;
                    if (value != null) {
                        assertThat(value).endsWith("@" + r.offset());
                    }
                    out.add(new Rec(r.offset(), new String(Utils.toArray(r.key()), StandardCharsets.UTF_8), value));
                }
                next = batch.lastOffset() + 1;
            }
        }
        return out;
    }

    private static Map<String, Rec> latest(List<Rec> records) {
        Map<String, Rec> latest = new LinkedHashMap<>();
        for (Rec r : records) {
            latest.put(r.key(), r);
        }
        return latest;
    }

    private LogCleaner cleaner() {
        return new LogCleaner(CleanerThrottle.unlimited(), 1 << 20, clock::get);
    }

    private static CompactionPolicy policy(long deleteRetentionMs, double ratio, long lagMs) {
        return new CompactionPolicy(deleteRetentionMs, ratio, lagMs);
    }

    private List<String> cleaningFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                .filter(n -> n.endsWith(".cleaned") || n.endsWith(".swap")).toList();
        }
    }

    @Test
    void keepsTheLastValueOfEveryKeyAndTheOffsetsOfWhatItKeeps() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        appendUpdates(60, 5);
        List<Rec> before = readAll(log);
        long[] basesBefore = log.segmentBaseOffsets();
        long end = log.logEndOffset();
        long activeBase = basesBefore[basesBefore.length - 1];

        CleanResult result = cleaner().clean(log, end, policy(HOUR, 0.5, 0));

        assertThat(result.segmentsReplaced()).isPositive();
        assertThat(result.recordsRemoved()).isPositive();
        List<Rec> after = readAll(log);
        assertThat(latest(after)).isEqualTo(latest(before));
        assertThat(log.logEndOffset()).isEqualTo(end);
        // below the active segment: one record per key; the active segment untouched
        List<Rec> cleanedPart = after.stream().filter(r -> r.offset() < activeBase).toList();
        assertThat(cleanedPart.stream().map(Rec::key).distinct().count()).isEqualTo(cleanedPart.size());
        assertThat(after.stream().filter(r -> r.offset() >= activeBase).toList())
            .isEqualTo(before.stream().filter(r -> r.offset() >= activeBase).toList());
        // every kept record is the original at its original offset
        assertThat(before).containsAll(after);
        assertThat(log.segmentBaseOffsets()[log.segmentCount() - 1]).isEqualTo(activeBase);
        assertThat(cleaningFiles()).isEmpty();

        // the same after a restart
        log.close();
        log = SegmentLog.open(dir, SMALL, clock::get);
        assertThat(readAll(log)).isEqualTo(after);
        log.append(keyed(log.logEndOffset(), clock.get(), "k1", "w"));
    }

    @Test
    void batchesKeepTheirBaseAndLastOffsetsWhenRecordsGo() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        log.append(keyed(0, clock.get(), "a", "1", "b", "1", "a", "2"));
        log.append(keyed(3, clock.get(), "a", "3", "c", "1", "c", "2"));
        while (log.segmentCount() < 2) {
            log.append(keyed(log.logEndOffset(), clock.get(), "z", "1", "z", "2", "z", "3"));
        }
        cleaner().clean(log, log.logEndOffset(), policy(HOUR, 0, 0));
        List<MutableRecordBatch> batches = new ArrayList<>();
        log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true).batches().forEach(batches::add);
        assertThat(batches.get(0).baseOffset()).isEqualTo(0);
        assertThat(batches.get(0).lastOffset()).isEqualTo(2);
        assertThat(batches.get(0).partitionLeaderEpoch()).isEqualTo(TestBatches.EPOCH);
        List<Long> kept = new ArrayList<>();
        batches.get(0).forEach(r -> kept.add(r.offset()));
        assertThat(kept).containsExactly(1L); // b@1; a@0 and a@2 lost to a@3
        assertThat(batches.get(1).baseOffset()).isEqualTo(3);
        assertThat(batches.get(1).lastOffset()).isEqualTo(5);
    }

    @Test
    void theActiveSegmentIsNeverCleaned() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        appendUpdates(4, 2); // all in the first, active segment
        assertThat(log.segmentCount()).isEqualTo(1);
        List<Rec> before = readAll(log);
        CleanResult result = cleaner().clean(log, log.logEndOffset(), policy(HOUR, 0, 0));
        assertThat(result.segmentsRead()).isZero();
        assertThat(readAll(log)).isEqualTo(before);
    }

    @Test
    void cleansOnlyBelowTheCallersBound() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        appendUpdates(60, 5);
        long[] bases = log.segmentBaseOffsets();
        long bound = bases[2];
        List<Rec> before = readAll(log);
        cleaner().clean(log, bound, policy(HOUR, 0, 0));
        List<Rec> after = readAll(log);
        assertThat(after.stream().filter(r -> r.offset() >= bound).toList())
            .isEqualTo(before.stream().filter(r -> r.offset() >= bound).toList());
        assertThat(after.stream().filter(r -> r.offset() < bound).count())
            .isLessThan(before.stream().filter(r -> r.offset() < bound).count());
    }

    @Test
    void tombstonesStayUntilDeleteRetentionThenGo() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        log.append(keyed(0, clock.get(), "gone", "1", "kept", "1", "gone", "2"));
        log.append(keyed(3, clock.get(), "gone", null));
        while (log.segmentCount() < 3) {
            log.append(keyed(log.logEndOffset(), clock.get(), "z", "1", "z", "2", "z", "3"));
        }
        CompactionPolicy policy = policy(HOUR, 0.5, 0);
        cleaner().clean(log, log.logEndOffset(), policy);
        assertThat(readAll(log)).filteredOn(r -> r.key().equals("gone"))
            .containsExactly(new Rec(3, "gone", null));

        clock.addAndGet(HOUR - 1); // not yet past the horizon: a pass keeps the tombstone
        cleaner().clean(log, log.logEndOffset(), policy);
        assertThat(readAll(log)).filteredOn(r -> r.key().equals("gone")).hasSize(1);

        clock.addAndGet(1); // the horizon has passed: nothing is dirty, yet the pass runs and drops it
        CleanResult result = cleaner().clean(log, log.logEndOffset(), policy);
        assertThat(result.reason()).isEqualTo("cleaned");
        assertThat(readAll(log)).filteredOn(r -> r.key().equals("gone")).isEmpty();
        assertThat(readAll(log)).filteredOn(r -> r.key().equals("kept")).hasSize(1);
        clock.addAndGet(HOUR); // the horizon left on the batch of "kept" does not make every later pass run
        assertThat(cleaner().clean(log, log.logEndOffset(), policy).reason()).startsWith("nothing dirty");
    }

    @Test
    void segmentsYoungerThanTheCompactionLagWait() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        appendUpdates(30, 3);
        long firstYoung = log.logEndOffset();
        clock.addAndGet(HOUR);
        appendUpdates(30, 3); // newer records
        List<Rec> before = readAll(log);
        long youngFrom = 0; // the base of the segment holding the first young record
        for (long base : log.segmentBaseOffsets()) {
            youngFrom = base <= firstYoung ? base : youngFrom;
        }

        cleaner().clean(log, log.logEndOffset(), policy(HOUR, 0, HOUR / 2));

        List<Rec> after = readAll(log);
        long from = youngFrom;
        assertThat(after.stream().filter(r -> r.offset() >= from).toList())
            .isEqualTo(before.stream().filter(r -> r.offset() >= from).toList());
        assertThat(after.stream().filter(r -> r.offset() < from).count())
            .isLessThan(before.stream().filter(r -> r.offset() < from).count());

        clock.addAndGet(HOUR);
        cleaner().clean(log, log.logEndOffset(), policy(HOUR, 0, HOUR / 2));
        assertThat(readAll(log).size()).isLessThan(after.size());
    }

    @Test
    void aPassWaitsForTheDirtyRatio() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        appendUpdates(60, 50);
        CompactionPolicy policy = policy(HOUR, 0.5, 0);
        assertThat(cleaner().clean(log, log.logEndOffset(), policy).reason()).isEqualTo("cleaned");
        appendUpdates(8, 50); // a little dirt on a large clean part
        CleanResult waiting = cleaner().clean(log, log.logEndOffset(), policy);
        assertThat(waiting.reason()).startsWith("dirty ratio");
        appendUpdates(120, 50);
        assertThat(cleaner().clean(log, log.logEndOffset(), policy).reason()).isEqualTo("cleaned");
    }

    @Test
    void readersKeepTheirViewAcrossASwap() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        appendUpdates(60, 2);
        MemoryRecords held = log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true);
        List<Long> heldOffsets = TestBatches.recordOffsets(held);
        cleaner().clean(log, log.logEndOffset(), policy(HOUR, 0, 0));
        assertThat(TestBatches.recordOffsets(held)).isEqualTo(heldOffsets);
        assertThat(TestBatches.recordOffsets(log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true)))
            .hasSizeLessThan(heldOffsets.size());
    }

    /**
     * A truncation into a sealed segment the cleaner already read (a Raft log reset to its start) reopens that segment,
     * and appends may seal it again, same object, other bytes: the swap must not install the stale clean over them.
     */
    @Test
    void aSegmentTruncatedAndSealedAgainDuringAPassIsNotReplaced() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        appendUpdates(60, 2);
        List<Rec> before = readAll(log);
        long cut = before.get(3).offset(); // the second batch of the first segment
        AtomicBoolean raced = new AtomicBoolean();
        LogCleaner racing = new LogCleaner(CleanerThrottle.unlimited(), 1 << 20, clock::get, step -> {
            if (step == LogCleaner.Step.CLEANED_WRITTEN && raced.compareAndSet(false, true)) {
                log.truncateTo(cut);
                while (log.segmentCount() < 2) {
                    log.append(keyed(log.logEndOffset(), clock.get(), "new", "w", "new", "w", "new", "w"));
                }
            }
        });
        CleanResult result = racing.clean(log, log.logEndOffset(), policy(HOUR, 0, 0));

        assertThat(raced).isTrue();
        assertThat(result.segmentsReplaced()).isZero();
        List<Rec> after = readAll(log);
        assertThat(after.subList(0, 3)).isEqualTo(before.subList(0, 3));
        assertThat(after.subList(3, after.size())).isNotEmpty().allMatch(r -> r.key().equals("new"));
        assertThat(cleaningFiles()).isEmpty();
    }

    @Test
    void theThrottleHoldsTheCleanerToItsRate() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        appendUpdates(60, 5);
        AtomicLong nanos = new AtomicLong();
        CleanerThrottle throttle = new CleanerThrottle(1000, nanos::get, nanos::addAndGet);
        CleanResult result = new LogCleaner(throttle, 1 << 20, clock::get)
            .clean(log, log.logEndOffset(), policy(HOUR, 0, 0));
        long bytes = result.bytesRead() + result.bytesWritten();
        // reads for the key map, then reads and writes of the clean: at 1000 bytes/s that many seconds of sleep
        assertThat(nanos.get()).isGreaterThanOrEqualTo((bytes - 1000) * 1_000_000L);
    }

    @Test
    void appendCopiedTakesAGappedLogAndRecoveryKeepsIt() throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        log.append(keyed(0, clock.get(), "a", "1"));
        assertThatThrownBy(() -> log.append(keyed(5, clock.get(), "a", "2")))
            .isInstanceOf(IllegalArgumentException.class);
        log.appendCopied(keyed(5, clock.get(), "a", "2"));
        assertThatThrownBy(() -> log.appendCopied(keyed(3, clock.get(), "a", "3")))
            .isInstanceOf(IllegalArgumentException.class);
        log.flush();
        log = reopenWithoutClose();
        assertThat(readAll(log)).containsExactly(new Rec(0, "a", "1@0"), new Rec(5, "a", "2@5"));
        assertThat(log.logEndOffset()).isEqualTo(6);
    }

    /** Opens the directory again as after a crash: the old instance is dropped unclosed. */
    private SegmentLog reopenWithoutClose() throws IOException {
        return SegmentLog.open(dir, SMALL, clock::get);
    }

    /** A power cut at each point of the swap leaves the old segments or the new one, never a loss, after reopening. */
    @ParameterizedTest
    @EnumSource(LogCleaner.Step.class)
    void aCrashMidSwapLeavesTheOldOrTheNewSegments(LogCleaner.Step crashAt) throws Exception {
        log = SegmentLog.open(dir, SMALL, clock::get);
        appendUpdates(60, 5);
        log.flush();
        List<Rec> before = readAll(log);
        SegmentLog expectedCleaned;
        Path reference = Files.createTempDirectory(dir.getParent(), "reference");
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, reference.resolve(f.getFileName()));
            }
        }
        expectedCleaned = SegmentLog.open(reference, SMALL, clock::get);
        cleaner().clean(expectedCleaned, expectedCleaned.logEndOffset(), policy(HOUR, 0, 0));
        List<Rec> cleaned = readAll(expectedCleaned);
        expectedCleaned.close();

        LogCleaner crashing = new LogCleaner(CleanerThrottle.unlimited(), 1 << 20, clock::get, step -> {
            if (step == crashAt) {
                throw new IOException("power cut at " + step);
            }
        });
        assertThatThrownBy(() -> crashing.clean(log, log.logEndOffset(), policy(HOUR, 0, 0)))
            .hasMessageContaining("power cut");
        SegmentLog abandoned = log;
        log = reopenWithoutClose();
        List<Rec> recovered = readAll(log);
        if (crashAt == LogCleaner.Step.CLEANED_WRITTEN) {
            assertThat(recovered).isEqualTo(before);
        } else {
            // the swap was committed: the first group is the cleaned one, the rest as before (cleaned on the next pass)
            assertThat(recovered).isSubsetOf(before);
            assertThat(before).containsAll(cleaned);
            assertThat(recovered).containsAll(cleaned);
        }
        assertThat(latest(recovered)).isEqualTo(latest(before));
        assertThat(cleaningFiles()).isEmpty();
        assertThat(log.logEndOffset()).isEqualTo(abandoned.logEndOffset());
        cleaner().clean(log, log.logEndOffset(), policy(HOUR, 0, 0));
        assertThat(readAll(log)).isEqualTo(cleaned);
        log.append(keyed(log.logEndOffset(), clock.get(), "k1", "after"));
    }
}
