package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.raft.partition.Partition;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsPartition;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsTopic;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsPartitionResult;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DeleteRecordsRequest;

/**
 * DeleteRecords v0–2: moves each partition's log start offset to the requested offset ({@code -1}: the high
 * watermark) through the partition's Raft group, so every replica deletes the records below it and keeps the new
 * start across restarts and leader changes (see {@link BrokerServices#deleteRecords}). Answers the new log start as
 * the low watermark once the leader applied it; an offset below the current start changes nothing. Errors per
 * partition: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, OFFSET_OUT_OF_RANGE (beyond the high watermark or
 * negative), REQUEST_TIMED_OUT after the request's {@code timeout_ms}.
 */
public final class DeleteRecordsHandler implements ApiHandler<DeleteRecordsRequestData> {
    private final BrokerServices broker;

    public DeleteRecordsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DELETE_RECORDS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DeleteRecordsRequestData request) {
        DeleteRecordsResponseData response = new DeleteRecordsResponseData();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (DeleteRecordsTopic topic : request.topics()) {
            DeleteRecordsTopicResult out = response.topics().find(topic.name());
            if (out == null) {
                out = new DeleteRecordsTopicResult().setName(topic.name());
                response.topics().add(out);
            }
            Optional<TopicInfo> info = broker.topic(topic.name());
            boolean denied = broker.authorization().denies(context, AclOperation.DELETE, ResourceType.TOPIC,
                    topic.name());
            for (DeleteRecordsPartition p : topic.partitions()) {
                DeleteRecordsPartitionResult result = new DeleteRecordsPartitionResult()
                        .setPartitionIndex(p.partitionIndex()).setLowWatermark(-1);
                out.partitions().add(result);
                if (denied) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                    continue;
                }
                pending.add(partition(info, new TopicPartition(topic.name(), p.partitionIndex()), p.offset(),
                        request.timeoutMs()).handle((start, failure) -> failure == null
                        ? result.setLowWatermark(start) : result.setErrorCode(KafkaErrors.of(failure).code())));
            }
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    private CompletableFuture<Long> partition(Optional<TopicInfo> info, TopicPartition tp, long offset,
                                              int timeoutMs) {
        if (info.isEmpty() || tp.partition() < 0 || tp.partition() >= info.get().partitions()) {
            return failed(Errors.UNKNOWN_TOPIC_OR_PARTITION, tp + " does not exist");
        }
        Partition replica = broker.replica(tp);
        if (replica == null || !replica.isLeader()) {
            return failed(Errors.NOT_LEADER_OR_FOLLOWER, "this node does not lead " + tp);
        }
        long highWatermark = replica.highWatermark();
        long target = offset == DeleteRecordsRequest.HIGH_WATERMARK ? highWatermark : offset;
        if (target < 0 || target > highWatermark) {
            return failed(Errors.OFFSET_OUT_OF_RANGE, "offset " + offset + " of " + tp
                    + " is beyond the high watermark " + highWatermark);
        }
        return broker.deleteRecords(tp, target).orTimeout(Math.max(1, timeoutMs), TimeUnit.MILLISECONDS);
    }

    private static CompletableFuture<Long> failed(Errors error, String message) {
        return CompletableFuture.failedFuture(error.exception(message));
    }
}
