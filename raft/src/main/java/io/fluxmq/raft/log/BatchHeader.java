package io.fluxmq.raft.log;

import java.nio.ByteBuffer;

import org.apache.kafka.common.record.DefaultRecordBatch;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.Records;

/**
 * Reads fields of a Kafka v2 record batch header at an absolute position of a buffer, without allocating and
 * without touching the buffer's position. Layout (big-endian): baseOffset int64 @0, batchLength int32 @8
 * (bytes after this field), partitionLeaderEpoch int32 @12, magic int8 @16, crc uint32 @17 (CRC-32C of
 * attributes..end), attributes int16 @21, lastOffsetDelta int32 @23, baseTimestamp int64 @27,
 * maxTimestamp int64 @35, producerId int64 @43, producerEpoch int16 @51, baseSequence int32 @53,
 * recordCount int32 @57, records @61.
 *
 * <p>Stateless and thread-safe.
 */
final class BatchHeader {

    /** Bytes before the records: the smallest legal batch. */
    static final int OVERHEAD = DefaultRecordBatch.RECORD_BATCH_OVERHEAD;
    private static final int PARTITION_LEADER_EPOCH_OFFSET = Records.LOG_OVERHEAD;
    /** The leading bytes {@link #stamp} writes into (base offset, length, partition leader epoch): outside the CRC. */
    static final int STAMPED_HEADER_BYTES = PARTITION_LEADER_EPOCH_OFFSET + 4;
    private static final int MAX_TIMESTAMP_OFFSET = DefaultRecordBatch.LAST_OFFSET_DELTA_OFFSET + 4 + 8;

    private BatchHeader() {
    }

    static long baseOffset(ByteBuffer buf, int pos) {
        return buf.getLong(pos + Records.OFFSET_OFFSET);
    }

    /** Total size of the batch including the offset and length fields; only meaningful for a checked batch. */
    static int size(ByteBuffer buf, int pos) {
        return buf.getInt(pos + Records.SIZE_OFFSET) + Records.LOG_OVERHEAD;
    }

    static long lastOffset(ByteBuffer buf, int pos) {
        return baseOffset(buf, pos) + buf.getInt(pos + DefaultRecordBatch.LAST_OFFSET_DELTA_OFFSET);
    }

    static long maxTimestamp(ByteBuffer buf, int pos) {
        return buf.getLong(pos + MAX_TIMESTAMP_OFFSET);
    }

    static int partitionLeaderEpoch(ByteBuffer buf, int pos) {
        return buf.getInt(pos + PARTITION_LEADER_EPOCH_OFFSET);
    }

    /** Writes the base offset and partition leader epoch of the batch at {@code pos} (neither is under the CRC). */
    static void stamp(ByteBuffer buf, int pos, long baseOffset, int partitionLeaderEpoch) {
        buf.putLong(pos + Records.OFFSET_OFFSET, baseOffset);
        buf.putInt(pos + PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
    }

    /**
     * Checks the batch starting at {@code pos}: complete within {@code limit}, length at least the batch overhead,
     * magic 2, base offset equal to {@code expectedBaseOffset}, non-negative last offset delta and, if asked,
     * a matching CRC.
     *
     * @return {@code null} when the batch is valid, otherwise a short reason
     */
    static String problem(ByteBuffer buf, int pos, int limit, long expectedBaseOffset, boolean checkCrc) {
        return problem(buf, pos, limit, expectedBaseOffset, checkCrc, false);
    }

    /**
     * {@link #problem(ByteBuffer, int, int, long, boolean)}; with {@code allowGap} the base offset may also lie above
     * {@code expectedBaseOffset}: a compacted log has gaps between batches (offsets whose records the cleaner removed),
     * as Kafka's do, but never goes backwards.
     */
    static String problem(ByteBuffer buf, int pos, int limit, long expectedBaseOffset, boolean checkCrc,
                          boolean allowGap) {
        int remaining = limit - pos;
        if (remaining < OVERHEAD) {
            return "only " + remaining + " bytes left, less than a batch header";
        }
        int length = buf.getInt(pos + Records.SIZE_OFFSET);
        if (length < OVERHEAD - Records.LOG_OVERHEAD || length > remaining - Records.LOG_OVERHEAD) {
            return "batch length " + length + " outside [" + (OVERHEAD - Records.LOG_OVERHEAD) + ", "
                + (remaining - Records.LOG_OVERHEAD) + "]";
        }
        byte magic = buf.get(pos + Records.MAGIC_OFFSET);
        if (magic != RecordBatch.MAGIC_VALUE_V2) {
            return "magic " + magic + " is not " + RecordBatch.MAGIC_VALUE_V2;
        }
        long base = baseOffset(buf, pos);
        if (allowGap ? base < expectedBaseOffset : base != expectedBaseOffset) {
            return "base offset " + base + " where " + (allowGap ? "at least " : "") + expectedBaseOffset
                + " was expected";
        }
        if (buf.getInt(pos + DefaultRecordBatch.LAST_OFFSET_DELTA_OFFSET) < 0) {
            return "negative last offset delta";
        }
        if (checkCrc && !crcMatches(buf, pos)) {
            return "CRC mismatch in batch at offset " + base;
        }
        return null;
    }

    /**
     * Whether the stored CRC-32C matches the bytes from the attributes field to the end of the batch. Computed with
     * {@link java.util.zip.CRC32C} directly on the buffer: kafka-clients' own check falls back to one byte at a time
     * for read-only heap buffers (which is what a Ratis {@code ByteString} hands out), which cost a quarter of a
     * replica's CPU.
     */
    static boolean crcMatches(ByteBuffer buf, int pos) {
        int from = pos + DefaultRecordBatch.CRC_OFFSET + Integer.BYTES;
        int end = pos + size(buf, pos);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(buf.slice(from, end - from));
        return crc.getValue() == Integer.toUnsignedLong(buf.getInt(pos + DefaultRecordBatch.CRC_OFFSET));
    }

    /** A kafka-clients view of the (checked) batch at {@code pos}; shares the buffer's memory. */
    static RecordBatch batchAt(ByteBuffer buf, int pos) {
        return MemoryRecords.readableRecords(buf.slice(pos, size(buf, pos))).firstBatch();
    }
}
