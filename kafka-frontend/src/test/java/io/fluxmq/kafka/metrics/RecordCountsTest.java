package io.fluxmq.kafka.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;

class RecordCountsTest {
    private static MemoryRecords batch(long baseOffset, int records, Compression compression) {
        SimpleRecord[] r = new SimpleRecord[records];
        for (int i = 0; i < records; i++) {
            r[i] = new SimpleRecord(("value-" + i).getBytes());
        }
        return MemoryRecords.withRecords(baseOffset, compression, r);
    }

    @Test
    void countsTheRecordsOfEveryWholeBatchFromTheHeadersAlone() {
        MemoryRecords a = batch(0, 3, Compression.NONE);
        MemoryRecords b = batch(3, 5, Compression.gzip().build());
        ByteBuffer both = ByteBuffer.allocate(a.sizeInBytes() + b.sizeInBytes());
        both.put(a.buffer()).put(b.buffer()).flip();

        assertThat(RecordCounts.of(a)).isEqualTo(3);
        assertThat(RecordCounts.of(b)).as("compressed: the header's count").isEqualTo(5);
        assertThat(RecordCounts.of(MemoryRecords.readableRecords(both))).isEqualTo(8);
        assertThat(both.position()).as("absolute reads only").isZero();
        assertThat(RecordCounts.of(MemoryRecords.EMPTY)).isZero();
    }

    @Test
    void aTrailingPartialBatchIsNotCounted() {
        MemoryRecords a = batch(0, 3, Compression.NONE);
        MemoryRecords b = batch(3, 4, Compression.NONE);
        ByteBuffer cut = ByteBuffer.allocate(a.sizeInBytes() + b.sizeInBytes() - 10);
        cut.put(a.buffer());
        ByteBuffer bBytes = b.buffer();
        bBytes.limit(bBytes.limit() - 10);
        cut.put(bBytes).flip();

        assertThat(RecordCounts.of(cut)).isEqualTo(3);
    }
}
