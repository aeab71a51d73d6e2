package io.fluxmq.raft.log;

import static io.fluxmq.raft.log.SegmentLogReadTest.SMALL;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.common.record.MemoryRecords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentLogConcurrencyTest {

    @TempDir
    Path dir;

    @Test
    void readersSeeConsistentDataWhileTheWriterAppendsAndRolls() throws Exception {
        try (SegmentLog log = SegmentLog.open(dir, SMALL, () -> 1_000_000L)) {
            log.append(TestBatches.batch(0, 3));
            AtomicBoolean done = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong checks = new AtomicLong();
            Thread reader = new Thread(() -> {
                try {
                    while (!done.get()) {
                        long end = log.logEndOffset();
                        long offset = ThreadLocalRandom.current().nextLong(log.logStartOffset(), end);
                        MemoryRecords records = log.read(offset, 500, end, true);
                        List<Long> offsets = TestBatches.recordOffsets(records);
                        assertThat(offsets).isNotEmpty().contains(offset);
                        assertThat(offsets.get(offsets.size() - 1)).isLessThan(end);
                        assertThat(log.offsetForTimestamp(1000 + offset, end))
                            .contains(new TimestampAndOffset(1000 + offset, offset, TestBatches.EPOCH));
                        assertThat(log.maxTimestamp(end))
                            .contains(new TimestampAndOffset(999 + end, end - 1, TestBatches.EPOCH));
                        checks.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            reader.start();
            for (int i = 0; i < 400 && failure.get() == null; i++) {
                TestBatches.appendBatches(log, 1, 1 + i % 3);
            }
            done.set(true);
            reader.join();
            assertThat(failure.get()).isNull();
            assertThat(checks.get()).isPositive();
            assertThat(SegmentLogReadTest.logFiles(log)).hasSizeGreaterThan(10);
        }
    }

    @Test
    void viewsStayReadableAfterTheirSegmentIsSealed() throws Exception {
        try (SegmentLog log = SegmentLog.open(dir, SMALL, () -> 1_000_000L)) {
            TestBatches.appendBatches(log, 2, 3);
            MemoryRecords view = log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true);
            TestBatches.appendBatches(log, 20, 3);
            assertThat(SegmentLogReadTest.logFiles(log)).hasSizeGreaterThan(1);
            assertThat(TestBatches.recordOffsets(view)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
            view.batches().forEach(b -> assertThat(b.isValid()).isTrue());
        }
    }
}
