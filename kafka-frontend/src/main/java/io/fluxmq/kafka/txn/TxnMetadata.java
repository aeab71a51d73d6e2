package io.fluxmq.kafka.txn;

import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * What the coordinator knows of one transactional id; immutable, each transition makes a new value that is written
 * to the transaction state partition before it takes effect.
 *
 * @param producerId   the producer id the transactional id holds
 * @param epoch        its current epoch; requests with an older one are fenced
 * @param timeoutMs    the producer's {@code transaction.timeout.ms}
 * @param state        see {@link TxnState}
 * @param partitions   the partitions of the open (or preparing) transaction, which get its markers
 * @param txnStartMs   when the current or last transaction started (its first AddPartitionsToTxn), -1 when none
 *                     started in this epoch
 * @param lastUpdateMs when this value was made
 * @param nextProducerId     transaction version 2, a PREPARE state whose epoch bump exhausted the producer id's
 *                           epochs: the producer id the transaction completes with (at epoch 0); else -1
 * @param previousProducerId transaction version 2, a completed transaction that moved to a new producer id: the
 *                           one it was prepared with (so a retried EndTxn is recognised); else -1
 */
public record TxnMetadata(String transactionalId, long producerId, short epoch, int timeoutMs, TxnState state,
                          Set<TopicPartition> partitions, long txnStartMs, long lastUpdateMs, long nextProducerId,
                          long previousProducerId) {

    public TxnMetadata {
        partitions = Set.copyOf(partitions);
    }

    public TxnMetadata(String transactionalId, long producerId, short epoch, int timeoutMs, TxnState state,
                       Set<TopicPartition> partitions, long txnStartMs, long lastUpdateMs) {
        this(transactionalId, producerId, epoch, timeoutMs, state, partitions, txnStartMs, lastUpdateMs, -1, -1);
    }

    TxnMetadata with(TxnState newState, long nowMs) {
        return new TxnMetadata(transactionalId, producerId, epoch, timeoutMs, newState, partitions, txnStartMs, nowMs,
                nextProducerId, previousProducerId);
    }

    /**
     * Transaction version 2's PREPARE_COMMIT / PREPARE_ABORT: the epoch bumped (the markers carry it, fencing every
     * batch of the older epoch), the partitions kept, or none and a start time of now when the transaction held none
     * (an abort with nothing added); {@code nextProducerId} as above.
     */
    TxnMetadata preparedV2(TxnState prepare, boolean withPartitions, long newProducerId, long nowMs) {
        return new TxnMetadata(transactionalId, producerId, (short) (epoch + 1), timeoutMs, prepare,
                withPartitions ? partitions : Set.of(), withPartitions ? txnStartMs : nowMs, nowMs, newProducerId, -1);
    }

    /**
     * A completed transaction, or (EMPTY) a new epoch: no partitions; COMPLETE_* keep the start time of the transaction
     * they complete (Kafka's {@code prepareComplete}, which DescribeTransactions reports), EMPTY has none.
     */
    TxnMetadata completed(TxnState newState, long nowMs) {
        long start = newState == TxnState.EMPTY ? -1 : txnStartMs;
        if (nextProducerId >= 0) { // the epochs of the producer id ran out: the next transaction uses a new id
            return new TxnMetadata(transactionalId, nextProducerId, (short) 0, timeoutMs, newState, Set.of(), start,
                    nowMs, -1, producerId);
        }
        return new TxnMetadata(transactionalId, producerId, epoch, timeoutMs, newState, Set.of(), start, nowMs);
    }

    TxnMetadata withEpoch(long newProducerId, short newEpoch, int newTimeoutMs, long nowMs) {
        return new TxnMetadata(transactionalId, newProducerId, newEpoch, newTimeoutMs, state, partitions, txnStartMs,
                nowMs);
    }

    TxnMetadata adding(Set<TopicPartition> added, long nowMs) {
        Set<TopicPartition> all = new HashSet<>(partitions);
        all.addAll(added);
        long start = state == TxnState.ONGOING ? txnStartMs : nowMs;
        return new TxnMetadata(transactionalId, producerId, epoch, timeoutMs, TxnState.ONGOING, all, start, nowMs);
    }
}
