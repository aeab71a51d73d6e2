package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.Entry;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.LeaderChangeMessage;
import org.apache.kafka.common.message.VotersRecord;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.ControlRecordUtils;
import org.apache.kafka.common.record.DefaultRecordBatch;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.Records;
import org.apache.kafka.common.record.TimestampType;

/**
 * Raft entries as Kafka v2 record batches, one batch per entry: the batch's base offset is the entry's base offset,
 * its offset span ({@code lastOffsetDelta + 1}) the entry's count and its {@code partitionLeaderEpoch} the entry's
 * term.
 *
 * <ul>
 *   <li>{@link Entry.Kind#DATA}: the entry's data is the batch, byte for byte (what producers sent, or a control batch
 *       of the replica layer such as a transaction marker).</li>
 *   <li>{@link Entry.Kind#LEADER_CHANGE}: an empty control batch (a header of one offset and no record, 61 bytes):
 *       the term is the batch's epoch and the entry carries nothing else, so every replica builds the same bytes. A
 *       client that skips control batches skips it, and one that does not (kafka-python 2.0 hands a control batch's
 *       records to the application) finds no record in it, as in the empty batches Kafka's own log cleaner keeps.
 *       Logs written before 2026-12-02 hold the earlier form, a control batch of one record whose key is Kafka's
 *       {@link ControlRecordType#LEADER_CHANGE} and whose value a {@link LeaderChangeMessage} (the record KRaft
 *       writes at the start of each epoch); it still reads as this kind.</li>
 *   <li>{@link Entry.Kind#CONFIG}: a control batch of one record, key {@link ControlRecordType#KRAFT_VOTERS}, value a
 *       {@link VotersRecord} listing the voters' ids (directory id zero, no endpoints, KRaft version range 0..0),
 *       KRaft's own record for a voter set.</li>
 * </ul>
 * Both control batches have no producer id, are not transactional and carry {@code NO_TIMESTAMP} (-1), so they move
 * neither the time index nor time-based retention, and replicas write identical bytes. Kafka consumers never return
 * records of control batches to the application (the Java client skips every control batch and looks into one only
 * for a read_committed abort marker of a batch with a producer id, which these have not; librdkafka, franz-go and
 * Sarama skip control batches likewise). A DATA entry may therefore not be a control batch of these two types, nor an
 * empty control batch without a producer id: it would read back as the other kind.
 *
 * <p>Stateless and thread-safe.
 */
final class EntryBatches {

    private static final int PARTITION_LEADER_EPOCH_OFFSET = Records.LOG_OVERHEAD;
    private static final int ATTRIBUTES_OFFSET = DefaultRecordBatch.CRC_OFFSET + Integer.BYTES;
    private static final int CONTROL_FLAG = 0x20;
    /** After the attributes, last offset delta, two timestamps (Kafka's v2 batch header). */
    private static final int PRODUCER_ID_OFFSET = DefaultRecordBatch.LAST_OFFSET_DELTA_OFFSET + Integer.BYTES
        + 2 * Long.BYTES;

    private EntryBatches() {
    }

    static long baseOffset(ByteBuffer buf, int pos) {
        return buf.getLong(pos + Records.OFFSET_OFFSET);
    }

    /** Whole size of the batch at {@code pos}, or -1 when no batch header fits in {@code [pos, limit)}. */
    static int size(ByteBuffer buf, int pos, int limit) {
        if (limit - pos < DefaultRecordBatch.RECORD_BATCH_OVERHEAD) {
            return -1;
        }
        int size = buf.getInt(pos + Records.SIZE_OFFSET) + Records.LOG_OVERHEAD;
        return size < DefaultRecordBatch.RECORD_BATCH_OVERHEAD || size > limit - pos ? -1 : size;
    }

    /** Offsets the batch takes: {@code lastOffsetDelta + 1} (a compacted batch may hold fewer records). */
    static int offsetCount(ByteBuffer buf, int pos) {
        return buf.getInt(pos + DefaultRecordBatch.LAST_OFFSET_DELTA_OFFSET) + 1;
    }

    static int partitionLeaderEpoch(ByteBuffer buf, int pos) {
        return buf.getInt(pos + PARTITION_LEADER_EPOCH_OFFSET);
    }

    private static boolean hasProducerId(ByteBuffer buf, int pos) {
        return buf.getLong(pos + PRODUCER_ID_OFFSET) != RecordBatch.NO_PRODUCER_ID;
    }

    static boolean isControl(ByteBuffer buf, int pos) {
        return (buf.getShort(pos + ATTRIBUTES_OFFSET) & CONTROL_FLAG) != 0;
    }

    /** The kind of the entry the batch of {@code size} bytes at {@code pos} stores. */
    static Entry.Kind kind(ByteBuffer buf, int pos, int size) {
        if (!isControl(buf, pos)) {
            return Entry.Kind.DATA;
        }
        if (buf.getInt(pos + DefaultRecordBatch.RECORDS_COUNT_OFFSET) == 0) {
            // no other control batch without a producer id is empty: the replica layer's carry one record, and the
            // cleaner keeps control batches whole
            return hasProducerId(buf, pos) ? Entry.Kind.DATA : Entry.Kind.LEADER_CHANGE;
        }
        ControlRecordType type = ControlRecordType.parse(firstRecord(buf, pos, size).key());
        if (type == ControlRecordType.LEADER_CHANGE) {
            return Entry.Kind.LEADER_CHANGE;
        }
        return type == ControlRecordType.KRAFT_VOTERS ? Entry.Kind.CONFIG : Entry.Kind.DATA;
    }

    /**
     * The entry stored as the batch of {@code size} bytes at {@code pos}; a DATA entry's data is a read-only view of
     * the buffer (no copy).
     */
    static Entry toEntry(ByteBuffer buf, int pos, int size) {
        long base = baseOffset(buf, pos);
        long term = partitionLeaderEpoch(buf, pos);
        Entry.Kind kind = kind(buf, pos, size);
        switch (kind) {
            case LEADER_CHANGE:
                return Entry.leaderChange(base, term);
            case CONFIG:
                return Entry.config(base, term, voters(firstRecord(buf, pos, size)));
            default:
                return Entry.data(base, offsetCount(buf, pos), term, buf.slice(pos, size));
        }
    }

    /** The control batch a LEADER_CHANGE or CONFIG entry is stored as. */
    static ByteBuffer controlBatch(Entry entry) {
        int epoch = epoch(entry.term());
        switch (entry.kind()) {
            case LEADER_CHANGE:
                ByteBuffer empty = ByteBuffer.allocate(DefaultRecordBatch.RECORD_BATCH_OVERHEAD);
                DefaultRecordBatch.writeEmptyHeader(empty, RecordBatch.MAGIC_VALUE_V2, RecordBatch.NO_PRODUCER_ID,
                    RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE, entry.baseOffset(), entry.baseOffset(),
                    epoch, TimestampType.CREATE_TIME, RecordBatch.NO_TIMESTAMP, false, true);
                return empty.flip();
            case CONFIG:
                List<VotersRecord.Voter> voters = new ArrayList<>();
                for (int id : entry.voters()) {
                    voters.add(new VotersRecord.Voter()
                        .setVoterId(id)
                        .setVoterDirectoryId(Uuid.ZERO_UUID)
                        .setEndpoints(new VotersRecord.EndpointCollection())
                        .setKRaftVersionFeature(new VotersRecord.KRaftVersionFeature()
                            .setMinSupportedVersion((short) 0)
                            .setMaxSupportedVersion((short) 0)));
                }
                VotersRecord record = new VotersRecord()
                    .setVersion(ControlRecordUtils.KRAFT_VOTERS_CURRENT_VERSION)
                    .setVoters(voters);
                return MemoryRecords.withVotersRecord(entry.baseOffset(), RecordBatch.NO_TIMESTAMP, epoch,
                    ByteBuffer.allocate(128 + 32 * voters.size()), record).buffer();
            default:
                throw new IllegalArgumentException(entry + " is stored as its own batch, not a control batch");
        }
    }

    /** A term as a partition leader epoch (int32). */
    static int epoch(long term) {
        if (term > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("term " + term + " does not fit a partition leader epoch");
        }
        return (int) term;
    }

    private static Set<Integer> voters(Record record) {
        Set<Integer> voters = new TreeSet<>();
        for (VotersRecord.Voter voter : ControlRecordUtils.deserializeVotersRecord(record).voters()) {
            voters.add(voter.voterId());
        }
        return voters;
    }

    private static Record firstRecord(ByteBuffer buf, int pos, int size) {
        RecordBatch batch = MemoryRecords.readableRecords(buf.slice(pos, size)).firstBatch();
        Iterator<Record> records = batch.iterator();
        if (!records.hasNext()) {
            throw new IllegalStateException("control batch at offset " + batch.baseOffset() + " has no record");
        }
        return records.next();
    }
}
