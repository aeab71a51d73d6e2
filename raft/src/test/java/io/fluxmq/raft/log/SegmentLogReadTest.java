package io.fluxmq.raft.log;

import static io.fluxmq.raft.log.TestBatches.batch;
import static io.fluxmq.raft.log.TestBatches.batchBaseOffsets;
import static io.fluxmq.raft.log.TestBatches.concat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentLogReadTest {

    static final SegmentLogConfig SMALL = new SegmentLogConfig(1024, 3_600_000, 256, 4096);
    static final SegmentLogConfig LARGE = new SegmentLogConfig(1 << 20, 3_600_000, 256, 4096);

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

    private SegmentLog open(SegmentLogConfig config) throws IOException {
        log = SegmentLog.open(dir, config, clock::get);
        return log;
    }

    static List<Path> logFiles(SegmentLog log) {
        return log.segmentFiles().stream().filter(p -> p.toString().endsWith(".log")).toList();
    }

    @Test
    void emptyDirectoryYieldsEmptyLogAtOffsetZero() throws Exception {
        open(SMALL);
        assertThat(log.logStartOffset()).isZero();
        assertThat(log.logEndOffset()).isZero();
        assertThat(log.read(0, 1000, Long.MAX_VALUE, true).sizeInBytes()).isZero();
        assertThatThrownBy(() -> log.read(1, 1000, Long.MAX_VALUE, true)).isInstanceOf(OffsetOutOfRangeException.class);
        assertThat(log.segmentFiles()).extracting(p -> p.getFileName().toString())
            .containsExactly("00000000000000000000.log", "00000000000000000000.index",
                "00000000000000000000.timeindex");
        assertThat(Files.size(dir.resolve("00000000000000000000.log"))).isEqualTo(1024);
        assertThat(Files.size(dir.resolve("00000000000000000000.index"))).as("grows with its entries").isZero();
        assertThat(Files.size(dir.resolve("00000000000000000000.timeindex"))).isZero();
    }

    @Test
    void appendAndReadRoundTripAcrossRollsAndReopen() throws Exception {
        open(SMALL);
        List<Integer> sizes = TestBatches.appendBatches(log, 40, 3);
        assertThat(log.logEndOffset()).isEqualTo(120);
        List<Path> logs = logFiles(log);
        assertThat(logs).hasSizeGreaterThan(3);
        assertThat(TestBatches.readAll(log)).containsExactlyElementsOf(LongStream.range(0, 120).boxed().toList());

        long sealedBytes = 0;
        for (Path sealed : logs.subList(0, logs.size() - 1)) {
            assertThat(Files.size(sealed)).isBetween(1L, 1024L);
            sealedBytes += Files.size(sealed);
        }
        assertThat(Files.size(logs.get(logs.size() - 1))).as("active segment is pre-sized").isEqualTo(1024);
        long total = sizes.stream().mapToLong(Integer::longValue).sum();

        log.close();
        assertThat(sealedBytes + Files.size(logs.get(logs.size() - 1))).as("close trims the active segment")
            .isEqualTo(total);
        open(SMALL);
        assertThat(log.logEndOffset()).isEqualTo(120);
        assertThat(logFiles(log)).isEqualTo(logs);
        assertThat(TestBatches.readAll(log)).hasSize(120);
        TestBatches.appendBatches(log, 1, 3);
        assertThat(log.read(120, 1000, Long.MAX_VALUE, true).batches().iterator().next().baseOffset()).isEqualTo(120);
    }

    @Test
    void readHonoursMaxBytesAndMinOneBatch() throws Exception {
        open(LARGE);
        List<Integer> sizes = TestBatches.appendBatches(log, 5, 3);
        int two = sizes.get(0) + sizes.get(1);
        assertThat(batchBaseOffsets(log.read(0, two, Long.MAX_VALUE, false))).containsExactly(0L, 3L);
        assertThat(batchBaseOffsets(log.read(0, two - 1, Long.MAX_VALUE, false))).containsExactly(0L);
        assertThat(batchBaseOffsets(log.read(0, sizes.get(0) - 1, Long.MAX_VALUE, true))).containsExactly(0L);
        assertThat(log.read(0, sizes.get(0) - 1, Long.MAX_VALUE, false).sizeInBytes()).isZero();
        assertThat(batchBaseOffsets(log.read(3, Integer.MAX_VALUE, Long.MAX_VALUE, false)))
            .containsExactly(3L, 6L, 9L, 12L);
    }

    @Test
    void readHonoursMaxOffsetExclusive() throws Exception {
        open(LARGE);
        TestBatches.appendBatches(log, 5, 3);
        assertThat(batchBaseOffsets(log.read(0, Integer.MAX_VALUE, 6, true))).containsExactly(0L, 3L);
        assertThat(batchBaseOffsets(log.read(0, Integer.MAX_VALUE, 5, true))).containsExactly(0L);
        assertThat(log.read(0, Integer.MAX_VALUE, 2, true).sizeInBytes()).isZero();
        assertThat(log.read(3, Integer.MAX_VALUE, 3, true).sizeInBytes()).isZero();
    }

    @Test
    void readFromMidBatchReturnsTheContainingBatch() throws Exception {
        open(SMALL);
        TestBatches.appendBatches(log, 20, 3);
        for (long offset = 0; offset < 60; offset++) {
            MemoryRecords records = log.read(offset, 1, Long.MAX_VALUE, true);
            assertThat(batchBaseOffsets(records)).as("read at %d", offset).containsExactly(offset / 3 * 3);
        }
        assertThat(log.read(60, 1000, Long.MAX_VALUE, true).sizeInBytes()).isZero();
        assertThatThrownBy(() -> log.read(61, 1000, Long.MAX_VALUE, true))
            .isInstanceOf(OffsetOutOfRangeException.class);
    }

    @Test
    void readStaysWithinOneSegmentAndReturnsAReadOnlyViewOfTheMap() throws Exception {
        open(SMALL);
        TestBatches.appendBatches(log, 20, 3);
        long secondBase = Long.parseLong(logFiles(log).get(1).getFileName().toString().substring(0, 20));
        MemoryRecords records = log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true);
        List<Long> offsets = TestBatches.recordOffsets(records);
        assertThat(offsets.get(offsets.size() - 1)).isEqualTo(secondBase - 1);
        assertThat(records.buffer().isDirect()).isTrue();
        assertThat(records.buffer().isReadOnly()).isTrue();
    }

    @Test
    void batchesOfOneAppendLandInOneSegment() throws Exception {
        open(SMALL);
        int used = 0;
        int batchBytes = batch(0, 3).remaining();
        while (used + 3 * batchBytes <= SMALL.segmentBytes()) {
            used += TestBatches.appendBatches(log, 1, 3).get(0);
        }
        assertThat(logFiles(log)).hasSize(1);
        long start = log.logEndOffset();
        ByteBuffer three = concat(batch(start, 3), batch(start + 3, 3), batch(start + 6, 3));
        int position = three.position();
        log.append(three);
        assertThat(three.position()).as("caller's buffer untouched").isEqualTo(position);
        assertThat(logFiles(log)).hasSize(2);
        assertThat(logFiles(log).get(1).getFileName().toString()).isEqualTo(LogSegment.fileName(start, ".log"));
        assertThat(batchBaseOffsets(log.read(start, Integer.MAX_VALUE, Long.MAX_VALUE, true)))
            .containsExactly(start, start + 3, start + 6);
    }

    /**
     * A follower applies what its leader committed, which a leader with a larger segment size of the moment (a topic
     * config change reaches each node on its own) may have made larger than this log's segment size: the batches
     * take a segment of their own, grown to hold them, and the log goes on from there (DynamicConfigsIT found a
     * follower refusing such an entry, and so stuck for good).
     */
    @Test
    void batchesLargerThanASegmentTakeASegmentOfTheirOwn() throws Exception {
        open(SMALL);
        log.append(batch(0, 3));
        ByteBuffer tooBig = concat(LongStream.range(1, 13).mapToObj(i -> batch(i * 3, 3)).toArray(ByteBuffer[]::new));
        assertThat(tooBig.remaining()).isGreaterThan(SMALL.segmentBytes());
        log.append(tooBig);
        log.append(batch(39, 3));
        assertThat(logFiles(log)).extracting(f -> f.getFileName().toString()).containsExactly(
            LogSegment.fileName(0, ".log"), LogSegment.fileName(3, ".log"), LogSegment.fileName(39, ".log"));
        assertThat(batchBaseOffsets(log.read(3, Integer.MAX_VALUE, Long.MAX_VALUE, true)))
            .containsExactlyElementsOf(LongStream.range(1, 13).map(i -> i * 3).boxed().toList());
        assertThat(TestBatches.readAll(log)).hasSize(42);

        log.close();
        open(SMALL);
        assertThat(TestBatches.readAll(log)).as("after a restart").hasSize(42);
        log.truncateTo(21);
        log.append(concat(LongStream.range(0, 12).mapToObj(i -> batch(21 + i * 3, 3)).toArray(ByteBuffer[]::new)));
        assertThat(TestBatches.readAll(log)).as("truncated into the large segment, then another large append")
            .hasSize(57);
    }

    @Test
    void anOversizedFirstAppendGrowsTheEmptyActiveSegment() throws Exception {
        open(SMALL);
        ByteBuffer tooBig = concat(LongStream.range(0, 12).mapToObj(i -> batch(i * 3, 3)).toArray(ByteBuffer[]::new));
        log.append(tooBig);
        log.append(batch(36, 1));
        assertThat(logFiles(log)).hasSize(2);
        assertThat(TestBatches.readAll(log)).hasSize(37);
    }

    @Test
    void appendRejectsInvalidInputAndLeavesTheLogUsable() throws Exception {
        open(SMALL);
        assertThatThrownBy(() -> log.append(batch(1, 2))).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("base offset 1");
        assertThatThrownBy(() -> log.append(concat(batch(0, 2), batch(3, 1))))
            .isInstanceOf(IllegalArgumentException.class);
        ByteBuffer torn = batch(0, 2);
        torn.limit(torn.limit() - 1);
        assertThatThrownBy(() -> log.append(torn)).isInstanceOf(IllegalArgumentException.class);
        ByteBuffer corrupt = batch(0, 2);
        corrupt.put(corrupt.limit() - 1, (byte) (corrupt.get(corrupt.limit() - 1) ^ 1));
        assertThatThrownBy(() -> log.append(corrupt)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("CRC");
        assertThatThrownBy(() -> log.append(magicOneBatch())).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("magic");
        assertThatThrownBy(() -> log.append(ByteBuffer.allocate(0))).isInstanceOf(IllegalArgumentException.class);

        assertThat(log.logEndOffset()).isZero();
        log.append(batch(0, 2));
        assertThat(TestBatches.readAll(log)).containsExactly(0L, 1L);
    }

    private static ByteBuffer magicOneBatch() {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(256), RecordBatch.MAGIC_VALUE_V1,
            Compression.NONE, TimestampType.CREATE_TIME, 0);
        builder.append(1000, null, new byte[80]);
        return builder.build().buffer();
    }
}
