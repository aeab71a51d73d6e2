package io.fluxmq.raft.engine;

import java.nio.ByteBuffer;
import java.util.Iterator;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.DefaultRecordBatch;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.Crc32C;

/**
 * The entry that moves a multiraft partition's Kafka log start (DeleteRecords): a one-record control batch the leader
 * proposes through the group like any other entry, so every replica applies it at the same place in the log, and
 * replaying the log after a restart applies it again.
 *
 * <p>Format: a Kafka v2 control batch (attribute bit 5), not transactional, no producer id, timestamp -1 (it moves
 * neither the time index nor time-based retention), with one record whose key is Kafka's control record key, version
 * 0 and type {@link #TYPE} (a type Kafka does not use; {@code ControlRecordType.parse} reads it as {@code UNKNOWN}), and
 * whose value is version int16 (0) followed by the new log start int64. Consumers skip control batches without a
 * producer id (the Java client, librdkafka, franz-go and Sarama alike), so the entry takes one offset, as a
 * transaction marker does, and is never returned to an application. Stateless.
 */
final class LogStartRecord {

    /** The control record type; FluxMQ's own, far from Kafka's (0–6 in Kafka 4.1). */
    static final short TYPE = 0x4C53; // "LS"
    private static final short VERSION = 0;
    private static final int CONTROL_FLAG = 0x20;
    private static final int ATTRIBUTES_OFFSET = DefaultRecordBatch.CRC_OFFSET + Integer.BYTES;

    private LogStartRecord() {
    }

    /** The batch that moves the log start to {@code logStart}; offset and epoch are stamped by the log. */
    static MemoryRecords batch(long logStart) {
        ByteBuffer key = ByteBuffer.allocate(4).putShort(0, VERSION).putShort(2, TYPE);
        ByteBuffer value = ByteBuffer.allocate(10).putShort(0, VERSION).putLong(2, logStart);
        MemoryRecords records = MemoryRecords.withRecords(RecordBatch.MAGIC_VALUE_V2, 0L, Compression.NONE,
            TimestampType.CREATE_TIME, new SimpleRecord(RecordBatch.NO_TIMESTAMP, key, value));
        // MemoryRecordsBuilder refuses control records of a type Kafka does not know: set the control bit and the CRC
        // (which covers the attributes and everything after them) here.
        ByteBuffer buf = records.buffer();
        buf.putShort(ATTRIBUTES_OFFSET, (short) (buf.getShort(ATTRIBUTES_OFFSET) | CONTROL_FLAG));
        long crc = Crc32C.compute(buf, ATTRIBUTES_OFFSET, buf.limit() - ATTRIBUTES_OFFSET);
        buf.putInt(DefaultRecordBatch.CRC_OFFSET, (int) crc);
        return MemoryRecords.readableRecords(buf);
    }

    /** The log start {@code batch} moves to, or -1 when it is not such an entry. */
    static long logStartOf(RecordBatch batch) {
        if (!batch.isControlBatch() || batch.hasProducerId() || batch.isTransactional()) {
            return -1;
        }
        Iterator<Record> records = batch.iterator();
        if (!records.hasNext()) {
            return -1;
        }
        Record record = records.next();
        ByteBuffer key = record.key();
        ByteBuffer value = record.value();
        if (key == null || key.remaining() < 4 || key.getShort(key.position() + 2) != TYPE
            || value == null || value.remaining() < 10 || value.getShort(value.position()) != VERSION) {
            return -1;
        }
        return value.getLong(value.position() + 2);
    }
}
