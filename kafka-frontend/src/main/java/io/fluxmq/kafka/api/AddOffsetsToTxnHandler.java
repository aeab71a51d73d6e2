package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnCoordinator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * AddOffsetsToTxn v0–4: adds the group's {@code __consumer_offsets} partition to the producer's transaction, so the
 * transaction's markers reach it and its TxnOffsetCommit offsets take effect (or are dropped) with the transaction.
 */
public final class AddOffsetsToTxnHandler implements ApiHandler<AddOffsetsToTxnRequestData> {
    private final BrokerServices broker;
    private final TxnCoordinator coordinator;

    public AddOffsetsToTxnHandler(BrokerServices broker, TxnCoordinator coordinator) {
        this.broker = broker;
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ADD_OFFSETS_TO_TXN;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, AddOffsetsToTxnRequestData request) {
        AddOffsetsToTxnResponseData response = new AddOffsetsToTxnResponseData();
        Optional<TopicInfo> offsets = broker.topic(GroupCoordinator.OFFSETS_TOPIC);
        if (offsets.isEmpty()) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()));
        }
        if (request.groupId() == null || request.groupId().isEmpty()) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.INVALID_GROUP_ID.code()));
        }
        TopicPartition tp = new TopicPartition(GroupCoordinator.OFFSETS_TOPIC,
                GroupCoordinator.partitionFor(request.groupId(), offsets.get().partitions()));
        return TxnOperations.serve(coordinator, request.transactionalId(),
                shard -> shard.addPartitions(request.transactionalId(), request.producerId(), request.producerEpoch(),
                        Set.of(tp), coordinator.now()))
                .thenApply(error -> response.setErrorCode(error.code()));
    }
}
