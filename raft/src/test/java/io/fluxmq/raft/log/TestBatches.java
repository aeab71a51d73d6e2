package io.fluxmq.raft.log;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.Utils;

/** Builds Kafka v2 batches for tests; each record's value names its offset so reads can be checked. */
final class TestBatches {

    static final int EPOCH = 7;

    private TestBatches() {
    }

    /** One batch at {@code baseOffset} with one record per timestamp, values padded to {@code valueBytes}. */
    static ByteBuffer batch(long baseOffset, int valueBytes, long... timestamps) {
        ByteBuffer buf = ByteBuffer.allocate(256 + timestamps.length * (valueBytes + 64));
        MemoryRecordsBuilder builder = MemoryRecords.builder(buf, RecordBatch.MAGIC_VALUE_V2, Compression.NONE,
            TimestampType.CREATE_TIME, baseOffset, RecordBatch.NO_TIMESTAMP, EPOCH);
        for (int i = 0; i < timestamps.length; i++) {
            builder.append(timestamps[i], null, value(baseOffset + i, valueBytes));
        }
        return builder.build().buffer();
    }

    /** A batch of {@code records} records whose timestamps are 1000 + offset. */
    static ByteBuffer batch(long baseOffset, int records) {
        long[] ts = new long[records];
        for (int i = 0; i < records; i++) {
            ts[i] = 1000 + baseOffset + i;
        }
        return batch(baseOffset, 20, ts);
    }

    /** Appends {@code count} batches of {@code recordsPerBatch} records; returns each batch's size in bytes. */
    static List<Integer> appendBatches(SegmentLog log, int count, int recordsPerBatch) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ByteBuffer b = batch(log.logEndOffset(), recordsPerBatch);
            sizes.add(b.remaining());
            log.append(b);
        }
        return sizes;
    }

    static ByteBuffer concat(ByteBuffer... buffers) {
        ByteBuffer out = ByteBuffer.allocate(Arrays.stream(buffers).mapToInt(ByteBuffer::remaining).sum());
        for (ByteBuffer b : buffers) {
            out.put(b.duplicate());
        }
        return out.flip();
    }

    static List<Long> recordOffsets(MemoryRecords records) {
        List<Long> offsets = new ArrayList<>();
        for (Record r : records.records()) {
            offsets.add(r.offset());
        }
        return offsets;
    }

    static List<Long> batchBaseOffsets(MemoryRecords records) {
        List<Long> offsets = new ArrayList<>();
        records.batches().forEach(b -> offsets.add(b.baseOffset()));
        return offsets;
    }

    /** Reads the whole log from its start, batch by batch, checking that each record's value names its offset. */
    static List<Long> readAll(SegmentLog log) {
        List<Long> offsets = new ArrayList<>();
        long next = log.logStartOffset();
        while (next < log.logEndOffset()) {
            MemoryRecords records = log.read(next, Integer.MAX_VALUE, Long.MAX_VALUE, true);
            for (Record r : records.records()) {
                String value = new String(Utils.toArray(r.value()), StandardCharsets.UTF_8);
                if (!value.startsWith("value-" + r.offset() + "-")) {
                    throw new AssertionError("record at " + r.offset() + " has value " + value);
                }
                offsets.add(r.offset());
                next = r.offset() + 1;
            }
            if (records.sizeInBytes() == 0) {
                throw new AssertionError("empty read at " + next + " below log end " + log.logEndOffset());
            }
        }
        return offsets;
    }

    private static byte[] value(long offset, int valueBytes) {
        StringBuilder sb = new StringBuilder("value-").append(offset).append('-');
        while (sb.length() < valueBytes) {
            sb.append('x');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
