package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnCoordinator;
import io.fluxmq.kafka.txn.TxnShard;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.RecordBatch;

/**
 * InitProducerId v0–5 for idempotent producers, as Kafka's broker answers a request without a transactional id: a
 * fresh producer id at epoch 0, whatever producer id and epoch the request carries (Kafka's
 * {@code TransactionCoordinator.handleInitProducerId} "blindly accepts" it). A request that sets only one of the two is
 * INVALID_REQUEST. There is deliberately no server-side epoch bump for idempotent producers: Kafka's clients bump their
 * idempotent epoch locally (KIP-360), and handing out {@code (id, epoch + 1)} for any id a request names would let one
 * client fence another's producer. With a transactional id the request goes to the {@link TxnCoordinator} (see
 * {@link TxnShard#initProducerId}): a producer id unique in the cluster at epoch 0 for a new id, else the next epoch,
 * fencing the previous producer (an open transaction of the old epoch is aborted first, answered
 * CONCURRENT_TRANSACTIONS meanwhile); a {@code transaction_timeout_ms} outside 1..{@code transaction.max.timeout.ms}
 * is INVALID_TRANSACTION_TIMEOUT. Without a coordinator (tests), a transactional id is refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
public final class InitProducerIdHandler implements ApiHandler<InitProducerIdRequestData> {
    private final BrokerServices broker;
    private final TxnCoordinator transactions;

    public InitProducerIdHandler(BrokerServices broker) {
        this(broker, null);
    }

    public InitProducerIdHandler(BrokerServices broker, TxnCoordinator transactions) {
        this.broker = broker;
        this.transactions = transactions;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.INIT_PRODUCER_ID;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, InitProducerIdRequestData request) {
        InitProducerIdResponseData response = new InitProducerIdResponseData()
                .setProducerId(RecordBatch.NO_PRODUCER_ID).setProducerEpoch(RecordBatch.NO_PRODUCER_EPOCH);
        Authorization auth = broker.authorization();
        if (request.transactionalId() != null) {
            if (auth.denies(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId())) {
                // as Kafka: a transactional producer needs WRITE on its transactional id
                return CompletableFuture.completedFuture(
                        response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
            }
            return transactional(request, response);
        }
        if (auth.enabled() && !auth.allowedOnCluster(context, AclOperation.IDEMPOTENT_WRITE)
                && !auth.allowedOnAny(context, AclOperation.WRITE, ResourceType.TOPIC)) {
            // as Kafka 4: an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
        }
        boolean noId = request.producerId() == RecordBatch.NO_PRODUCER_ID;
        boolean noEpoch = request.producerEpoch() == RecordBatch.NO_PRODUCER_EPOCH;
        if (noId != noEpoch) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.INVALID_REQUEST.code()));
        }
        return broker.nextProducerId().handle((id, failure) -> failure == null
                ? response.setProducerId(id).setProducerEpoch((short) 0)
                : response.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()));
    }

    private CompletableFuture<ApiMessage> transactional(InitProducerIdRequestData request,
                                                        InitProducerIdResponseData response) {
        if (transactions == null) {
            return CompletableFuture.completedFuture(
                    response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        int timeoutMs = request.transactionTimeoutMs();
        if (timeoutMs <= 0 || timeoutMs > transactions.config().maxTimeoutMs()) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.INVALID_TRANSACTION_TIMEOUT.code()));
        }
        TxnCoordinator.Route route = transactions.route(request.transactionalId());
        if (route instanceof TxnCoordinator.Route.Refused refused) {
            return CompletableFuture.completedFuture(response.setErrorCode(refused.error().code()));
        }
        TxnShard shard = ((TxnCoordinator.Route.Served) route).shard();
        return shard.initProducerId(request.transactionalId(), timeoutMs, request.producerId(),
                request.producerEpoch(), transactions.now()).thenApply(r -> response.setErrorCode(r.error().code())
                        .setProducerId(r.producerId()).setProducerEpoch(r.epoch()));
    }
}
