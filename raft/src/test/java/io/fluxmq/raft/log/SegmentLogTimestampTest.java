package io.fluxmq.raft.log;

import static io.fluxmq.raft.log.TestBatches.EPOCH;
import static io.fluxmq.raft.log.TestBatches.batch;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentLogTimestampTest {

    @TempDir
    Path dir;
    private SegmentLog log;

    @AfterEach
    void closeLog() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    private void open(SegmentLogConfig config) throws IOException {
        log = SegmentLog.open(dir, config, () -> 1_000_000L);
    }

    @Test
    void findsRecordsNotBatches() throws Exception {
        open(SegmentLogReadTest.LARGE);
        assertThat(log.offsetForTimestamp(0, Long.MAX_VALUE)).isEmpty();
        assertThat(log.maxTimestamp(Long.MAX_VALUE)).isEmpty();
        log.append(batch(0, 20, 100, 300, 200));
        log.append(batch(3, 20, 150));
        log.append(batch(4, 20, 300, 400));

        assertThat(log.offsetForTimestamp(250, Long.MAX_VALUE)).contains(new TimestampAndOffset(300, 1, EPOCH));
        assertThat(log.offsetForTimestamp(301, Long.MAX_VALUE)).contains(new TimestampAndOffset(400, 5, EPOCH));
        assertThat(log.offsetForTimestamp(401, Long.MAX_VALUE)).isEmpty();
        assertThat(log.offsetForTimestamp(250, 1)).isEmpty();
        assertThat(log.offsetForTimestamp(301, 5)).isEmpty();
        assertThat(log.offsetForTimestamp(120, 3)).contains(new TimestampAndOffset(300, 1, EPOCH));

        assertThat(log.maxTimestamp(Long.MAX_VALUE)).contains(new TimestampAndOffset(400, 5, EPOCH));
        assertThat(log.maxTimestamp(5)).contains(new TimestampAndOffset(300, 1, EPOCH));
        assertThat(log.maxTimestamp(1)).contains(new TimestampAndOffset(100, 0, EPOCH));
        assertThat(log.maxTimestamp(0)).isEmpty();
    }

    @Test
    void compressedAndLogAppendTimeBatchesAreSearchedByRecord() throws Exception {
        open(SegmentLogReadTest.LARGE);
        MemoryRecordsBuilder gzip = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.MAGIC_VALUE_V2,
            Compression.gzip().build(), TimestampType.CREATE_TIME, 0, RecordBatch.NO_TIMESTAMP, EPOCH);
        gzip.append(100, null, "a".getBytes(StandardCharsets.UTF_8));
        gzip.append(500, null, "b".getBytes(StandardCharsets.UTF_8));
        gzip.append(300, null, "c".getBytes(StandardCharsets.UTF_8));
        log.append(gzip.build().buffer());
        MemoryRecordsBuilder appendTime = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.MAGIC_VALUE_V2,
            Compression.NONE, TimestampType.LOG_APPEND_TIME, 3, 777, EPOCH);
        appendTime.append(1, null, "d".getBytes(StandardCharsets.UTF_8));
        appendTime.append(2, null, "e".getBytes(StandardCharsets.UTF_8));
        log.append(appendTime.build().buffer());

        assertThat(TestBatches.recordOffsets(log.read(0, 10_000, Long.MAX_VALUE, true)))
            .containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(log.offsetForTimestamp(200, Long.MAX_VALUE)).contains(new TimestampAndOffset(500, 1, EPOCH));
        assertThat(log.offsetForTimestamp(501, Long.MAX_VALUE)).contains(new TimestampAndOffset(777, 3, EPOCH));
        assertThat(log.maxTimestamp(Long.MAX_VALUE)).contains(new TimestampAndOffset(777, 3, EPOCH));
        assertThat(log.maxTimestamp(3)).contains(new TimestampAndOffset(500, 1, EPOCH));
        assertThat(log.maxTimestamp(1)).contains(new TimestampAndOffset(100, 0, EPOCH));
    }

    @Test
    void maxTimestampTiesResolveToTheEarliestOffsetAcrossBatchesAndSegments() throws Exception {
        open(SegmentLogReadTest.SMALL);
        log.append(batch(0, 20, 100, 300));
        log.append(batch(2, 20, 300));
        while (SegmentLogReadTest.logFiles(log).size() < 3) {
            log.append(batch(log.logEndOffset(), 20, 300, 50));
        }
        assertThat(log.maxTimestamp(Long.MAX_VALUE)).contains(new TimestampAndOffset(300, 1, EPOCH));
        assertThat(log.maxTimestamp(2)).contains(new TimestampAndOffset(300, 1, EPOCH));
        log.close();
        open(SegmentLogReadTest.SMALL);
        assertThat(log.maxTimestamp(Long.MAX_VALUE)).contains(new TimestampAndOffset(300, 1, EPOCH));
    }

    @Test
    void increasingTimestampsFindEveryOffsetThroughDenseIndexes() throws Exception {
        open(new SegmentLogConfig(1024, 3_600_000, 0, 4096));
        TestBatches.appendBatches(log, 40, 1);
        for (long offset = 0; offset < 40; offset++) {
            assertThat(log.offsetForTimestamp(1000 + offset, Long.MAX_VALUE))
                .contains(new TimestampAndOffset(1000 + offset, offset, EPOCH));
            assertThat(log.maxTimestamp(offset + 1)).contains(new TimestampAndOffset(1000 + offset, offset, EPOCH));
        }
    }

    @Test
    void matchesABruteForceSearchAcrossSegmentsBeforeAndAfterReopen() throws Exception {
        for (int interval : new int[] {0, 300}) {
            SegmentLogConfig config = new SegmentLogConfig(1024, 3_600_000, interval, 4096);
            Path sub = dir.resolve("interval-" + interval);
            log = SegmentLog.open(sub, config, () -> 1_000_000L);
            List<long[]> records = appendRandomBatches(new Random(interval + 42));
            assertThat(SegmentLogReadTest.logFiles(log)).hasSizeGreaterThan(3);
            assertMatchesBruteForce(records);
            log.close();
            log = SegmentLog.open(sub, config, () -> 1_000_000L);
            assertMatchesBruteForce(records);
            log.close();
            log = null;
        }
    }

    /**
     * Appends 60 batches of 1-4 records whose timestamps rise by 10 per batch with 40 of noise, so the time index
     * gets many entries while records stay out of order; returns {offset, timestamp} per record.
     */
    private List<long[]> appendRandomBatches(Random random) throws Exception {
        List<long[]> records = new ArrayList<>();
        for (int b = 0; b < 60; b++) {
            long base = log.logEndOffset();
            long[] ts = new long[1 + random.nextInt(4)];
            for (int i = 0; i < ts.length; i++) {
                ts[i] = b * 10L + random.nextInt(40);
                records.add(new long[] {base + i, ts[i]});
            }
            log.append(batch(base, 20, ts));
        }
        return records;
    }

    private void assertMatchesBruteForce(List<long[]> records) {
        long end = log.logEndOffset();
        for (long limit = 0; limit <= end; limit += 7) {
            for (long ts = -1; ts <= 650; ts += 3) {
                assertThat(log.offsetForTimestamp(ts, limit)).as("ts %d below %d", ts, limit)
                    .isEqualTo(expectedForTimestamp(records, ts, limit));
            }
            assertThat(log.maxTimestamp(limit)).as("max below %d", limit).isEqualTo(expectedMax(records, limit));
        }
    }

    private static Optional<TimestampAndOffset> expectedForTimestamp(List<long[]> records, long ts, long limit) {
        return records.stream().filter(r -> r[0] < limit && r[1] >= ts).findFirst()
            .map(r -> new TimestampAndOffset(r[1], r[0], EPOCH));
    }

    private static Optional<TimestampAndOffset> expectedMax(List<long[]> records, long limit) {
        long[] best = null;
        for (long[] r : records) {
            if (r[0] < limit && (best == null || r[1] > best[1])) {
                best = r;
            }
        }
        return Optional.ofNullable(best).map(r -> new TimestampAndOffset(r[1], r[0], EPOCH));
    }
}
