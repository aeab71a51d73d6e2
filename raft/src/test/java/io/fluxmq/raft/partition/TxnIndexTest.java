package io.fluxmq.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The last stable offset and the aborted-transaction index, driven by entry headers in log order. */
class TxnIndexTest {

    private static EntryHeader data(long producerId, long base, long last) {
        return new EntryHeader(base, last, 0, producerId, (short) 0, 0, 0, 100, 1, EntryHeader.TXN_DATA);
    }

    private static EntryHeader plain(long base, long last) {
        return new EntryHeader(base, last, 0, -1, (short) -1, -1, -1, 100, 1);
    }

    private static EntryHeader marker(long producerId, long offset, boolean commit) {
        return new EntryHeader(offset, offset, 0, producerId, (short) 0, -1, -1, 78, 1,
                commit ? EntryHeader.TXN_COMMIT : EntryHeader.TXN_ABORT);
    }

    @Test
    void lastStableOffsetStopsAtTheOldestOpenTransaction() {
        TxnIndex index = new TxnIndex();
        index.record(plain(0, 4));
        assertThat(index.lastStableOffset(5)).isEqualTo(5);
        index.record(data(7, 5, 9));
        index.record(data(8, 10, 12));
        index.record(data(7, 13, 14)); // a later batch of an open transaction does not move its first offset
        assertThat(index.lastStableOffset(15)).isEqualTo(5);
        index.record(marker(7, 15, true));
        assertThat(index.lastStableOffset(16)).isEqualTo(10);
        index.record(marker(8, 16, false));
        assertThat(index.lastStableOffset(17)).isEqualTo(17);
        assertThat(index.hasOpen()).isFalse();
    }

    @Test
    void abortsAreIndexedAndFoundByRange() {
        TxnIndex index = new TxnIndex();
        index.record(data(1, 0, 4));
        index.record(marker(1, 5, false));
        index.record(data(2, 6, 9));
        index.record(marker(2, 10, true));
        index.record(marker(3, 11, false)); // nothing open for producer 3: no aborted transaction
        index.record(data(1, 12, 20));
        index.record(marker(1, 21, false));
        assertThat(index.aborted(0, 100)).containsExactly(new TxnIndex.AbortedTxn(1, 0, 5),
                new TxnIndex.AbortedTxn(1, 12, 21));
        assertThat(index.aborted(6, 100)).containsExactly(new TxnIndex.AbortedTxn(1, 12, 21));
        assertThat(index.aborted(0, 12)).containsExactly(new TxnIndex.AbortedTxn(1, 0, 5));
        assertThat(index.aborted(22, 100)).isEmpty();
        index.trimBelow(6);
        assertThat(index.aborted(0, 100)).containsExactly(new TxnIndex.AbortedTxn(1, 12, 21));
    }

    @Test
    void roundTripsThroughItsSnapshotForm() throws Exception {
        TxnIndex index = new TxnIndex();
        index.record(data(1, 0, 4));
        index.record(marker(1, 5, false));
        index.record(data(2, 6, 9));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        index.writeTo(new DataOutputStream(bytes));
        TxnIndex copy = TxnIndex.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertThat(copy.lastStableOffset(10)).isEqualTo(6);
        assertThat(copy.aborted(0, 100)).containsExactly(new TxnIndex.AbortedTxn(1, 0, 5));
        assertThat(copy.open()).containsEntry(2L, 6L);
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        copy.writeTo(new DataOutputStream(again));
        assertThat(again.toByteArray()).isEqualTo(bytes.toByteArray());
    }

    @Test
    void transactionalHeadersRoundTripAloneAndCoalesced() {
        EntryHeader txn = data(5, 10, 12);
        ByteBuffer one = txn.toBuffer();
        assertThat(one.remaining()).isEqualTo(EntryHeader.SIZE + 1);
        assertThat(EntryHeaders.encodedLength(one)).isEqualTo(EntryHeader.SIZE + 1);
        assertThat(EntryHeader.parse(one)).isEqualTo(txn);
        assertThat(plain(0, 1).toBuffer().remaining()).as("other batches keep version 3").isEqualTo(EntryHeader.SIZE);

        EntryHeaders many = new EntryHeaders(List.of(plain(0, 9), txn, marker(5, 13, true)));
        ByteBuffer encoded = many.toBuffer();
        assertThat(EntryHeaders.encodedLength(encoded)).isEqualTo(encoded.remaining());
        assertThat(EntryHeaders.parse(encoded)).isEqualTo(many);
    }

    @Test
    void aMarkerFencesOlderEpochsWithoutTakingASequence() {
        ProducerStateTable producers = new ProducerStateTable();
        producers.record(new EntryHeader(0, 4, 0, 9, (short) 0, 0, 4, 100, 1, EntryHeader.TXN_DATA));
        EntryHeader fence = new EntryHeader(5, 5, 0, 9, (short) 1, -1, -1, 78, 1, EntryHeader.TXN_ABORT);
        assertThat(producers.check(fence)).isInstanceOf(ProducerStateTable.Check.Accept.class);
        producers.record(fence);
        EntryHeader old = new EntryHeader(6, 6, 0, 9, (short) 0, 5, 5, 100, 1, EntryHeader.TXN_DATA);
        assertThat(producers.check(old)).isInstanceOf(ProducerStateTable.Check.Reject.class);
        EntryHeader staleMarker = new EntryHeader(6, 6, 0, 9, (short) 0, -1, -1, 78, 1, EntryHeader.TXN_COMMIT);
        assertThat(producers.check(staleMarker)).isInstanceOf(ProducerStateTable.Check.Reject.class);
        EntryHeader next = new EntryHeader(6, 6, 0, 9, (short) 2, 0, 0, 100, 1, EntryHeader.TXN_DATA);
        assertThat(producers.check(next)).isInstanceOf(ProducerStateTable.Check.Accept.class);
    }
}
