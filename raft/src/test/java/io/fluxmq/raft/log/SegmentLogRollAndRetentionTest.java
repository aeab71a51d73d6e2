package io.fluxmq.raft.log;

import static io.fluxmq.raft.log.SegmentLogReadTest.SMALL;
import static io.fluxmq.raft.log.SegmentLogReadTest.logFiles;
import static io.fluxmq.raft.log.TestBatches.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentLogRollAndRetentionTest {

    @TempDir
    Path dir;
    private final AtomicLong clock = new AtomicLong(1_000_000);
    private SegmentLog log;

    @AfterEach
    void closeLog() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    private void open(SegmentLogConfig config) throws IOException {
        log = SegmentLog.open(dir, config, clock::get);
    }

    private static long baseOf(Path file) {
        return Long.parseLong(file.getFileName().toString().substring(0, 20));
    }

    private List<Long> segmentBases() {
        return logFiles(log).stream().map(SegmentLogRollAndRetentionTest::baseOf).toList();
    }

    @Test
    void rollsWhenTheActiveSegmentIsOlderThanSegmentMs() throws Exception {
        open(new SegmentLogConfig(1 << 20, 1000, 4096, 4096));
        clock.addAndGet(5000);
        log.append(batch(0, 3));
        clock.addAndGet(1000);
        log.append(batch(3, 3));
        assertThat(segmentBases()).containsExactly(0L);
        clock.addAndGet(1);
        log.append(batch(6, 3));
        assertThat(segmentBases()).containsExactly(0L, 6L);
        clock.addAndGet(999);
        log.append(batch(9, 3));
        assertThat(segmentBases()).containsExactly(0L, 6L);
        assertThat(TestBatches.readAll(log)).hasSize(12);
    }

    @Test
    void segmentAgeSurvivesARestartThroughTheFirstBatchTimestamp() throws Exception {
        SegmentLogConfig config = new SegmentLogConfig(1 << 20, 1000, 4096, 4096);
        clock.set(5000);
        open(config);
        log.append(batch(0, 20, 4500));
        log.close();
        clock.set(5400);
        open(config);
        log.append(batch(1, 20, 5400));
        assertThat(segmentBases()).containsExactly(0L);
        clock.set(5501);
        log.append(batch(2, 20, 5501));
        assertThat(segmentBases()).containsExactly(0L, 2L);
    }

    /** A one-record batch at {@code offset} of about 600 bytes. */
    private static java.nio.ByteBuffer big(long offset) {
        return batch(offset, 600, 1000 + offset);
    }

    @Test
    void aChangedConfigRollsTheActiveSegmentByTheNewLimitsAndShapesTheNextSegments() throws Exception {
        open(new SegmentLogConfig(1 << 20, 3_600_000, 4096, 4096));
        int batchBytes = big(0).remaining();
        log.append(big(0));
        log.append(big(1));
        assertThat(segmentBases()).containsExactly(0L);

        log.configure(new SegmentLogConfig(2 * batchBytes + 1, 3_600_000, 4096, 4096)); // smaller than the active one
        assertThat(log.config().segmentBytes()).isEqualTo(2 * batchBytes + 1);
        log.append(big(2));
        assertThat(segmentBases()).as("the active segment rolls by the new size").containsExactly(0L, 2L);
        log.append(big(3));
        log.append(big(4));
        assertThat(segmentBases()).as("the new segment takes the new size").containsExactly(0L, 2L, 4L);

        log.configure(new SegmentLogConfig(1 << 20, 1000, 4096, 4096)); // larger size, shorter age
        log.append(big(5));
        log.append(big(6));
        assertThat(segmentBases()).as("a segment never grows past its own size").containsExactly(0L, 2L, 4L, 6L);
        log.append(big(7));
        assertThat(segmentBases()).as("the next segment takes the larger size").containsExactly(0L, 2L, 4L, 6L);
        clock.addAndGet(1001);
        log.append(big(8));
        assertThat(segmentBases()).as("the active segment rolls by the new age").containsExactly(0L, 2L, 4L, 6L, 8L);
        assertThat(TestBatches.readAll(log)).hasSize(9);
    }

    @Test
    void rollsWhenAnIndexIsFull() throws Exception {
        open(new SegmentLogConfig(1 << 20, 3_600_000, 0, 16));
        TestBatches.appendBatches(log, 6, 3);
        assertThat(segmentBases()).containsExactly(0L, 6L, 12L);
        assertThat(TestBatches.readAll(log)).hasSize(18);
    }

    /**
     * The active segment's index files grow with their entries instead of being sized to {@code maxIndexBytes} up
     * front (a file of large size gets a preallocation of several MiB on ext4; tens of thousands of them filled the
     * disk): every offset is still found through them, before and after a restart.
     */
    @Test
    void indexFilesGrowWithTheirEntriesNotToTheirMaximum() throws Exception {
        SegmentLogConfig config = new SegmentLogConfig(1 << 24, 3_600_000, 0, 1 << 20);
        open(config);
        Path index = dir.resolve(LogSegment.fileName(0, ".index"));
        Path timeIndex = dir.resolve(LogSegment.fileName(0, ".timeindex"));
        assertThat(Files.size(index)).as("a new segment's index").isZero();
        TestBatches.appendBatches(log, 1000, 1); // an entry per batch: 8,000 and 12,000 bytes of entries
        assertThat(Files.size(index)).isBetween(7_900L, 64L << 10);
        assertThat(Files.size(timeIndex)).isBetween(11_900L, 64L << 10);
        for (long offset = 0; offset < 1000; offset++) {
            assertThat(log.read(offset, 1, Long.MAX_VALUE, true).batches().iterator().next().baseOffset())
                    .isEqualTo(offset);
        }
        log.close();
        open(config);
        assertThat(Files.size(index)).as("rebuilt on open").isBetween(7_900L, 64L << 10);
        TestBatches.appendBatches(log, 10, 1);
        for (long offset = 0; offset < 1010; offset += 7) {
            assertThat(log.read(offset, 1, Long.MAX_VALUE, true).batches().iterator().next().baseOffset())
                    .isEqualTo(offset);
        }
    }

    @Test
    void deletesOldestSegmentsOverTheSizeLimit() throws Exception {
        open(SMALL);
        TestBatches.appendBatches(log, 30, 3);
        List<Path> logs = logFiles(log);
        long total = 0;
        for (Path p : logs) {
            total += p.equals(logs.get(logs.size() - 1)) ? 0 : Files.size(p);
        }
        long activeBytes = log.read(baseOf(logs.get(logs.size() - 1)), Integer.MAX_VALUE, Long.MAX_VALUE, true)
            .sizeInBytes();
        total += activeBytes;
        long retentionBytes = total - Files.size(logs.get(0)) - Files.size(logs.get(1));

        assertThat(log.deleteOldSegments(-1, retentionBytes, Long.MAX_VALUE)).isEqualTo(2);
        assertThat(log.logStartOffset()).isEqualTo(baseOf(logs.get(2)));
        assertThat(logs.get(0)).doesNotExist();
        assertThat(dir.resolve(LogSegment.fileName(0, ".index"))).doesNotExist();
        assertThatThrownBy(() -> log.read(0, 100, Long.MAX_VALUE, true)).isInstanceOf(OffsetOutOfRangeException.class);
        assertThat(TestBatches.readAll(log)).hasSize((int) (90 - baseOf(logs.get(2))));
        assertThat(log.deleteOldSegments(-1, retentionBytes, Long.MAX_VALUE)).isZero();

        log.close();
        open(SMALL);
        assertThat(log.logStartOffset()).isEqualTo(baseOf(logs.get(2)));
    }

    @Test
    void deletesOnlySegmentsEntirelyBelowTheGivenOffsetAndNeverTheActiveOne() throws Exception {
        open(SMALL);
        TestBatches.appendBatches(log, 30, 3);
        List<Long> bases = segmentBases();
        assertThat(log.deleteOldSegments(-1, 0, bases.get(2) - 1)).isEqualTo(1);
        assertThat(log.deleteOldSegments(-1, 0, bases.get(2))).isEqualTo(1);
        assertThat(log.logStartOffset()).isEqualTo(bases.get(2));
        assertThat(log.deleteOldSegments(-1, 0, Long.MAX_VALUE)).isEqualTo(bases.size() - 3);
        assertThat(segmentBases()).containsExactly(bases.get(bases.size() - 1));
        assertThat(log.logEndOffset()).isEqualTo(90);
        log.append(batch(90, 3));
        assertThat(log.read(90, 1000, Long.MAX_VALUE, true).sizeInBytes()).isPositive();
    }

    @Test
    void deletesSegmentsWhoseLargestTimestampIsOlderThanRetentionMs() throws Exception {
        open(SMALL);
        TestBatches.appendBatches(log, 30, 3);
        List<Long> bases = segmentBases();
        long lastOffsetOfSecond = bases.get(2) - 1;
        clock.set(1000 + lastOffsetOfSecond + 101);
        assertThat(log.deleteOldSegments(-1, -1, Long.MAX_VALUE)).isZero();
        assertThat(log.deleteOldSegments(101, -1, Long.MAX_VALUE)).as("second segment is exactly 101 ms old")
            .isEqualTo(1);
        assertThat(log.logStartOffset()).isEqualTo(bases.get(1));
        assertThat(log.deleteOldSegments(100, -1, Long.MAX_VALUE)).isEqualTo(1);
        assertThat(log.logStartOffset()).isEqualTo(bases.get(2));
    }
}
