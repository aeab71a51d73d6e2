package io.fluxmq.kafka.api;

import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnCoordinator;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * EndTxn v0–4 (transaction version 1): commits or aborts the producer's transaction. Answered once PREPARE_COMMIT or
 * PREPARE_ABORT is written to {@code __transaction_state}; the coordinator then writes the markers. v5 (transaction
 * version 2, an epoch bump per transaction) is not served.
 */
public final class EndTxnHandler implements ApiHandler<EndTxnRequestData> {
    private final TxnCoordinator coordinator;

    public EndTxnHandler(TxnCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.END_TXN;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, EndTxnRequestData request) {
        return TxnOperations.serve(coordinator, request.transactionalId(),
                shard -> shard.endTxn(request.transactionalId(), request.producerId(), request.producerEpoch(),
                        request.committed(), coordinator.now()))
                .thenApply(error -> new EndTxnResponseData().setErrorCode(error.code()));
    }
}
