package io.fluxmq.raft.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;

class BatchHeaderTest {
    private static ByteBuffer batch() {
        SimpleRecord[] records = new SimpleRecord[50];
        for (int i = 0; i < records.length; i++) {
            records[i] = new SimpleRecord(i, ("k" + i).getBytes(), ("value " + i).getBytes());
        }
        return MemoryRecords.withRecords(Compression.NONE, records).buffer();
    }

    @Test
    void crcMatchesOnHeapReadOnlyAndDirectBuffersAtAnyPosition() {
        ByteBuffer heap = batch();
        int size = heap.remaining();
        ByteBuffer padded = ByteBuffer.allocate(size + 7);
        padded.position(7);
        padded.put(heap.duplicate());
        ByteBuffer direct = ByteBuffer.allocateDirect(size);
        direct.put(heap.duplicate()).flip();
        assertThat(BatchHeader.crcMatches(heap, 0)).isTrue();
        assertThat(BatchHeader.crcMatches(heap.asReadOnlyBuffer(), 0)).isTrue();
        assertThat(BatchHeader.crcMatches(padded, 7)).isTrue();
        assertThat(BatchHeader.crcMatches(direct, 0)).isTrue();
    }

    @Test
    void aFlippedByteInTheRecordsOrTheStoredCrcIsCaught() {
        ByteBuffer buf = batch();
        int last = buf.limit() - 1;
        buf.put(last, (byte) (buf.get(last) ^ 1));
        assertThat(BatchHeader.crcMatches(buf.asReadOnlyBuffer(), 0)).isFalse();
        ByteBuffer other = batch();
        int crcAt = org.apache.kafka.common.record.DefaultRecordBatch.CRC_OFFSET;
        other.put(crcAt, (byte) (other.get(crcAt) ^ 0x80));
        assertThat(BatchHeader.crcMatches(other, 0)).isFalse();
    }
}
