package io.fluxmq.raft.partition;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.record.DefaultRecordBatch;

/**
 * Idempotent-producer state of one partition: per producer id its epoch and its last {@value #BATCHES_KEPT} batches.
 * A batch is checked against this table before it is appended ({@link #check}) and recorded once it is in the log
 * ({@link #record}). Not thread-safe: each instance is owned by one thread or guarded by its owner's lock.
 */
public final class ProducerStateTable {
    static final int BATCHES_KEPT = 5;

    /** The metadata of one appended batch. */
    public record BatchMetadata(int baseSequence, int lastSequence, long baseOffset, long lastOffset) {}

    /** The outcome of checking a batch. */
    public sealed interface Check {
        record Accept() implements Check {}
        record Duplicate(BatchMetadata original) implements Check {}
        record Reject(PartitionError error, String message) implements Check {}
    }

    private static final class Entry {
        short epoch;
        final Deque<BatchMetadata> batches = new ArrayDeque<>(BATCHES_KEPT);

        Entry(short epoch) {
            this.epoch = epoch;
        }
    }

    private final Map<Long, Entry> producers = new HashMap<>();

    public Check check(EntryHeader header) {
        Entry entry = producers.get(header.producerId());
        if (entry == null) {
            return header.baseSequence() == 0 ? new Check.Accept()
                    : reject(PartitionError.OUT_OF_ORDER_SEQUENCE, "unknown producer " + header.producerId()
                    + " must start at sequence 0, got " + header.baseSequence());
        }
        if (header.producerEpoch() < entry.epoch) {
            return reject(PartitionError.INVALID_PRODUCER_EPOCH, "producer " + header.producerId() + " epoch "
                    + header.producerEpoch() + " is older than " + entry.epoch);
        }
        if (header.producerEpoch() > entry.epoch) {
            return header.baseSequence() == 0 ? new Check.Accept()
                    : reject(PartitionError.OUT_OF_ORDER_SEQUENCE, "new epoch " + header.producerEpoch()
                    + " of producer " + header.producerId() + " must start at sequence 0");
        }
        for (BatchMetadata batch : entry.batches) {
            if (batch.baseSequence() == header.baseSequence() && batch.lastSequence() == header.lastSequence()) {
                return new Check.Duplicate(batch);
            }
        }
        BatchMetadata last = entry.batches.peekLast();
        int expected = last == null ? 0 : DefaultRecordBatch.incrementSequence(last.lastSequence(), 1);
        if (last != null && header.baseSequence() != expected) {
            return reject(PartitionError.OUT_OF_ORDER_SEQUENCE, "producer " + header.producerId() + " expected sequence "
                    + expected + ", got " + header.baseSequence());
        }
        return new Check.Accept();
    }

    /** Records an appended batch; entries that are not idempotent are ignored. */
    public void record(EntryHeader header) {
        if (!header.idempotent()) {
            return;
        }
        Entry entry = producers.computeIfAbsent(header.producerId(), id -> new Entry(header.producerEpoch()));
        if (header.producerEpoch() != entry.epoch) {
            entry.epoch = header.producerEpoch();
            entry.batches.clear();
        }
        if (entry.batches.size() == BATCHES_KEPT) {
            entry.batches.removeFirst();
        }
        entry.batches.addLast(new BatchMetadata(header.baseSequence(), header.lastSequence(),
                header.baseOffset(), header.lastOffset()));
    }

    /** Whether this exact batch (producer, epoch, sequences, offsets) is recorded. */
    public boolean contains(long producerId, short epoch, BatchMetadata batch) {
        Entry entry = producers.get(producerId);
        return entry != null && entry.epoch == epoch && entry.batches.contains(batch);
    }

    public ProducerStateTable copy() {
        ProducerStateTable copy = new ProducerStateTable();
        producers.forEach((id, entry) -> {
            Entry e = new Entry(entry.epoch);
            e.batches.addAll(entry.batches);
            copy.producers.put(id, e);
        });
        return copy;
    }

    public int size() {
        return producers.size();
    }

    /** Format: count:int32, then per producer id:int64 epoch:int16 n:int8 and n × (baseSeq, lastSeq, baseOffset, lastOffset). */
    public void writeTo(DataOutput out) throws IOException {
        out.writeInt(producers.size());
        for (Map.Entry<Long, Entry> e : producers.entrySet()) {
            out.writeLong(e.getKey());
            out.writeShort(e.getValue().epoch);
            out.writeByte(e.getValue().batches.size());
            for (BatchMetadata b : e.getValue().batches) {
                out.writeInt(b.baseSequence());
                out.writeInt(b.lastSequence());
                out.writeLong(b.baseOffset());
                out.writeLong(b.lastOffset());
            }
        }
    }

    public static ProducerStateTable readFrom(DataInput in) throws IOException {
        ProducerStateTable table = new ProducerStateTable();
        int count = in.readInt();
        for (int i = 0; i < count; i++) {
            long id = in.readLong();
            Entry entry = new Entry(in.readShort());
            int n = in.readByte();
            for (int j = 0; j < n; j++) {
                entry.batches.addLast(new BatchMetadata(in.readInt(), in.readInt(), in.readLong(), in.readLong()));
            }
            table.producers.put(id, entry);
        }
        return table;
    }

    private static Check reject(PartitionError error, String message) {
        return new Check.Reject(error, message);
    }
}
