package io.fluxmq.raft.partition;

import java.nio.ByteBuffer;
import java.util.Iterator;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;

/**
 * The small header a partition's Raft log entry carries as its log data; the record batch itself travels as
 * state-machine data and is stored only in the segment log.
 *
 * <p>Layout (big endian, {@value #SIZE} bytes): {@code version:int8 (=3) | baseOffset:int64 | lastOffset:int64 |
 * maxTimestamp:int64 | producerId:int64 | producerEpoch:int16 | baseSequence:int32 | lastSequence:int32 |
 * batchBytes:int32 | appendTimeMs:int64}. Version 1 ({@value #SIZE_V1} bytes) lacks {@code appendTimeMs}; Raft logs
 * written before version 3 still parse, with {@code appendTimeMs = -1} (unknown). Version 2 is not a header: the first
 * byte 2 marks a {@link LogStartEntry}. Version 5 ({@value #SIZE_V5} bytes) is version 3 followed by {@code txn:int8}
 * ({@link #TXN_DATA}, {@link #TXN_COMMIT}, {@link #TXN_ABORT}): written only for transactional batches and transaction
 * markers, so the header of every other batch stays version 3. Everything a replica needs to
 * advance its high watermark and rebuild producer state is here, so applying a committed entry never has to read
 * the batch back.
 *
 * @param appendTimeMs the leader's wall clock when it appended the entry, or {@link RecordBatch#NO_TIMESTAMP}: the
 *                     replicated clock that producer-state expiry runs on (see {@link ProducerStateTable})
 * @param txn          {@link #TXN_NONE}, or what the batch is to a transaction: data of one ({@link #TXN_DATA}) or a
 *                     COMMIT / ABORT marker ({@link #TXN_COMMIT}, {@link #TXN_ABORT}); the replicated input of the
 *                     partition's {@link TxnIndex}
 */
public record EntryHeader(long baseOffset, long lastOffset, long maxTimestamp, long producerId, short producerEpoch,
                          int baseSequence, int lastSequence, int batchBytes, long appendTimeMs, byte txn) {

    public static final int SIZE = 1 + 8 + 8 + 8 + 8 + 2 + 4 + 4 + 4 + 8;
    static final int SIZE_V1 = SIZE - 8;
    static final byte VERSION = 3;
    static final int SIZE_V5 = SIZE + 1;
    static final byte VERSION_TXN = 5;
    public static final byte TXN_NONE = 0;
    public static final byte TXN_DATA = 1;
    public static final byte TXN_COMMIT = 2;
    public static final byte TXN_ABORT = 3;

    public EntryHeader {
        if (txn < TXN_NONE || txn > TXN_ABORT) {
            throw new IllegalArgumentException("unknown transaction kind " + txn);
        }
    }

    /** A header of a batch outside any transaction. */
    public EntryHeader(long baseOffset, long lastOffset, long maxTimestamp, long producerId, short producerEpoch,
                       int baseSequence, int lastSequence, int batchBytes, long appendTimeMs) {
        this(baseOffset, lastOffset, maxTimestamp, producerId, producerEpoch, baseSequence, lastSequence, batchBytes,
                appendTimeMs, TXN_NONE);
    }

    /** A header without an append time, as version 1 entries parse. */
    public EntryHeader(long baseOffset, long lastOffset, long maxTimestamp, long producerId, short producerEpoch,
                       int baseSequence, int lastSequence, int batchBytes) {
        this(baseOffset, lastOffset, maxTimestamp, producerId, producerEpoch, baseSequence, lastSequence, batchBytes,
                RecordBatch.NO_TIMESTAMP);
    }

    public static EntryHeader of(RecordBatch batch, int batchBytes, long appendTimeMs) {
        return of(batch, batchBytes, appendTimeMs, txnKindOf(batch));
    }

    /** What a batch is to a transaction: none, data, or (a control batch) a COMMIT or ABORT marker. */
    static byte txnKindOf(RecordBatch batch) {
        if (!batch.isTransactional()) {
            return TXN_NONE;
        }
        if (!batch.isControlBatch()) {
            return TXN_DATA;
        }
        Iterator<Record> records = batch.iterator();
        boolean commit = records.hasNext() && ControlRecordType.parse(records.next().key())
                == ControlRecordType.COMMIT;
        return commit ? TXN_COMMIT : TXN_ABORT;
    }

    public static EntryHeader of(RecordBatch batch, int batchBytes, long appendTimeMs, byte txn) {
        return new EntryHeader(batch.baseOffset(), batch.lastOffset(), batch.maxTimestamp(), batch.producerId(),
                batch.producerEpoch(), batch.baseSequence(), batch.lastSequence(), batchBytes, appendTimeMs, txn);
    }

    public static EntryHeader of(RecordBatch batch, int batchBytes) {
        return of(batch, batchBytes, RecordBatch.NO_TIMESTAMP);
    }

    public boolean idempotent() {
        return producerId >= 0;
    }

    /** Whether this is a transaction marker (a control batch), not data. */
    public boolean marker() {
        return txn == TXN_COMMIT || txn == TXN_ABORT;
    }

    /** Bytes this header takes encoded on its own: version 3, or 5 for transactional batches and markers. */
    int encodedSize() {
        return txn == TXN_NONE ? SIZE : SIZE_V5;
    }

    public long nextOffset() {
        return lastOffset + 1;
    }

    public ByteBuffer toBuffer() {
        ByteBuffer buffer = ByteBuffer.allocate(encodedSize());
        buffer.put(txn == TXN_NONE ? VERSION : VERSION_TXN).putLong(baseOffset).putLong(lastOffset)
                .putLong(maxTimestamp).putLong(producerId).putShort(producerEpoch).putInt(baseSequence)
                .putInt(lastSequence).putInt(batchBytes).putLong(appendTimeMs);
        if (txn != TXN_NONE) {
            buffer.put(txn);
        }
        return buffer.flip();
    }

    public static EntryHeader parse(ByteBuffer buffer) {
        if (buffer.remaining() < SIZE_V1) {
            throw new IllegalArgumentException("entry header needs " + SIZE_V1 + " bytes, got " + buffer.remaining());
        }
        byte version = buffer.get();
        if (version != 1 && version != VERSION && version != VERSION_TXN) {
            throw new IllegalArgumentException("unknown entry header version " + version);
        }
        int size = version == VERSION_TXN ? SIZE_V5 : SIZE;
        if (version != 1 && buffer.remaining() < size - 1) {
            throw new IllegalArgumentException("entry header v" + version + " needs " + size + " bytes, got "
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
        byte txn = version == VERSION_TXN ? buffer.get() : TXN_NONE;
        return new EntryHeader(baseOffset, lastOffset, maxTimestamp, producerId, producerEpoch, baseSequence,
                lastSequence, batchBytes, appendTimeMs, txn);
    }
}
