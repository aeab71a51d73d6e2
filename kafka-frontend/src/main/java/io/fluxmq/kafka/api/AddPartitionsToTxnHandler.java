package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnCoordinator;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * AddPartitionsToTxn v0–3, the client's path of transaction version 1: adds the partitions to the producer's
 * transaction at its coordinator (written to {@code __transaction_state} before the answer). Every partition gets the
 * same error, except that unknown partitions get UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED,
 * as in Kafka. The broker-side verification path (v4+, KIP-890) is not served.
 */
public final class AddPartitionsToTxnHandler implements ApiHandler<AddPartitionsToTxnRequestData> {
    private final BrokerServices broker;
    private final TxnCoordinator coordinator;

    public AddPartitionsToTxnHandler(BrokerServices broker, TxnCoordinator coordinator) {
        this.broker = broker;
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ADD_PARTITIONS_TO_TXN;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 3;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, AddPartitionsToTxnRequestData request) {
        Set<TopicPartition> partitions = new HashSet<>();
        Set<TopicPartition> unknown = new HashSet<>();
        for (AddPartitionsToTxnTopic topic : request.v3AndBelowTopics()) {
            Optional<TopicInfo> info = broker.topic(topic.name());
            for (int p : topic.partitions()) {
                TopicPartition tp = new TopicPartition(topic.name(), p);
                (info.isPresent() && p >= 0 && p < info.get().partitions() ? partitions : unknown).add(tp);
            }
        }
        if (!unknown.isEmpty()) {
            return CompletableFuture.completedFuture(respond(request, unknown, Errors.UNKNOWN_TOPIC_OR_PARTITION,
                    Errors.OPERATION_NOT_ATTEMPTED));
        }
        return TxnOperations.serve(coordinator, request.v3AndBelowTransactionalId(),
                shard -> shard.addPartitions(request.v3AndBelowTransactionalId(), request.v3AndBelowProducerId(),
                        request.v3AndBelowProducerEpoch(), partitions, coordinator.now()))
                .thenApply(error -> respond(request, Set.of(), error, error));
    }

    private static ApiMessage respond(AddPartitionsToTxnRequestData request, Set<TopicPartition> special,
                                      Errors specialError, Errors error) {
        AddPartitionsToTxnResponseData response = new AddPartitionsToTxnResponseData();
        for (AddPartitionsToTxnTopic topic : request.v3AndBelowTopics()) {
            AddPartitionsToTxnTopicResult result = new AddPartitionsToTxnTopicResult().setName(topic.name());
            for (int p : topic.partitions()) {
                Errors e = special.contains(new TopicPartition(topic.name(), p)) ? specialError : error;
                if (result.resultsByPartition().find(p) == null) {
                    result.resultsByPartition().add(new AddPartitionsToTxnPartitionResult().setPartitionIndex(p)
                            .setPartitionErrorCode(e.code()));
                }
            }
            response.resultsByTopicV3AndBelow().add(result);
        }
        return response;
    }
}
