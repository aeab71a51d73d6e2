package io.fluxmq.raft.partition;

import java.nio.ByteBuffer;
import org.apache.kafka.common.record.RecordBatch;

/**
 * The small header a partition's Raft log entry carries as its log data; the record batch itself travels as
 * state-machine data and is stored only in the segment log.
 *
 * <p>Layout (big endian, {@value #SIZE} bytes): {@code version:int8 (=3) | baseOffset:int64 | lastOffset:int64 |
 * maxTimestamp:int64 | producerId:int64 | producerEpoch:int16 | baseSequence:int32 | lastSequence:int32 |
 * batchBytes:int32 | appendTimeMs:int64}. Version 1 ({@value #SIZE_V1} bytes) lacks {@code appendTimeMs}; Raft logs
 * written before version 3 still parse, with {@code appendTimeMs = -1} (unknown). Version 2 is not a header: the first
 * byte 2 marks a {@link LogStartEntry}. Everything a replica needs to
 * advance its high watermark and rebuild producer state is here, so applying a committed entry never has to read
 * the batch back.
 *
 * @param appendTimeMs the leader's wall clock when it appended the entry, or {@link RecordBatch#NO_TIMESTAMP}: the
 *                     replicated clock that producer-state expiry runs on (see {@link ProducerStateTable})
 */
public record EntryHeader(long baseOffset, long lastOffset, long maxTimestamp, long producerId, short producerEpoch,
                          int baseSequence, int lastSequence, int batchBytes, long appendTimeMs) {

    public static final int SIZE = 1 + 8 + 8 + 8 + 8 + 2 + 4 + 4 + 4 + 8;
    static final int SIZE_V1 = SIZE - 8;
    static final byte VERSION = 3;

    /** A header without an append time, as version 1 entries parse. */
    public EntryHeader(long baseOffset, long lastOffset, long maxTimestamp, long producerId, short producerEpoch,
                       int baseSequence, int lastSequence, int batchBytes) {
        this(baseOffset, lastOffset, maxTimestamp, producerId, producerEpoch, baseSequence, lastSequence, batchBytes,
                RecordBatch.NO_TIMESTAMP);
    }

    public static EntryHeader of(RecordBatch batch, int batchBytes, long appendTimeMs) {
        return new EntryHeader(batch.baseOffset(), batch.lastOffset(), batch.maxTimestamp(), batch.producerId(),
                batch.producerEpoch(), batch.baseSequence(), batch.lastSequence(), batchBytes, appendTimeMs);
    }

    public static EntryHeader of(RecordBatch batch, int batchBytes) {
        return of(batch, batchBytes, RecordBatch.NO_TIMESTAMP);
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
                .putShort(producerEpoch).putInt(baseSequence).putInt(lastSequence).putInt(batchBytes)
                .putLong(appendTimeMs);
        return buffer.flip();
    }

    public static EntryHeader parse(ByteBuffer buffer) {
        if (buffer.remaining() < SIZE_V1) {
            throw new IllegalArgumentException("entry header needs " + SIZE_V1 + " bytes, got " + buffer.remaining());
        }
        byte version = buffer.get();
        if (version != 1 && version != VERSION) {
            throw new IllegalArgumentException("unknown entry header version " + version);
        }
        if (version == VERSION && buffer.remaining() < SIZE - 1) {
            throw new IllegalArgumentException("entry header v" + VERSION + " needs " + SIZE + " bytes, got "
                    + (buffer.remaining() + 1));
        }
        long baseOffset = buffer.getLong();
        long lastOffset = buffer.getLong();
        long maxTimestamp = buffer.getLong();
        long producerId = buffer.getLong();
        short producerEpoch = buffer.getShort();
        int baseSequence = buffer.getInt();
        int lastSequence = buffer.getInt();
        int batchBytes = buffer.getInt();
        long appendTimeMs = version == 1 ? RecordBatch.NO_TIMESTAMP : buffer.getLong();
        return new EntryHeader(baseOffset, lastOffset, maxTimestamp, producerId, producerEpoch, baseSequence,
                lastSequence, batchBytes, appendTimeMs);
    }
}
