package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raftcore.Entry;
import java.nio.ByteBuffer;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;

/**
 * The DeleteRecords entry of the multiraft engine: a valid control batch (CRC, one offset, no producer, timestamp -1)
 * that the Raft log stores as a data entry, that Kafka reads as a control record of an unknown type, and that no other
 * batch is mistaken for.
 */
class LogStartRecordTest {

    @Test
    void aControlBatchCarryingTheLogStartThatNothingElseIsTakenFor() {
        MemoryRecords records = LogStartRecord.batch(4242);
        MutableRecordBatch batch = records.batches().iterator().next();
        batch.ensureValid(); // the CRC over the control bit
        assertThat(batch.isControlBatch()).isTrue();
        assertThat(batch.hasProducerId()).isFalse();
        assertThat(batch.isTransactional()).isFalse();
        assertThat(batch.maxTimestamp()).isEqualTo(RecordBatch.NO_TIMESTAMP);
        assertThat(batch.lastOffset() - batch.baseOffset() + 1).as("one offset").isEqualTo(1);
        assertThat(ControlRecordType.parse(batch.iterator().next().key())).isEqualTo(ControlRecordType.UNKNOWN);
        assertThat(LogStartRecord.logStartOf(batch)).isEqualTo(4242);
        ByteBuffer buf = records.buffer();
        assertThat(EntryBatches.kind(buf, buf.position(), buf.remaining())).as("stored as a data entry")
            .isEqualTo(Entry.Kind.DATA);

        RecordBatch marker = MemoryRecords.withEndTransactionMarker(1L, 7, (short) 0,
            new EndTransactionMarker(ControlRecordType.COMMIT, 0)).batches().iterator().next();
        assertThat(LogStartRecord.logStartOf(marker)).isEqualTo(-1);
        RecordBatch data = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("x".getBytes()))
            .batches().iterator().next();
        assertThat(LogStartRecord.logStartOf(data)).isEqualTo(-1);
        ByteBuffer leaderChange = EntryBatches.controlBatch(Entry.leaderChange(5, 3));
        assertThat(LogStartRecord.logStartOf(MemoryRecords.readableRecords(leaderChange).batches().iterator().next()))
            .isEqualTo(-1);
    }
}
