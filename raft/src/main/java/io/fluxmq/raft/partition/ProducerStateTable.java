package io.fluxmq.raft.partition;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.record.DefaultRecordBatch;
import org.apache.kafka.common.record.RecordBatch;

/**
 * Idempotent-producer state of one partition: per producer id its epoch, the timestamp of its last batch and its last
 * {@value #BATCHES_KEPT} batches. A batch is checked against this table before it is appended ({@link #check}) and
 * recorded once it is in the log ({@link #record}). Not thread-safe: each instance is owned by one thread or guarded
 * by its owner's lock.
 *
 * <p><b>Expiry</b> (Kafka's {@code producer.id.expiration.ms}): a producer whose last timestamp is
 * {@code expirationMs} or more behind the table's clock is dropped, so short-lived producers do not stay in memory
 * and in every snapshot forever. Unlike Kafka, which expires on each broker's wall clock, the clock here is part of
 * the log: the largest leader append time ({@link EntryHeader#appendTimeMs}) recorded so far. Expiry therefore runs
 * inside {@link #record}, and every replica that applied the same entries holds the same table, whichever snapshot it
 * started from; the leader's view (applied table plus uncommitted entries) expires exactly as the applied table will.
 * A producer's last timestamp is its last batch's max timestamp, as in Kafka, but never older than that batch's
 * append time, so an active producer writing old CreateTime timestamps (a mirror, a replay) is not expired while it
 * writes. The scan over all producers runs when the clock enters a new {@code checkIntervalMs} period (Kafka's
 * {@code producer.id.expiration.check.interval.ms}, 10 minutes). Producers loaded without a timestamp (format 1, or
 * entries written before append times existed) get the clock of the first scan that sees them, so they expire one
 * period later instead of at once. A partition that receives no writes keeps its clock, and its producers, until it
 * does; it gains no producers meanwhile either.
 *
 * <p>As in Kafka, a producer id the table does not know (never seen, or expired) may start at any sequence.
 */
public final class ProducerStateTable {
    static final int BATCHES_KEPT = 5;
    /** Kafka's default {@code producer.id.expiration.ms}: one day. */
    public static final long DEFAULT_EXPIRATION_MS = 86_400_000L;
    /** Kafka's default {@code producer.id.expiration.check.interval.ms}: ten minutes. */
    static final long DEFAULT_CHECK_INTERVAL_MS = 600_000L;
    /** Serialization without timestamps and clock (partition snapshot versions 1 and 2). */
    public static final int FORMAT_V1 = 1;
    /** Serialization with each producer's last timestamp and the table's clock (partition snapshot version 3). */
    public static final int FORMAT_V2 = 2;

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
        long lastTimestamp;
        final Deque<BatchMetadata> batches = new ArrayDeque<>(BATCHES_KEPT);

        Entry(short epoch, long lastTimestamp) {
            this.epoch = epoch;
            this.lastTimestamp = lastTimestamp;
        }
    }

    private final long expirationMs;
    private final long checkIntervalMs;
    private final Map<Long, Entry> producers = new HashMap<>();
    /** The largest append time recorded, or {@link RecordBatch#NO_TIMESTAMP}. */
    private long clockMs = RecordBatch.NO_TIMESTAMP;

    /** A table with Kafka's default expiration of one day. */
    public ProducerStateTable() {
        this(DEFAULT_EXPIRATION_MS);
    }

    public ProducerStateTable(long expirationMs) {
        this(expirationMs, Math.min(DEFAULT_CHECK_INTERVAL_MS, expirationMs));
    }

    ProducerStateTable(long expirationMs, long checkIntervalMs) {
        if (expirationMs < 1 || checkIntervalMs < 1) {
            throw new IllegalArgumentException("expiration and check interval must be >= 1 ms, got " + expirationMs
                    + " and " + checkIntervalMs);
        }
        this.expirationMs = expirationMs;
        this.checkIntervalMs = checkIntervalMs;
    }

    public Check check(EntryHeader header) {
        Entry entry = producers.get(header.producerId());
        if (entry == null) {
            // Kafka accepts any sequence from a producer it has no state for: its state may have expired or its
            // batches been deleted by retention, and the producer cannot know
            return new Check.Accept();
        }
        if (header.producerEpoch() < entry.epoch) {
            return reject(PartitionError.INVALID_PRODUCER_EPOCH, "producer " + header.producerId() + " epoch "
                    + header.producerEpoch() + " is older than " + entry.epoch);
        }
        if (header.marker()) {
            return new Check.Accept(); // a transaction marker carries no sequence; a newer epoch fences the producer
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

    /**
     * Records an entry in log order: an idempotent batch updates its producer; every entry advances the clock to its
     * append time, which may expire idle producers.
     */
    public void record(EntryHeader header) {
        if (header.idempotent()) {
            long timestamp = Math.max(header.maxTimestamp(), header.appendTimeMs());
            Entry entry = producers.computeIfAbsent(header.producerId(),
                    id -> new Entry(header.producerEpoch(), timestamp));
            if (header.producerEpoch() != entry.epoch) {
                entry.epoch = header.producerEpoch();
                entry.batches.clear();
            }
            entry.lastTimestamp = Math.max(entry.lastTimestamp, timestamp);
            if (header.marker()) {
                advanceClock(header.appendTimeMs()); // a marker fences older epochs but holds no sequences
                return;
            }
            if (entry.batches.size() == BATCHES_KEPT) {
                entry.batches.removeFirst();
            }
            entry.batches.addLast(new BatchMetadata(header.baseSequence(), header.lastSequence(),
                    header.baseOffset(), header.lastOffset()));
        }
        advanceClock(header.appendTimeMs());
    }

    private void advanceClock(long appendTimeMs) {
        if (appendTimeMs <= clockMs) {
            return;
        }
        long previous = clockMs;
        clockMs = appendTimeMs;
        if (Math.floorDiv(clockMs, checkIntervalMs) > Math.floorDiv(previous, checkIntervalMs)) {
            removeExpired();
        }
    }

    private void removeExpired() {
        producers.values().removeIf(entry -> {
            if (entry.lastTimestamp == RecordBatch.NO_TIMESTAMP) {
                entry.lastTimestamp = clockMs;
                return false;
            }
            return clockMs - entry.lastTimestamp >= expirationMs;
        });
    }

    /** Whether this exact batch (producer, epoch, sequences, offsets) is recorded. */
    public boolean contains(long producerId, short epoch, BatchMetadata batch) {
        Entry entry = producers.get(producerId);
        return entry != null && entry.epoch == epoch && entry.batches.contains(batch);
    }

    public ProducerStateTable copy() {
        ProducerStateTable copy = new ProducerStateTable(expirationMs, checkIntervalMs);
        copy.clockMs = clockMs;
        producers.forEach((id, entry) -> {
            Entry e = new Entry(entry.epoch, entry.lastTimestamp);
            e.batches.addAll(entry.batches);
            copy.producers.put(id, e);
        });
        return copy;
    }

    public int size() {
        return producers.size();
    }

    /** The table's clock: the largest append time recorded, or -1. */
    public long clockMs() {
        return clockMs;
    }

    /** The last timestamp of a producer, or -1 when the table does not know it. */
    public long lastTimestamp(long producerId) {
        Entry entry = producers.get(producerId);
        return entry == null ? RecordBatch.NO_TIMESTAMP : entry.lastTimestamp;
    }

    /** What {@link #forEach} tells about one producer. */
    @FunctionalInterface
    public interface ProducerVisitor {
        void visit(long producerId, short epoch, int lastSequence, long lastTimestamp);
    }

    /**
     * Visits every producer in id order: its epoch, the last sequence of its last batch kept (-1 when none) and its
     * last timestamp.
     */
    public void forEach(ProducerVisitor visitor) {
        long[] ids = producers.keySet().stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(ids);
        for (long id : ids) {
            Entry entry = producers.get(id);
            BatchMetadata last = entry.batches.peekLast();
            visitor.visit(id, entry.epoch, last == null ? RecordBatch.NO_SEQUENCE : last.lastSequence(),
                    entry.lastTimestamp);
        }
    }

    /**
     * Writes format {@value #FORMAT_V2}: {@code clockMs:int64 | count:int32 | count × (id:int64 epoch:int16
     * lastTimestamp:int64 n:int8 | n × (baseSeq:int32, lastSeq:int32, baseOffset:int64, lastOffset:int64))}, producers
     * in id order so equal tables write equal bytes. Format {@value #FORMAT_V1} lacked {@code clockMs} and
     * {@code lastTimestamp}.
     */
    public void writeTo(DataOutput out) throws IOException {
        out.writeLong(clockMs);
        out.writeInt(producers.size());
        long[] ids = producers.keySet().stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(ids);
        for (long id : ids) {
            Entry entry = producers.get(id);
            out.writeLong(id);
            out.writeShort(entry.epoch);
            out.writeLong(entry.lastTimestamp);
            out.writeByte(entry.batches.size());
            for (BatchMetadata b : entry.batches) {
                out.writeInt(b.baseSequence());
                out.writeInt(b.lastSequence());
                out.writeLong(b.baseOffset());
                out.writeLong(b.lastOffset());
            }
        }
    }

    /** Reads a table written in {@code format} ({@value #FORMAT_V1} or {@value #FORMAT_V2}). */
    public static ProducerStateTable readFrom(DataInput in, int format, long expirationMs) throws IOException {
        if (format != FORMAT_V1 && format != FORMAT_V2) {
            throw new IOException("unknown producer table format " + format);
        }
        ProducerStateTable table = new ProducerStateTable(expirationMs);
        if (format == FORMAT_V2) {
            table.clockMs = in.readLong();
        }
        int count = in.readInt();
        for (int i = 0; i < count; i++) {
            long id = in.readLong();
            short epoch = in.readShort();
            long lastTimestamp = format == FORMAT_V2 ? in.readLong() : RecordBatch.NO_TIMESTAMP;
            Entry entry = new Entry(epoch, lastTimestamp);
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
