package io.fluxmq.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import org.junit.jupiter.api.Test;

class ProducerStateTableTest {
    private static EntryHeader batch(long pid, short epoch, int baseSeq, int count, long baseOffset) {
        return new EntryHeader(baseOffset, baseOffset + count - 1, 0L, pid, epoch, baseSeq, baseSeq + count - 1, 100);
    }

    @Test
    void acceptsInSequenceAndFindsDuplicatesOfTheLastFiveBatches() {
        ProducerStateTable table = new ProducerStateTable();
        for (int i = 0; i < 7; i++) {
            EntryHeader b = batch(1, (short) 0, i * 10, 10, i * 10L);
            assertThat(table.check(b)).isInstanceOf(ProducerStateTable.Check.Accept.class);
            table.record(b);
        }
        assertThat(table.check(batch(1, (short) 0, 60, 10, 999))).isEqualTo(new ProducerStateTable.Check.Duplicate(
                new ProducerStateTable.BatchMetadata(60, 69, 60, 69)));
        assertThat(table.check(batch(1, (short) 0, 20, 10, 999)))
                .as("the 3rd of 7 batches is among the last five").isInstanceOf(ProducerStateTable.Check.Duplicate.class);
        assertThat(table.check(batch(1, (short) 0, 10, 10, 999)))
                .as("the 2nd of 7 batches is no longer remembered").isInstanceOf(ProducerStateTable.Check.Reject.class);
    }

    @Test
    void rejectsGapsOldEpochsAndNewEpochsNotStartingAtZero() {
        ProducerStateTable table = new ProducerStateTable();
        table.record(batch(7, (short) 2, 0, 5, 0));
        assertThat(reject(table.check(batch(7, (short) 2, 6, 1, 5)))).isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);
        assertThat(reject(table.check(batch(7, (short) 1, 5, 1, 5)))).isEqualTo(PartitionError.INVALID_PRODUCER_EPOCH);
        assertThat(reject(table.check(batch(7, (short) 3, 5, 1, 5)))).isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);
        assertThat(table.check(batch(7, (short) 3, 0, 1, 5))).isInstanceOf(ProducerStateTable.Check.Accept.class);
    }

    @Test
    void acceptsAnUnknownProducerAtAnySequenceAsKafkaDoes() {
        ProducerStateTable table = new ProducerStateTable();
        assertThat(table.check(batch(8, (short) 0, 3, 1, 5))).isInstanceOf(ProducerStateTable.Check.Accept.class);
        table.record(batch(8, (short) 0, 3, 1, 5));
        assertThat(reject(table.check(batch(8, (short) 0, 6, 1, 6)))).isEqualTo(PartitionError.OUT_OF_ORDER_SEQUENCE);
        assertThat(table.check(batch(8, (short) 0, 4, 1, 6))).isInstanceOf(ProducerStateTable.Check.Accept.class);
    }

    @Test
    void sequenceWrapsAroundAtIntMax() {
        ProducerStateTable table = new ProducerStateTable();
        table.record(new EntryHeader(0, 0, 0, 3, (short) 0, 0, Integer.MAX_VALUE - 1, 10));
        table.record(new EntryHeader(1, 1, 0, 3, (short) 0, Integer.MAX_VALUE, Integer.MAX_VALUE, 10));
        assertThat(table.check(new EntryHeader(2, 6, 0, 3, (short) 0, 0, 4, 10)))
                .isInstanceOf(ProducerStateTable.Check.Accept.class);
        assertThat(table.check(new EntryHeader(2, 6, 0, 3, (short) 0, 1, 5, 10)))
                .isInstanceOf(ProducerStateTable.Check.Reject.class);
    }

    @Test
    void survivesSerialization() throws Exception {
        ProducerStateTable table = new ProducerStateTable();
        table.record(batch(1, (short) 0, 0, 3, 0));
        table.record(batch(2, (short) 4, 0, 2, 3));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        table.writeTo(new DataOutputStream(bytes));
        ProducerStateTable copy = ProducerStateTable.readFrom(new DataInputStream(
                new ByteArrayInputStream(bytes.toByteArray())), ProducerStateTable.FORMAT_V2,
                ProducerStateTable.DEFAULT_EXPIRATION_MS);
        assertThat(copy.size()).isEqualTo(2);
        assertThat(copy.check(batch(2, (short) 4, 0, 2, 99))).isEqualTo(new ProducerStateTable.Check.Duplicate(
                new ProducerStateTable.BatchMetadata(0, 1, 3, 4)));
        assertThat(copy.check(batch(1, (short) 0, 3, 1, 99))).isInstanceOf(ProducerStateTable.Check.Accept.class);
    }

    private static PartitionError reject(ProducerStateTable.Check check) {
        assertThat(check).isInstanceOf(ProducerStateTable.Check.Reject.class);
        return ((ProducerStateTable.Check.Reject) check).error();
    }
}
