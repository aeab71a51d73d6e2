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
 */
public record TxnMetadata(String transactionalId, long producerId, short epoch, int timeoutMs, TxnState state,
                          Set<TopicPartition> partitions, long txnStartMs, long lastUpdateMs) {

    public TxnMetadata {
        partitions = Set.copyOf(partitions);
    }

    TxnMetadata with(TxnState newState, long nowMs) {
        return new TxnMetadata(transactionalId, producerId, epoch, timeoutMs, newState, partitions, txnStartMs, nowMs);
    }

    /**
     * A completed transaction, or (EMPTY) a new epoch: no partitions; COMPLETE_* keep the start time of the transaction
     * they complete (Kafka's {@code prepareComplete}, which DescribeTransactions reports), EMPTY has none.
     */
    TxnMetadata completed(TxnState newState, long nowMs) {
        return new TxnMetadata(transactionalId, producerId, epoch, timeoutMs, newState, Set.of(),
                newState == TxnState.EMPTY ? -1 : txnStartMs, nowMs);
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
