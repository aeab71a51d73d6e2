package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
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
 * client fence another's producer. Transactions are not supported: a transactional id is refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
public final class InitProducerIdHandler implements ApiHandler<InitProducerIdRequestData> {
    private final BrokerServices broker;

    public InitProducerIdHandler(BrokerServices broker) {
        this.broker = broker;
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
        if (request.transactionalId() != null) {
            return CompletableFuture.completedFuture(
                    response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        Authorization auth = broker.authorization();
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
}
