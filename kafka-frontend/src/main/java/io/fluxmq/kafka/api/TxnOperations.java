package io.fluxmq.kafka.api;

import io.fluxmq.kafka.txn.TxnCoordinator;
import io.fluxmq.kafka.txn.TxnShard;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.kafka.common.protocol.Errors;

/** Routing shared by the transaction handlers: the shard that serves a transactional id, or the error to answer. */
final class TxnOperations {
    private TxnOperations() {
    }

    static CompletableFuture<Errors> serve(TxnCoordinator coordinator, String transactionalId,
                                           Function<TxnShard, CompletableFuture<Errors>> operation) {
        TxnCoordinator.Route route = coordinator.route(transactionalId);
        if (route instanceof TxnCoordinator.Route.Refused refused) {
            return CompletableFuture.completedFuture(refused.error());
        }
        return operation.apply(((TxnCoordinator.Route.Served) route).shard());
    }
}
