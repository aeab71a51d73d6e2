package io.fluxmq.kafka.txn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** Kafka's transaction state machine in one shard, with writes, markers and time under the test's control. */
class TxnShardTest {
    private static final TopicPartition A = new TopicPartition("t", 0);
    private static final TopicPartition B = new TopicPartition("t", 1);

    private record Marker(TopicPartition tp, long producerId, short epoch, boolean commit) {}

    private final List<TxnMetadata> written = new ArrayList<>();
    private final List<Marker> markers = new ArrayList<>();
    private final List<Runnable> later = new ArrayList<>();
    private final AtomicLong ids = new AtomicLong(1000);
    /** Errors the marker writer answers before it succeeds, per call. */
    private int markerFailures;

    private TxnShard shard() {
        TxnShard shard = new TxnShard(0, 1, m -> {
            written.add(m);
            return CompletableFuture.completedFuture(null);
        }, (tp, pid, epoch, commit, coordinatorEpoch) -> {
            if (markerFailures > 0) {
                markerFailures--;
                return CompletableFuture.completedFuture(Errors.NOT_LEADER_OR_FOLLOWER);
            }
            markers.add(new Marker(tp, pid, epoch, commit));
            return CompletableFuture.completedFuture(Errors.NONE);
        }, () -> CompletableFuture.completedFuture(ids.getAndIncrement()), (task, delay) -> later.add(task));
        shard.activate();
        return shard;
    }

    private void runLater() {
        while (!later.isEmpty()) {
            List<Runnable> now = new ArrayList<>(later);
            later.clear();
            now.forEach(Runnable::run);
        }
    }

    @Test
    void commitWritesPrepareThenMarkersThenComplete() {
        TxnShard shard = shard();
        TxnShard.InitResult init = shard.initProducerId("x", 60_000, -1, (short) -1, 0).join();
        assertThat(init).isEqualTo(new TxnShard.InitResult(Errors.NONE, 1000, (short) 0));
        assertThat(shard.addPartitions("x", 1000, (short) 0, Set.of(A, B), 10).join()).isEqualTo(Errors.NONE);
        assertThat(shard.get("x").state()).isEqualTo(TxnState.ONGOING);
        assertThat(shard.endTxn("x", 1000, (short) 0, true, 20).join()).isEqualTo(Errors.NONE);
        assertThat(markers).containsExactlyInAnyOrder(new Marker(A, 1000, (short) 0, true),
                new Marker(B, 1000, (short) 0, true));
        assertThat(written.stream().map(TxnMetadata::state)).containsExactly(TxnState.EMPTY, TxnState.ONGOING,
                TxnState.PREPARE_COMMIT, TxnState.COMPLETE_COMMIT);
        assertThat(shard.get("x").partitions()).isEmpty();
        assertThat(shard.isPending("x")).isFalse();
        assertThat(shard.endTxn("x", 1000, (short) 0, true, 30).join()).as("a retried commit").isEqualTo(Errors.NONE);
        assertThat(shard.endTxn("x", 1000, (short) 0, false, 30).join()).isEqualTo(Errors.INVALID_TXN_STATE);
    }

    @Test
    void markersAreRetriedUntilWrittenAndTheTransactionWaitsForThem() {
        TxnShard shard = shard();
        shard.initProducerId("x", 60_000, -1, (short) -1, 0).join();
        shard.addPartitions("x", 1000, (short) 0, Set.of(A), 10).join();
        markerFailures = 3;
        assertThat(shard.endTxn("x", 1000, (short) 0, false, 20).join()).isEqualTo(Errors.NONE);
        assertThat(shard.get("x").state()).isEqualTo(TxnState.PREPARE_ABORT);
        assertThat(shard.addPartitions("x", 1000, (short) 0, Set.of(A), 30).join())
                .isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        runLater();
        assertThat(markers).containsExactly(new Marker(A, 1000, (short) 0, false));
        assertThat(shard.get("x").state()).isEqualTo(TxnState.COMPLETE_ABORT);
        assertThat(shard.addPartitions("x", 1000, (short) 0, Set.of(B), 40).join()).isEqualTo(Errors.NONE);
    }

    @Test
    void aNewProducerFencesTheOldOneAndAbortsItsOpenTransaction() {
        TxnShard shard = shard();
        shard.initProducerId("x", 60_000, -1, (short) -1, 0).join();
        shard.addPartitions("x", 1000, (short) 0, Set.of(A), 10).join();
        TxnShard.InitResult retry = shard.initProducerId("x", 60_000, -1, (short) -1, 20).join();
        assertThat(retry.error()).isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        assertThat(markers).containsExactly(new Marker(A, 1000, (short) 1, false));
        assertThat(shard.get("x").state()).isEqualTo(TxnState.COMPLETE_ABORT);
        TxnShard.InitResult next = shard.initProducerId("x", 60_000, -1, (short) -1, 30).join();
        assertThat(next).isEqualTo(new TxnShard.InitResult(Errors.NONE, 1000, (short) 2));
        assertThat(shard.endTxn("x", 1000, (short) 0, true, 40).join()).isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(shard.addPartitions("x", 1000, (short) 1, Set.of(A), 40).join()).isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(shard.addPartitions("x", 999, (short) 2, Set.of(A), 40).join())
                .isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
        assertThat(shard.initProducerId("x", 60_000, 1000, (short) 0, 50).join().error())
                .as("KIP-360 with a stale epoch").isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(shard.initProducerId("x", 60_000, 1000, (short) 2, 50).join())
                .isEqualTo(new TxnShard.InitResult(Errors.NONE, 1000, (short) 3));
    }

    @Test
    void openTransactionsPastTheirTimeoutAreAbortedWithABumpedEpoch() {
        TxnShard shard = shard();
        shard.initProducerId("x", 1_000, -1, (short) -1, 0).join();
        shard.addPartitions("x", 1000, (short) 0, Set.of(A), 100).join();
        assertThat(shard.abortTimedOut(1_100)).isZero();
        assertThat(shard.abortTimedOut(1_101)).isEqualTo(1);
        assertThat(markers).containsExactly(new Marker(A, 1000, (short) 1, false));
        assertThat(shard.get("x").state()).isEqualTo(TxnState.COMPLETE_ABORT);
        assertThat(shard.endTxn("x", 1000, (short) 0, true, 1_200).join()).isEqualTo(Errors.PRODUCER_FENCED);
    }

    @Test
    void aLoadedShardFinishesPreparedTransactions() {
        TxnShard shard = new TxnShard(0, 2, m -> {
            written.add(m);
            return CompletableFuture.completedFuture(null);
        }, (tp, pid, epoch, commit, coordinatorEpoch) -> {
            markers.add(new Marker(tp, pid, epoch, commit));
            return CompletableFuture.completedFuture(Errors.NONE);
        }, () -> CompletableFuture.completedFuture(1L), (task, delay) -> later.add(task));
        shard.replay(new TxnRecords.Entry("x", new TxnMetadata("x", 7, (short) 3, 60_000, TxnState.ONGOING,
                Set.of(A), 5, 5)));
        shard.replay(new TxnRecords.Entry("x", new TxnMetadata("x", 7, (short) 3, 60_000,
                TxnState.PREPARE_COMMIT, Set.of(A, B), 5, 6)));
        assertThat(shard.phase()).isEqualTo(TxnShard.Phase.LOADING);
        assertThat(shard.addPartitions("x", 7, (short) 3, Set.of(A), 7).join()).isEqualTo(Errors.NOT_COORDINATOR);
        shard.activate();
        assertThat(markers).containsExactlyInAnyOrder(new Marker(A, 7, (short) 3, true),
                new Marker(B, 7, (short) 3, true));
        assertThat(shard.get("x").state()).isEqualTo(TxnState.COMPLETE_COMMIT);
    }

    @Test
    void stateRecordsRoundTrip() {
        TxnMetadata m = new TxnMetadata("tx-ü", 42, (short) 5, 30_000, TxnState.PREPARE_ABORT, Set.of(A, B), 10, 20);
        org.apache.kafka.common.record.Record record = TxnRecords.batch(m, 99).records().iterator().next();
        assertThat(TxnRecords.decode(record)).isEqualTo(new TxnRecords.Entry("tx-ü", m));
    }

    // ---------------------------------------------------------------- transaction version 2 (EndTxn v5)

    @Test
    void v2EveryEndBumpsTheEpochAndTheMarkersCarryIt() {
        TxnShard shard = shard();
        shard.initProducerId("x", 60_000, -1, (short) -1, 0).join();
        assertThat(shard.addPartitions("x", 1000, (short) 0, Set.of(A, B), 10).join()).isEqualTo(Errors.NONE);
        assertThat(shard.endTxnV2("x", 1000, (short) 0, true, 20).join())
                .isEqualTo(new TxnShard.EndResult(Errors.NONE, 1000, (short) 1));
        assertThat(markers).containsExactlyInAnyOrder(new Marker(A, 1000, (short) 1, true),
                new Marker(B, 1000, (short) 1, true));
        assertThat(shard.get("x").state()).isEqualTo(TxnState.COMPLETE_COMMIT);
        assertThat(shard.get("x").epoch()).isEqualTo((short) 1);
        assertThat(shard.addPartitions("x", 1000, (short) 0, Set.of(A), 30).join()).as("the ended epoch")
                .isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(shard.endTxnV2("x", 1000, (short) 0, true, 30).join()).as("a retried commit")
                .isEqualTo(new TxnShard.EndResult(Errors.NONE, 1000, (short) 1));
        assertThat(shard.endTxnV2("x", 1000, (short) 0, false, 30).join().error()).as("a retry, the other outcome")
                .isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(shard.endTxnV2("x", 1000, (short) 5, true, 30).join().error()).isEqualTo(Errors.PRODUCER_FENCED);

        markers.clear();
        assertThat(shard.addPartitions("x", 1000, (short) 1, Set.of(A), 40).join()).isEqualTo(Errors.NONE);
        assertThat(shard.endTxnV2("x", 1000, (short) 1, false, 50).join())
                .isEqualTo(new TxnShard.EndResult(Errors.NONE, 1000, (short) 2));
        assertThat(markers).containsExactly(new Marker(A, 1000, (short) 2, false));
        assertThat(shard.get("x").state()).isEqualTo(TxnState.COMPLETE_ABORT);
    }

    @Test
    void v2AnAbortWithNothingAddedBumpsTheEpochWithoutMarkers() {
        TxnShard shard = shard();
        shard.initProducerId("x", 60_000, -1, (short) -1, 0).join();
        assertThat(shard.endTxnV2("x", 1000, (short) 0, true, 10).join().error()).as("nothing to commit")
                .isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(shard.endTxnV2("x", 1000, (short) 0, false, 10).join())
                .isEqualTo(new TxnShard.EndResult(Errors.NONE, 1000, (short) 1));
        assertThat(markers).isEmpty();
        assertThat(shard.get("x").state()).isEqualTo(TxnState.COMPLETE_ABORT);
        assertThat(shard.isPending("x")).isFalse();
        assertThat(shard.endTxnV2("x", 1000, (short) 1, false, 20).join()).as("another abort, not a retry")
                .isEqualTo(new TxnShard.EndResult(Errors.NONE, 1000, (short) 2));
    }

    @Test
    void v2AnEndWhileTheMarkersAreWrittenIsRetriedByTheClient() {
        TxnShard shard = shard();
        shard.initProducerId("x", 60_000, -1, (short) -1, 0).join();
        shard.addPartitions("x", 1000, (short) 0, Set.of(A), 10).join();
        markerFailures = 2;
        assertThat(shard.endTxnV2("x", 1000, (short) 0, true, 20).join().error()).isEqualTo(Errors.NONE);
        assertThat(shard.endTxnV2("x", 1000, (short) 0, true, 25).join().error())
                .isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        assertThat(shard.addPartitions("x", 1000, (short) 1, Set.of(A), 25).join())
                .as("the next transaction waits for the markers").isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        runLater();
        assertThat(markers).containsExactly(new Marker(A, 1000, (short) 1, true));
        assertThat(shard.addPartitions("x", 1000, (short) 1, Set.of(A), 30).join()).isEqualTo(Errors.NONE);
    }

    @Test
    void v2AnExhaustedEpochMovesTheProducerToANewIdAndARetryIsRecognised() {
        TxnShard shard = new TxnShard(0, 1, m -> {
            written.add(m);
            return CompletableFuture.completedFuture(null);
        }, (tp, pid, epoch, commit, coordinatorEpoch) -> {
            markers.add(new Marker(tp, pid, epoch, commit));
            return CompletableFuture.completedFuture(Errors.NONE);
        }, () -> CompletableFuture.completedFuture(ids.getAndIncrement()), (task, delay) -> later.add(task));
        short last = Short.MAX_VALUE - 1;
        shard.replay(new TxnRecords.Entry("x", new TxnMetadata("x", 7, last, 60_000, TxnState.ONGOING, Set.of(A), 5,
                5)));
        shard.activate();
        assertThat(shard.endTxnV2("x", 7, last, true, 10).join())
                .isEqualTo(new TxnShard.EndResult(Errors.NONE, 1000, (short) 0));
        assertThat(markers).containsExactly(new Marker(A, 7, Short.MAX_VALUE, true));
        TxnMetadata prepared = written.get(0);
        assertThat(prepared.state()).isEqualTo(TxnState.PREPARE_COMMIT);
        assertThat(prepared.nextProducerId()).as("written before the markers, so a new coordinator completes the same")
                .isEqualTo(1000);
        TxnMetadata completed = shard.get("x");
        assertThat(completed.producerId()).isEqualTo(1000);
        assertThat(completed.epoch()).isEqualTo((short) 0);
        assertThat(completed.previousProducerId()).isEqualTo(7);
        assertThat(shard.endTxnV2("x", 7, last, true, 20).join()).as("the client retries the commit")
                .isEqualTo(new TxnShard.EndResult(Errors.NONE, 1000, (short) 0));
        for (TxnMetadata m : List.of(prepared, completed)) {
            org.apache.kafka.common.record.Record record = TxnRecords.batch(m, 99).records().iterator().next();
            assertThat(TxnRecords.decode(record)).isEqualTo(new TxnRecords.Entry("x", m));
        }
        assertThat(shard.addPartitions("x", 1000, (short) 0, Set.of(B), 30).join()).isEqualTo(Errors.NONE);
    }
}
