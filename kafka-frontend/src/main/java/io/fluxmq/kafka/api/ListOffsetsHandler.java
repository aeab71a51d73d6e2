package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.raft.log.TimestampAndOffset;
import io.fluxmq.raft.partition.Partition;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsTopicResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ListOffsetsRequest;

/**
 * ListOffsets v1–10: earliest (-2), latest (-1), max-timestamp (-3), earliest-local (-4) and by timestamp, all over
 * committed data; latest is the last stable offset for read_committed (isolation level 1), else the high watermark.
 */
public final class ListOffsetsHandler implements ApiHandler<ListOffsetsRequestData> {
    private final BrokerServices broker;

    public ListOffsetsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.LIST_OFFSETS;
    }

    @Override
    public short minVersion() {
        return 1;
    }

    @Override
    public short maxVersion() {
        return 10;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ListOffsetsRequestData request) {
        ListOffsetsResponseData response = new ListOffsetsResponseData();
        for (ListOffsetsRequestData.ListOffsetsTopic topic : request.topics()) {
            ListOffsetsTopicResponse out = new ListOffsetsTopicResponse().setName(topic.name());
            response.topics().add(out);
            Optional<TopicInfo> info = broker.topic(topic.name());
            boolean denied = broker.authorization().denies(context, AclOperation.DESCRIBE, ResourceType.TOPIC,
                    topic.name());
            for (ListOffsetsRequestData.ListOffsetsPartition p : topic.partitions()) {
                ListOffsetsPartitionResponse answer = denied ? new ListOffsetsPartitionResponse()
                        .setPartitionIndex(p.partitionIndex()).setTimestamp(-1).setOffset(-1).setLeaderEpoch(-1)
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        : partition(info, topic.name(), p, request.isolationLevel());
                if (context.version() < 4) {
                    answer.setLeaderEpoch(-1); // the field exists from v4 on
                }
                out.partitions().add(answer);
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private ListOffsetsPartitionResponse partition(Optional<TopicInfo> info, String topic,
                                                   ListOffsetsRequestData.ListOffsetsPartition p, byte isolation) {
        ListOffsetsPartitionResponse out = new ListOffsetsPartitionResponse().setPartitionIndex(p.partitionIndex())
                .setTimestamp(-1).setOffset(-1).setLeaderEpoch(-1);
        if (info.isEmpty() || p.partitionIndex() < 0 || p.partitionIndex() >= info.get().partitions()) {
            return out.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        Partition replica = broker.replica(new TopicPartition(topic, p.partitionIndex()));
        if (replica == null || !replica.isLeader()) {
            return out.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
        }
        int epoch = replica.leaderEpoch();
        Errors epochError = FetchHandler.epochError(p.currentLeaderEpoch(), epoch);
        if (epochError != Errors.NONE) {
            return out.setErrorCode(epochError.code());
        }
        long ts = p.timestamp();
        if (ts == ListOffsetsRequest.EARLIEST_TIMESTAMP || ts == ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP) {
            return out.setOffset(replica.logStartOffset()).setLeaderEpoch(epoch);
        }
        if (ts == ListOffsetsRequest.LATEST_TIMESTAMP || ts == ListOffsetsRequest.LATEST_TIERED_TIMESTAMP) {
            // read_committed (isolation level 1) ends at the last stable offset, as in Kafka
            long latest = isolation == 1 ? replica.lastStableOffset() : replica.highWatermark();
            return out.setOffset(latest).setLeaderEpoch(epoch);
        }
        Optional<TimestampAndOffset> found = ts == ListOffsetsRequest.MAX_TIMESTAMP ? replica.maxTimestamp()
                : ts < 0 ? Optional.empty() : replica.offsetForTimestamp(ts);
        if (ts < 0 && ts != ListOffsetsRequest.MAX_TIMESTAMP) {
            return out.setErrorCode(Errors.UNSUPPORTED_VERSION.code());
        }
        return found.map(t -> out.setTimestamp(t.timestamp()).setOffset(t.offset()).setLeaderEpoch(t.leaderEpoch()))
                .orElse(out);
    }
}
