package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnCoordinator;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * EndTxn v0–4 (transaction version 1): commits or aborts the producer's transaction. Answered once PREPARE_COMMIT or
 * PREPARE_ABORT is written to {@code __transaction_state}; the coordinator then writes the markers. v5 (transaction
 * version 2, an epoch bump per transaction) is not served. Needs WRITE on the transactional id (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED), as Kafka.
 */
public final class EndTxnHandler implements ApiHandler<EndTxnRequestData> {
    private final BrokerServices broker;
    private final TxnCoordinator coordinator;

    public EndTxnHandler(BrokerServices broker, TxnCoordinator coordinator) {
        this.broker = broker;
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
        if (broker.authorization().denies(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID,
                request.transactionalId())) {
            return CompletableFuture.completedFuture(new EndTxnResponseData()
                    .setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        return TxnOperations.serve(coordinator, request.transactionalId(),
                shard -> shard.endTxn(request.transactionalId(), request.producerId(), request.producerEpoch(),
                        request.committed(), coordinator.now()))
                .thenApply(error -> new EndTxnResponseData().setErrorCode(error.code()));
    }
}
