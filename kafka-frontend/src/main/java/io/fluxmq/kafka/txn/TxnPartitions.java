package io.fluxmq.kafka.txn;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;

/**
 * Adds partitions to a producer's transaction at the coordinator of its transactional id, on this node or another
 * (transaction version 2, KIP-890: the leader of a partition a transactional producer writes to, and the group
 * coordinator taking a TxnOffsetCommit, add the partition themselves instead of the producer's AddPartitionsToTxn).
 * Completes with the coordinator's answer: NONE once the partition is part of the transaction (written to the
 * transaction state), else the error (NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE when the coordinator could not be
 * reached). Thread-safe; never blocks.
 */
@FunctionalInterface
public interface TxnPartitions {
    CompletableFuture<Errors> add(String transactionalId, long producerId, short epoch, Set<TopicPartition> partitions);
}
