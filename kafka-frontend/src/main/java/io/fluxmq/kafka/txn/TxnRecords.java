package io.fluxmq.kafka.txn;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.SimpleRecord;

/**
 * The records FluxMQ writes to {@code __transaction_state}: FluxMQ's own format (the topic is internal and only the
 * transaction coordinator reads it). Big-endian; a string is an int16 length followed by UTF-8 bytes. The last record
 * of a key is the transactional id's state; a null value is a tombstone.
 *
 * <pre>
 * key   = version:int16(0) transactionalId:string
 * value = version:int16(0) producerId:int64 epoch:int16 timeoutMs:int32 state:int8 (TxnState code)
 *         txnStartMs:int64 lastUpdateMs:int64 count:int32 count × (topic:string partition:int32)
 * value = version:int16(1) (the same fields) nextProducerId:int64 previousProducerId:int64
 * </pre>
 * Version 1 is written only for a value that holds a next or previous producer id (transaction version 2 when a
 * producer id's epochs ran out), so a node of an older build reads every other value.
 * A reader skips records of a key or value version it does not know.
 */
public final class TxnRecords {
    private TxnRecords() {
    }

    /** A decoded record: {@code value} null is a tombstone. */
    public record Entry(String transactionalId, TxnMetadata value) {}

    public static MemoryRecords batch(TxnMetadata metadata, long nowMs) {
        return MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(nowMs, key(metadata.transactionalId()),
                value(metadata)));
    }

    static byte[] key(String transactionalId) {
        byte[] id = transactionalId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + 2 + id.length).putShort((short) 0).putShort((short) id.length).put(id).array();
    }

    static byte[] value(TxnMetadata m) {
        short version = (short) (m.nextProducerId() >= 0 || m.previousProducerId() >= 0 ? 1 : 0);
        int size = 2 + 8 + 2 + 4 + 1 + 8 + 8 + 4 + (version == 1 ? 16 : 0);
        for (TopicPartition tp : m.partitions()) {
            size += 2 + tp.topic().getBytes(StandardCharsets.UTF_8).length + 4;
        }
        ByteBuffer b = ByteBuffer.allocate(size).putShort(version).putLong(m.producerId()).putShort(m.epoch())
                .putInt(m.timeoutMs()).put(m.state().code()).putLong(m.txnStartMs()).putLong(m.lastUpdateMs())
                .putInt(m.partitions().size());
        for (TopicPartition tp : m.partitions()) {
            writeString(b, tp.topic());
            b.putInt(tp.partition());
        }
        if (version == 1) {
            b.putLong(m.nextProducerId()).putLong(m.previousProducerId());
        }
        return b.array();
    }

    /** Decodes a record; null when its key or value version is unknown. */
    public static Entry decode(Record record) {
        if (!record.hasKey()) {
            return null;
        }
        ByteBuffer key = record.key();
        if (key.getShort() != 0) {
            return null;
        }
        String id = readString(key);
        if (!record.hasValue()) {
            return new Entry(id, null);
        }
        ByteBuffer v = record.value();
        short version = v.getShort();
        if (version != 0 && version != 1) {
            return null;
        }
        long producerId = v.getLong();
        short epoch = v.getShort();
        int timeoutMs = v.getInt();
        TxnState state = TxnState.of(v.get());
        long start = v.getLong();
        long update = v.getLong();
        int count = v.getInt();
        Set<TopicPartition> partitions = new HashSet<>();
        for (int i = 0; i < count; i++) {
            partitions.add(new TopicPartition(readString(v), v.getInt()));
        }
        long next = version == 1 ? v.getLong() : -1;
        long previous = version == 1 ? v.getLong() : -1;
        return new Entry(id, new TxnMetadata(id, producerId, epoch, timeoutMs, state, partitions, start, update, next,
                previous));
    }

    private static void writeString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putShort((short) bytes.length).put(bytes);
    }

    private static String readString(ByteBuffer b) {
        byte[] bytes = new byte[b.getShort()];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
