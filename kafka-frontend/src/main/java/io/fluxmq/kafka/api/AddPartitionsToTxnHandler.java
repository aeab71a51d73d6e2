package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnCoordinator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * AddPartitionsToTxn v0–3, the client's path of transaction version 1: adds the partitions to the producer's
 * transaction at its coordinator (written to {@code __transaction_state} before the answer). Checks as Kafka's
 * {@code KafkaApis} does for these versions: WRITE on the transactional id (else every partition is
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then WRITE on each topic. If any partition fails a check, nothing is added:
 * a topic without WRITE (and an internal topic, which a client may never add) gets TOPIC_AUTHORIZATION_FAILED, an
 * unknown partition UNKNOWN_TOPIC_OR_PARTITION, and the others OPERATION_NOT_ATTEMPTED. Otherwise every partition
 * gets the coordinator's answer. The broker-side verification path (v4+, KIP-890, which Kafka authorizes with
 * CLUSTER_ACTION) is not served.
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
        String transactionalId = request.v3AndBelowTransactionalId();
        Authorization auth = broker.authorization();
        if (auth.denies(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)) {
            return CompletableFuture.completedFuture(respond(request, Map.of(),
                    Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
        }
        Set<TopicPartition> partitions = new HashSet<>();
        Map<TopicPartition, Errors> refused = new HashMap<>();
        for (AddPartitionsToTxnTopic topic : request.v3AndBelowTopics()) {
            boolean writable = !Topic.isInternal(topic.name())
                    && !auth.denies(context, AclOperation.WRITE, ResourceType.TOPIC, topic.name());
            Optional<TopicInfo> info = broker.topic(topic.name());
            for (int p : topic.partitions()) {
                TopicPartition tp = new TopicPartition(topic.name(), p);
                if (!writable) {
                    refused.put(tp, Errors.TOPIC_AUTHORIZATION_FAILED);
                } else if (info.isEmpty() || p < 0 || p >= info.get().partitions()) {
                    refused.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
                } else {
                    partitions.add(tp);
                }
            }
        }
        if (!refused.isEmpty()) {
            return CompletableFuture.completedFuture(respond(request, refused, Errors.OPERATION_NOT_ATTEMPTED));
        }
        return TxnOperations.serve(coordinator, transactionalId,
                shard -> shard.addPartitions(transactionalId, request.v3AndBelowProducerId(),
                        request.v3AndBelowProducerEpoch(), partitions, coordinator.now()))
                .thenApply(error -> respond(request, Map.of(), error));
    }

    /** Every partition of the request answered with its error in {@code special}, else {@code error}. */
    private static ApiMessage respond(AddPartitionsToTxnRequestData request, Map<TopicPartition, Errors> special,
                                      Errors error) {
        AddPartitionsToTxnResponseData response = new AddPartitionsToTxnResponseData();
        for (AddPartitionsToTxnTopic topic : request.v3AndBelowTopics()) {
            AddPartitionsToTxnTopicResult result = new AddPartitionsToTxnTopicResult().setName(topic.name());
            for (int p : topic.partitions()) {
                Errors e = special.getOrDefault(new TopicPartition(topic.name(), p), error);
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
