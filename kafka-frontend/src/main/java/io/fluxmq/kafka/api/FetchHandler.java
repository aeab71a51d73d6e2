package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.raft.partition.PartitionException;
import io.fluxmq.raft.partition.PartitionReplica;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * Fetch v4–17 for consumers. Reads committed batches (up to the high watermark) of every requested partition within
 * the request and partition byte limits, returning at least one whole batch for the first partition with data. When
 * fewer than {@code min_bytes} are available it waits, up to {@code max_wait_ms}, for a high watermark to advance on
 * one of the partitions (long poll), then reads again. Fetch sessions are not kept: every response carries session
 * id 0, so clients send full fetch requests. Topics are named by id from v13.
 */
public final class FetchHandler implements ApiHandler<FetchRequestData> {
    private final BrokerServices broker;
    private final Executor wakeups;

    public FetchHandler(BrokerServices broker, Executor wakeups) {
        this.broker = broker;
        this.wakeups = wakeups;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.FETCH;
    }

    @Override
    public short minVersion() {
        return 4;
    }

    @Override
    public short maxVersion() {
        return 17;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, FetchRequestData request) {
        if (request.sessionEpoch() > 0 || request.sessionId() != 0) {
            return CompletableFuture.completedFuture(new FetchResponseData()
                    .setErrorCode(Errors.FETCH_SESSION_ID_NOT_FOUND.code()).setSessionId(0));
        }
        List<Target> targets = resolve(context.version(), request);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, request.maxWaitMs()));
        CompletableFuture<ApiMessage> result = new CompletableFuture<>();
        attempt(request, targets, deadline, result);
        return result;
    }

    /** One requested partition, resolved against metadata. */
    private record Target(FetchResponseData.FetchableTopicResponse topic, FetchRequestData.FetchPartition request,
                          TopicPartition tp, PartitionReplica replica, Errors error) {}

    private List<Target> resolve(short version, FetchRequestData request) {
        List<Target> targets = new ArrayList<>();
        for (FetchRequestData.FetchTopic topic : request.topics()) {
            Optional<TopicInfo> info = version >= 13 ? broker.topic(topic.topicId()) : broker.topic(topic.topic());
            FetchResponseData.FetchableTopicResponse out = new FetchResponseData.FetchableTopicResponse()
                    .setTopic(topic.topic()).setTopicId(topic.topicId());
            for (FetchRequestData.FetchPartition p : topic.partitions()) {
                if (info.isEmpty() || p.partition() < 0 || p.partition() >= info.get().partitions()) {
                    Errors error = version >= 13 && info.isEmpty() ? Errors.UNKNOWN_TOPIC_ID
                            : Errors.UNKNOWN_TOPIC_OR_PARTITION;
                    targets.add(new Target(out, p, null, null, error));
                    continue;
                }
                TopicPartition tp = new TopicPartition(info.get().name(), p.partition());
                PartitionReplica replica = broker.replica(tp);
                Errors error = replica == null || !replica.isLeader() ? Errors.NOT_LEADER_OR_FOLLOWER
                        : epochError(p.currentLeaderEpoch(), replica.leaderEpoch());
                targets.add(new Target(out, p, tp, replica, error));
            }
        }
        return targets;
    }

    static Errors epochError(int requested, int current) {
        if (requested < 0 || requested == current) {
            return Errors.NONE;
        }
        return requested < current ? Errors.FENCED_LEADER_EPOCH : Errors.UNKNOWN_LEADER_EPOCH;
    }

    private void attempt(FetchRequestData request, List<Target> targets, long deadline,
                         CompletableFuture<ApiMessage> result) {
        FetchResponseData response = read(request, targets);
        int bytes = 0;
        boolean errors = false;
        for (FetchResponseData.FetchableTopicResponse t : response.responses()) {
            for (FetchResponseData.PartitionData p : t.partitions()) {
                bytes += p.records() == null ? 0 : p.records().sizeInBytes();
                errors |= p.errorCode() != Errors.NONE.code();
            }
        }
        long remainingNanos = deadline - System.nanoTime();
        if (bytes >= request.minBytes() || errors || remainingNanos <= 0 || targets.isEmpty()) {
            result.complete(response);
            return;
        }
        CompletableFuture<Void> wake = new CompletableFuture<>();
        LongConsumer listener = hw -> wake.complete(null);
        List<PartitionReplica> watched = targets.stream().map(Target::replica).filter(r -> r != null).toList();
        watched.forEach(r -> r.addHighWatermarkListener(listener));
        wake.completeOnTimeout(null, remainingNanos, TimeUnit.NANOSECONDS);
        wake.thenRunAsync(() -> {
            watched.forEach(r -> r.removeHighWatermarkListener(listener));
            attempt(request, targets, deadline, result);
        }, wakeups);
        // A high watermark may have moved between the read and the registration.
        for (Target t : targets) {
            if (t.replica() != null && t.replica().highWatermark() > t.request().fetchOffset()) {
                wake.complete(null);
                break;
            }
        }
    }

    private FetchResponseData read(FetchRequestData request, List<Target> targets) {
        FetchResponseData response = new FetchResponseData().setSessionId(0);
        int remaining = request.maxBytes() <= 0 ? Integer.MAX_VALUE : request.maxBytes();
        boolean first = true;
        FetchResponseData.FetchableTopicResponse source = null;
        FetchResponseData.FetchableTopicResponse current = null;
        for (Target target : targets) {
            if (source != target.topic()) {
                source = target.topic();
                current = new FetchResponseData.FetchableTopicResponse()
                        .setTopic(source.topic()).setTopicId(source.topicId());
                response.responses().add(current);
            }
            FetchResponseData.PartitionData out = new FetchResponseData.PartitionData()
                    .setPartitionIndex(target.request().partition())
                    .setHighWatermark(-1).setLastStableOffset(-1).setLogStartOffset(-1)
                    .setRecords(MemoryRecords.EMPTY);
            current.partitions().add(out);
            if (target.error() != Errors.NONE) {
                out.setErrorCode(target.error().code());
                continue;
            }
            PartitionReplica replica = target.replica();
            long hw = replica.highWatermark();
            out.setHighWatermark(hw).setLastStableOffset(hw).setLogStartOffset(replica.logStartOffset())
                    .setAbortedTransactions(request.isolationLevel() == 1 ? new ArrayList<>() : null);
            try {
                int limit = Math.min(remaining, target.request().partitionMaxBytes());
                MemoryRecords records = replica.read(target.request().fetchOffset(), limit, first);
                if (records.sizeInBytes() > 0) {
                    first = false;
                    remaining = Math.max(0, remaining - records.sizeInBytes());
                }
                out.setRecords(records);
            } catch (PartitionException e) {
                out.setErrorCode(KafkaErrors.of(e).code());
            }
        }
        return response;
    }
}
