package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.broker.PartitionReads;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.fetch.FetchContext;
import io.fluxmq.kafka.fetch.FetchPosition;
import io.fluxmq.kafka.fetch.FetchSessionCache;
import io.fluxmq.kafka.fetch.PartitionResult;
import io.fluxmq.kafka.metrics.FrontendMetrics;
import io.fluxmq.kafka.metrics.RecordCounts;
import io.fluxmq.kafka.quota.ClientQuotaManager;
import io.fluxmq.kafka.quota.QuotaType;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.raft.partition.PartitionException;
import io.fluxmq.raft.partition.TxnIndex;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * Fetch v4–17 for consumers. Reads committed batches (up to the high watermark) of every partition of the request,
 * or of its fetch session, within the request and partition byte limits, returning at least one whole batch for the
 * first partition with data. Record sets are read-only views of the mapped segments, written to the socket without
 * a copy (see {@code ByteBufWritable}). When fewer than {@code min_bytes} are available it waits, up to
 * {@code max_wait_ms}, for a high watermark to advance on one of the partitions (long poll), then reads again.
 * Fetch sessions (KIP-227) come from a {@link FetchSessionCache}: incremental requests name only changed partitions,
 * and their responses carry only partitions with news. Topics are named by id from v13.
 */
public final class FetchHandler implements ApiHandler<FetchRequestData> {
    /** Kafka's isolation level {@code READ_COMMITTED}: reads end at the last stable offset. */
    private static final byte READ_COMMITTED = 1;
    private final BrokerServices broker;
    private final FetchSessionCache sessions;
    private final Executor wakeups;
    private final FrontendMetrics metrics;

    public FetchHandler(BrokerServices broker, FetchSessionCache sessions, Executor wakeups) {
        this(broker, sessions, wakeups, FrontendMetrics.NONE);
    }

    /** As above, counting the bytes and records each response sends in its topic's {@code metrics}. */
    public FetchHandler(BrokerServices broker, FetchSessionCache sessions, Executor wakeups, FrontendMetrics metrics) {
        this.broker = broker;
        this.sessions = sessions;
        this.wakeups = wakeups;
        this.metrics = metrics;
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
        FetchContext fetch = sessions.newContext(context.version(), request);
        if (fetch instanceof FetchContext.SessionError) {
            return CompletableFuture.completedFuture(fetch.respond(List.of()));
        }
        List<Target> targets = resolve(context, fetch.partitions());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, request.maxWaitMs()));
        CompletableFuture<ApiMessage> result = new CompletableFuture<>();
        ClientQuotaManager quotas = broker.quotas();
        if (!quotas.enabled(QuotaType.FETCH)) {
            attempt(request, fetch, targets, deadline, maxBytes(request), result);
            return result;
        }
        // as Kafka: at most what the quota admits in one window (the first batch still goes out whole)
        double window = quotas.maxValueInQuotaWindow(QuotaType.FETCH, context.principal(),
                context.header().clientId());
        attempt(request, fetch, targets, deadline, (int) Math.min(maxBytes(request), window), result);
        return result.thenApply(r -> throttle(context, r));
    }

    private static int maxBytes(FetchRequestData request) {
        return request.maxBytes() <= 0 ? Integer.MAX_VALUE : request.maxBytes();
    }

    /**
     * Charges the response's size to the client's {@code consumer_byte_rate}, as Kafka does; over the quota, the
     * connection is muted for the throttle time, which the response carries. Unlike Kafka, which then answers with no
     * records (and takes the charge back), the throttled response keeps its records: the client reads them and waits;
     * what one response may carry is capped at what the quota admits in one window, as in Kafka.
     */
    private ApiMessage throttle(RequestContext context, ApiMessage response) {
        FetchResponseData data = (FetchResponseData) response;
        int size = data.size(new ObjectSerializationCache(), context.version());
        int throttleMs = broker.quotas().recordAndThrottle(QuotaType.FETCH, context, size);
        return throttleMs > 0 ? data.setThrottleTimeMs(throttleMs) : data;
    }

    /** One partition to read, resolved against metadata, with its topic's counters. */
    private record Target(FetchPosition position, PartitionReads log, Errors error, FrontendMetrics.TopicMeters meters) {
        Target(FetchPosition position, PartitionReads log, Errors error) {
            this(position, log, error, FrontendMetrics.TopicMeters.NONE);
        }
    }

    private List<Target> resolve(RequestContext context, List<FetchPosition> positions) {
        short version = context.version();
        Authorization auth = broker.authorization();
        // READ on each topic, decided once per topic of the request; nothing to look up with authorization off
        Map<String, Boolean> readable = auth.enabled() ? new HashMap<>() : null;
        List<Target> targets = new ArrayList<>(positions.size());
        for (FetchPosition position : positions) {
            int partition = position.key().partition();
            Optional<TopicInfo> info = version >= 13 ? broker.topic(position.key().topicId())
                    : broker.topic(position.key().topic());
            if (info.isEmpty() || partition < 0 || partition >= info.get().partitions()) {
                Errors error = version >= 13 && info.isEmpty() ? Errors.UNKNOWN_TOPIC_ID
                        : Errors.UNKNOWN_TOPIC_OR_PARTITION;
                targets.add(new Target(position, null, error));
                continue;
            }
            if (readable != null && !readable.computeIfAbsent(info.get().name(),
                    name -> auth.allowed(context, AclOperation.READ, ResourceType.TOPIC, name))) {
                targets.add(new Target(position, null, Errors.TOPIC_AUTHORIZATION_FAILED));
                continue;
            }
            PartitionReads log = broker.partitionReads(new TopicPartition(info.get().name(), partition));
            Errors error = log == null || !log.isLeader() ? Errors.NOT_LEADER_OR_FOLLOWER
                    : epochError(position.currentLeaderEpoch(), log.leaderEpoch());
            targets.add(new Target(position, log, error, metrics.topic(info.get().name())));
        }
        return targets;
    }

    static Errors epochError(int requested, int current) {
        if (requested < 0 || requested == current) {
            return Errors.NONE;
        }
        return requested < current ? Errors.FENCED_LEADER_EPOCH : Errors.UNKNOWN_LEADER_EPOCH;
    }

    private void attempt(FetchRequestData request, FetchContext fetch, List<Target> targets, long deadline,
                         int maxBytes, CompletableFuture<ApiMessage> result) {
        List<PartitionResult> results = read(request, targets, maxBytes);
        int bytes = 0;
        boolean errors = false;
        for (PartitionResult r : results) {
            bytes += r.data().records() == null ? 0 : r.data().records().sizeInBytes();
            errors |= r.data().errorCode() != Errors.NONE.code();
        }
        long remainingNanos = deadline - System.nanoTime();
        if (bytes >= Math.min(request.minBytes(), maxBytes) || errors || remainingNanos <= 0 || targets.isEmpty()) {
            count(targets, results);
            result.complete(fetch.respond(results));
            return;
        }
        CompletableFuture<Void> wake = new CompletableFuture<>();
        LongConsumer listener = hw -> wake.complete(null);
        List<PartitionReads> watched = targets.stream().map(Target::log).filter(Objects::nonNull).toList();
        watched.forEach(r -> r.addHighWatermarkListener(listener));
        wake.completeOnTimeout(null, remainingNanos, TimeUnit.NANOSECONDS);
        wake.thenRunAsync(() -> {
            watched.forEach(r -> r.removeHighWatermarkListener(listener));
            attempt(request, fetch, targets, deadline, maxBytes, result);
        }, wakeups);
        // A high watermark may have moved between the read and the registration.
        for (Target t : targets) {
            long visible = t.log() == null ? -1 : request.isolationLevel() == READ_COMMITTED
                    ? t.log().lastStableOffset() : t.log().highWatermark();
            if (visible > t.position().fetchOffset()) {
                wake.complete(null);
                break;
            }
        }
    }

    /** Counts what the response sends: {@code results} has one entry per target, in the same order. */
    private static void count(List<Target> targets, List<PartitionResult> results) {
        for (int i = 0; i < results.size(); i++) {
            if (results.get(i).data().records() instanceof MemoryRecords records && records.sizeInBytes() > 0) {
                targets.get(i).meters().fetched(records.sizeInBytes(), RecordCounts.of(records));
            }
        }
    }

    private List<PartitionResult> read(FetchRequestData request, List<Target> targets, int maxBytes) {
        List<PartitionResult> results = new ArrayList<>(targets.size());
        int remaining = maxBytes;
        boolean first = true;
        for (Target target : targets) {
            FetchResponseData.PartitionData out = new FetchResponseData.PartitionData()
                    .setPartitionIndex(target.position().key().partition())
                    .setHighWatermark(-1).setLastStableOffset(-1).setLogStartOffset(-1)
                    .setRecords(MemoryRecords.EMPTY);
            results.add(new PartitionResult(target.position().key(), out));
            if (target.error() != Errors.NONE) {
                out.setErrorCode(target.error().code());
                continue;
            }
            PartitionReads log = target.log();
            long hw = log.highWatermark();
            boolean committedOnly = request.isolationLevel() == READ_COMMITTED;
            long lso = log.lastStableOffset();
            out.setHighWatermark(hw).setLastStableOffset(lso).setLogStartOffset(log.logStartOffset())
                    .setAbortedTransactions(committedOnly ? new ArrayList<>() : null);
            try {
                int limit = Math.min(remaining, target.position().maxBytes());
                long offset = target.position().fetchOffset();
                MemoryRecords records = committedOnly ? log.read(offset, limit, first, lso)
                        : log.read(offset, limit, first);
                if (committedOnly && records.sizeInBytes() > 0) {
                    for (TxnIndex.AbortedTxn t : log.abortedTransactions(offset, lso)) {
                        out.abortedTransactions().add(new FetchResponseData.AbortedTransaction()
                                .setProducerId(t.producerId()).setFirstOffset(t.firstOffset()));
                    }
                }
                if (records.sizeInBytes() > 0) {
                    first = false;
                    remaining = Math.max(0, remaining - records.sizeInBytes());
                }
                out.setRecords(records);
            } catch (PartitionException e) {
                out.setErrorCode(KafkaErrors.of(e).code());
            }
        }
        return results;
    }
}
