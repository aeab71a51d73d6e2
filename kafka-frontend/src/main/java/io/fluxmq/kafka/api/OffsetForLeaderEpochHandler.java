package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.raft.partition.Partition;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.EpochEndOffset;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** OffsetForLeaderEpoch v2–4: the end offset of a leader epoch, which consumers use to detect log truncation. */
public final class OffsetForLeaderEpochHandler implements ApiHandler<OffsetForLeaderEpochRequestData> {
    private final BrokerServices broker;

    public OffsetForLeaderEpochHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.OFFSET_FOR_LEADER_EPOCH;
    }

    @Override
    public short minVersion() {
        return 2;
    }

    @Override
    public short maxVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, OffsetForLeaderEpochRequestData request) {
        OffsetForLeaderEpochResponseData response = new OffsetForLeaderEpochResponseData();
        for (OffsetForLeaderEpochRequestData.OffsetForLeaderTopic topic : request.topics()) {
            OffsetForLeaderTopicResult out = new OffsetForLeaderTopicResult().setTopic(topic.topic());
            response.topics().add(out);
            Optional<TopicInfo> info = broker.topic(topic.topic());
            boolean denied = broker.authorization().denies(context, AclOperation.DESCRIBE, ResourceType.TOPIC,
                    topic.topic());
            for (OffsetForLeaderEpochRequestData.OffsetForLeaderPartition p : topic.partitions()) {
                out.partitions().add(denied ? new EpochEndOffset().setPartition(p.partition()).setLeaderEpoch(-1)
                        .setEndOffset(-1).setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        : partition(info, topic.topic(), p));
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private EpochEndOffset partition(Optional<TopicInfo> info, String topic,
                                     OffsetForLeaderEpochRequestData.OffsetForLeaderPartition p) {
        EpochEndOffset out = new EpochEndOffset().setPartition(p.partition()).setLeaderEpoch(-1).setEndOffset(-1);
        if (info.isEmpty() || p.partition() < 0 || p.partition() >= info.get().partitions()) {
            return out.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        Partition replica = broker.replica(new TopicPartition(topic, p.partition()));
        if (replica == null || !replica.isLeader()) {
            return out.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
        }
        Errors epochError = FetchHandler.epochError(p.currentLeaderEpoch(), replica.leaderEpoch());
        if (epochError != Errors.NONE) {
            return out.setErrorCode(epochError.code());
        }
        long[] epochAndOffset = replica.endOffsetForEpoch(p.leaderEpoch());
        return out.setLeaderEpoch((int) epochAndOffset[0]).setEndOffset(epochAndOffset[1]);
    }
}
