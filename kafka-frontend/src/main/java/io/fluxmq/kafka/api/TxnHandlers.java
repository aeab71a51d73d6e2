package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.txn.TxnCoordinator;
import io.fluxmq.kafka.txn.TxnPartitions;
import java.util.List;

/**
 * The transaction handlers served by one {@link TxnCoordinator}, and DescribeProducers (a partition leader's producer
 * state) (InitProducerId and FindCoordinator take it too; see
 * {@link InitProducerIdHandler} and {@link GroupHandlers#of(io.fluxmq.kafka.group.GroupCoordinator, TxnCoordinator)}).
 */
public final class TxnHandlers {
    private TxnHandlers() {
    }

    /** With partitions added to transactions only by this node's coordinator (single-node and tests). */
    public static List<ApiHandler<?>> of(BrokerServices broker, TxnCoordinator coordinator, GroupCoordinator groups) {
        return of(broker, coordinator, groups, coordinator::addPartitions);
    }

    /** {@code transactions}: how TxnOffsetCommit v5 adds the offsets partition to a transaction (version 2). */
    public static List<ApiHandler<?>> of(BrokerServices broker, TxnCoordinator coordinator, GroupCoordinator groups,
                                         TxnPartitions transactions) {
        return List.of(
                new AddPartitionsToTxnHandler(broker, coordinator),
                new AddOffsetsToTxnHandler(broker, coordinator),
                new EndTxnHandler(broker, coordinator),
                new TxnOffsetCommitHandler(groups, transactions),
                new DescribeTransactionsHandler(broker, coordinator),
                new ListTransactionsHandler(broker, coordinator),
                new DescribeProducersHandler(broker));
    }
}
