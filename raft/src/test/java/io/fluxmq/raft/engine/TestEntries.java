package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.Entry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

/** Raft entries whose data are real Kafka v2 batches, stamped with their position and term. */
final class TestEntries {

    private TestEntries() {
    }

    /** A batch of {@code records} records (values "v-offset-…" padded to {@code valueBytes}) at {@code base}. */
    static ByteBuffer batch(long base, int records, int epoch, int valueBytes) {
        ByteBuffer buf = ByteBuffer.allocate(256 + records * (valueBytes + 64));
        MemoryRecordsBuilder builder = MemoryRecords.builder(buf, RecordBatch.MAGIC_VALUE_V2, Compression.NONE,
            TimestampType.CREATE_TIME, base, RecordBatch.NO_TIMESTAMP, epoch);
        for (int i = 0; i < records; i++) {
            StringBuilder value = new StringBuilder("v-").append(base + i).append('-');
            while (value.length() < valueBytes) {
                value.append('x');
            }
            builder.append(1_000 + base + i, null, value.toString().getBytes(StandardCharsets.UTF_8));
        }
        return builder.build().buffer();
    }

    /** A DATA entry of {@code count} offsets whose batch is already stamped with its base offset and term. */
    static Entry data(long base, int count, long term) {
        return data(base, count, term, 20);
    }

    static Entry data(long base, int count, long term, int valueBytes) {
        return Entry.data(base, count, term, batch(base, count, (int) term, valueBytes));
    }

    /** Copies an entry's data, so it outlives the log it was read from. */
    static byte[] bytes(Entry entry) {
        ByteBuffer data = entry.data().duplicate();
        byte[] out = new byte[data.remaining()];
        data.get(out);
        return out;
    }
}
