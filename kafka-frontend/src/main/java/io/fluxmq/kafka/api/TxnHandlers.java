package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.txn.TxnCoordinator;
import java.util.List;

/**
 * The transaction handlers served by one {@link TxnCoordinator}, and DescribeProducers (a partition leader's producer
 * state) (InitProducerId and FindCoordinator take it too; see
 * {@link InitProducerIdHandler} and {@link GroupHandlers#of(io.fluxmq.kafka.group.GroupCoordinator, TxnCoordinator)}).
 */
public final class TxnHandlers {
    private TxnHandlers() {
    }

    public static List<ApiHandler<?>> of(BrokerServices broker, TxnCoordinator coordinator, GroupCoordinator groups) {
        return List.of(
                new AddPartitionsToTxnHandler(broker, coordinator),
                new AddOffsetsToTxnHandler(broker, coordinator),
                new EndTxnHandler(broker, coordinator),
                new TxnOffsetCommitHandler(groups),
                new DescribeTransactionsHandler(broker, coordinator),
                new ListTransactionsHandler(broker, coordinator),
                new DescribeProducersHandler(broker));
    }
}
