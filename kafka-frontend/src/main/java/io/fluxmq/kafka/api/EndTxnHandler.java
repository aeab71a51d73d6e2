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
 * EndTxn v0–5: commits or aborts the producer's transaction. Answered once PREPARE_COMMIT or PREPARE_ABORT is written
 * to {@code __transaction_state}; the coordinator then writes the markers. v0–4 are transaction version 1
 * ({@link io.fluxmq.kafka.txn.TxnShard#endTxn}); v5 is transaction version 2 ({@link
 * io.fluxmq.kafka.txn.TxnShard#endTxnV2}: the epoch bumped by every end, the answer naming the producer id and epoch
 * of the next transaction), as Kafka takes the request version for the client's transaction version. Needs WRITE on
 * the transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED), as Kafka.
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
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, EndTxnRequestData request) {
        if (broker.authorization().denies(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID,
                request.transactionalId())) {
            return CompletableFuture.completedFuture(new EndTxnResponseData()
                    .setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        if (context.version() >= 5) {
            TxnCoordinator.Route route = coordinator.route(request.transactionalId());
            if (route instanceof TxnCoordinator.Route.Refused refused) {
                return CompletableFuture.completedFuture(new EndTxnResponseData()
                        .setErrorCode(refused.error().code()));
            }
            return ((TxnCoordinator.Route.Served) route).shard().endTxnV2(request.transactionalId(),
                            request.producerId(), request.producerEpoch(), request.committed(), coordinator.now())
                    .thenApply(r -> new EndTxnResponseData().setErrorCode(r.error().code())
                            .setProducerId(r.producerId()).setProducerEpoch(r.epoch()));
        }
        return TxnOperations.serve(coordinator, request.transactionalId(),
                shard -> shard.endTxn(request.transactionalId(), request.producerId(), request.producerEpoch(),
                        request.committed(), coordinator.now()))
                .thenApply(error -> new EndTxnResponseData().setErrorCode(error.code()));
    }
}
