package io.fluxmq.raft.partition;

import java.nio.ByteBuffer;
import org.apache.kafka.common.record.RecordBatch;

/**
 * The small header a partition's Raft log entry carries as its log data; the record batch itself travels as
 * state-machine data and is stored only in the segment log.
 *
 * <p>Layout (big endian, {@value #SIZE} bytes): {@code version:int8 (=1) | baseOffset:int64 | lastOffset:int64 |
 * maxTimestamp:int64 | producerId:int64 | producerEpoch:int16 | baseSequence:int32 | lastSequence:int32 |
 * batchBytes:int32}. Everything a replica needs to advance its high watermark and rebuild producer state is here,
 * so applying a committed entry never has to read the batch back.
 */
public record EntryHeader(long baseOffset, long lastOffset, long maxTimestamp, long producerId, short producerEpoch,
                          int baseSequence, int lastSequence, int batchBytes) {

    public static final int SIZE = 1 + 8 + 8 + 8 + 8 + 2 + 4 + 4 + 4;
    private static final byte VERSION = 1;

    public static EntryHeader of(RecordBatch batch, int batchBytes) {
        return new EntryHeader(batch.baseOffset(), batch.lastOffset(), batch.maxTimestamp(), batch.producerId(),
                batch.producerEpoch(), batch.baseSequence(), batch.lastSequence(), batchBytes);
    }

    public boolean idempotent() {
        return producerId >= 0;
    }

    public long nextOffset() {
        return lastOffset + 1;
    }

    public ByteBuffer toBuffer() {
        ByteBuffer buffer = ByteBuffer.allocate(SIZE);
        buffer.put(VERSION).putLong(baseOffset).putLong(lastOffset).putLong(maxTimestamp).putLong(producerId)
                .putShort(producerEpoch).putInt(baseSequence).putInt(lastSequence).putInt(batchBytes);
        return buffer.flip();
    }

    public static EntryHeader parse(ByteBuffer buffer) {
        if (buffer.remaining() < SIZE) {
            throw new IllegalArgumentException("entry header needs " + SIZE + " bytes, got " + buffer.remaining());
        }
        byte version = buffer.get();
        if (version != VERSION) {
            throw new IllegalArgumentException("unknown entry header version " + version);
        }
        return new EntryHeader(buffer.getLong(), buffer.getLong(), buffer.getLong(), buffer.getLong(),
                buffer.getShort(), buffer.getInt(), buffer.getInt(), buffer.getInt());
    }
}
