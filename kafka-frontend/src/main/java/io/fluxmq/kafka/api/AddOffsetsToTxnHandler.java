package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnCoordinator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * AddOffsetsToTxn v0–4: adds the group's {@code __consumer_offsets} partition to the producer's transaction, so the
 * transaction's markers reach it and its TxnOffsetCommit offsets take effect (or are dropped) with the transaction.
 * Needs WRITE on the transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and READ on the group (else
 * GROUP_AUTHORIZATION_FAILED), checked in that order before anything else, as Kafka's {@code KafkaApis}.
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
        Authorization auth = broker.authorization();
        if (auth.denies(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId())) {
            return CompletableFuture.completedFuture(
                    response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        if (auth.denies(context, AclOperation.READ, ResourceType.GROUP, request.groupId())) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()));
        }
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
