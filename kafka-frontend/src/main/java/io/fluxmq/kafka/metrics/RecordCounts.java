package io.fluxmq.kafka.metrics;

import java.nio.ByteBuffer;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * How many records a set of record batches holds, read from the batch headers only (magic v2: base offset at byte 0,
 * batch length at 8, magic at 16, record count at 57), so counting costs one header read per batch and never touches
 * the records. Batches of an older magic count as one record each (FluxMQ stores v2 only).
 */
public final class RecordCounts {
    private static final int LENGTH_OFFSET = 8;
    private static final int MAGIC_OFFSET = 16;
    private static final int RECORDS_COUNT_OFFSET = 57;
    private static final int LOG_OVERHEAD = 12;

    private RecordCounts() {
    }

    /** The records of every whole batch in {@code records}; a trailing partial batch is not counted. */
    public static int of(MemoryRecords records) {
        return of(records.buffer());
    }

    /** As {@link #of(MemoryRecords)}, over the buffer's remaining bytes (absolute reads; its position is unchanged). */
    public static int of(ByteBuffer batches) {
        int count = 0;
        int pos = batches.position();
        int limit = batches.limit();
        while (limit - pos >= RECORDS_COUNT_OFFSET + 4) {
            int length = batches.getInt(pos + LENGTH_OFFSET);
            int next = pos + LOG_OVERHEAD + length;
            if (length <= 0 || next > limit || next < 0) {
                break;
            }
            count += batches.get(pos + MAGIC_OFFSET) >= 2 ? batches.getInt(pos + RECORDS_COUNT_OFFSET) : 1;
            pos = next;
        }
        return count;
    }
}
