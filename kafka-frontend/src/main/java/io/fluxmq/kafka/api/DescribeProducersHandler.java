package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.raft.partition.Partition;
import io.fluxmq.raft.partition.ProducerState;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeProducersResponseData.PartitionResponse;
import org.apache.kafka.common.message.DescribeProducersResponseData.TopicResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * DescribeProducers v0 (Kafka's {@code handleDescribeProducersRequest}): the producer state of each requested
 * partition this node leads ({@link Partition#activeProducers}: producer id, epoch, last sequence, last timestamp, the
 * first offset of its open transaction). Errors, per partition as in Kafka: INVALID_TOPIC_EXCEPTION for an illegal
 * name, TOPIC_AUTHORIZATION_FAILED without READ on the topic, UNKNOWN_TOPIC_OR_PARTITION for a topic or partition that
 * does not exist, NOT_LEADER_OR_FOLLOWER where this node does not lead (the Admin client then asks the leader). The
 * coordinator epoch is always -1: FluxMQ does not keep a marker's coordinator epoch in the producer state.
 */
public final class DescribeProducersHandler implements ApiHandler<DescribeProducersRequestData> {
    private final BrokerServices broker;

    public DescribeProducersHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_PRODUCERS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeProducersRequestData request) {
        DescribeProducersResponseData response = new DescribeProducersResponseData();
        for (DescribeProducersRequestData.TopicRequest topic : request.topics()) {
            TopicResponse out = new TopicResponse().setName(topic.name());
            response.topics().add(out);
            Optional<TopicInfo> info = broker.topic(topic.name());
            Errors topicError = topicError(context, topic.name(), info);
            for (int partition : topic.partitionIndexes()) {
                PartitionResponse result = new PartitionResponse().setPartitionIndex(partition);
                out.partitions().add(result);
                if (topicError != Errors.NONE) {
                    result.setErrorCode(topicError.code());
                } else if (partition < 0 || partition >= info.get().partitions()) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else {
                    describe(new TopicPartition(topic.name(), partition), result);
                }
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private Errors topicError(RequestContext context, String name, Optional<TopicInfo> info) {
        try {
            Topic.validate(name);
        } catch (InvalidTopicException e) {
            return Errors.INVALID_TOPIC_EXCEPTION;
        }
        if (broker.authorization().denies(context, AclOperation.READ, ResourceType.TOPIC, name)) {
            return Errors.TOPIC_AUTHORIZATION_FAILED;
        }
        return info.isEmpty() ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.NONE;
    }

    private void describe(TopicPartition tp, PartitionResponse result) {
        Partition replica = broker.replica(tp);
        if (replica == null || !replica.isLeader()) {
            result.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
            return;
        }
        for (ProducerState p : replica.activeProducers()) {
            result.activeProducers().add(new DescribeProducersResponseData.ProducerState()
                    .setProducerId(p.producerId()).setProducerEpoch(p.producerEpoch())
                    .setLastSequence(p.lastSequence()).setLastTimestamp(p.lastTimestamp())
                    .setCoordinatorEpoch(p.coordinatorEpoch()).setCurrentTxnStartOffset(p.currentTxnStartOffset()));
        }
    }
}
