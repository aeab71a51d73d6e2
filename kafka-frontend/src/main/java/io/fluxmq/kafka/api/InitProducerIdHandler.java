package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.RecordBatch;

/**
 * InitProducerId v0–5 for idempotent producers: a fresh producer id at epoch 0, or, when the producer passes its id
 * and epoch (KIP-360), the same id at the next epoch. Transactions are not supported: a transactional id is refused
 * with TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
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
        boolean bump = request.producerId() != RecordBatch.NO_PRODUCER_ID
                && request.producerEpoch() != RecordBatch.NO_PRODUCER_EPOCH
                && request.producerEpoch() < Short.MAX_VALUE - 1;
        if (bump) {
            response.setProducerId(request.producerId()).setProducerEpoch((short) (request.producerEpoch() + 1));
            return CompletableFuture.completedFuture(response);
        }
        return broker.nextProducerId().handle((id, failure) -> failure == null
                ? response.setProducerId(id).setProducerEpoch((short) 0)
                : response.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()));
    }
}
