package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.broker.PartitionState;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.metrics.FrontendMetrics;
import io.fluxmq.kafka.metrics.RecordCounts;
import io.fluxmq.kafka.quota.ClientQuotaManager;
import io.fluxmq.kafka.quota.QuotaType;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnPartitions;
import io.fluxmq.raft.partition.AppendResult;
import io.fluxmq.raft.partition.Partition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.CloseableIterator;

/**
 * Produce v3–12. Every partition of the request is appended to its Raft group and answered on its own; the response is
 * sent once all are committed (acks=1 and acks=all both wait for the Raft commit) or failed. v12 is transaction version
 * 2: a transactional batch's partition is first added to its transaction ({@link TxnProduceGate}). acks=0 gets no
 * response; if any of its partitions failed, the connection is closed (as Kafka does) so the client refreshes its
 * metadata instead of sending on to a partition that cannot take the records.
 */
public final class ProduceHandler implements ApiHandler<ProduceRequestData> {
    private final BrokerServices broker;
    private final java.util.function.Function<TopicPartition, java.util.concurrent.Executor> appends;
    private final FrontendMetrics metrics;
    private final TxnProduceGate txnGate;

    /**
     * @param appends the executor that hands a partition's appends to Raft, one thread per partition so requests
     *                keep their order: Ratis' submit can block (while a leader steps down), and it must not block
     *                the connection's event loop
     */
    public ProduceHandler(BrokerServices broker,
                          java.util.function.Function<TopicPartition, java.util.concurrent.Executor> appends) {
        this(broker, appends, FrontendMetrics.NONE, UNREACHABLE_COORDINATOR);
    }

    /** No transaction coordinator: a transactional Produce v12+ partition is answered NOT_ENOUGH_REPLICAS. */
    private static final TxnPartitions UNREACHABLE_COORDINATOR = (id, producerId, epoch, partitions) ->
            CompletableFuture.completedFuture(Errors.COORDINATOR_NOT_AVAILABLE);

    /**
     * As above, counting each committed batch's bytes and records in its topic's {@code metrics}, and adding the
     * partitions of transactional Produce v12+ requests to their transactions through {@code transactions}
     * (transaction version 2, see {@link TxnProduceGate}).
     */
    public ProduceHandler(BrokerServices broker,
                          java.util.function.Function<TopicPartition, java.util.concurrent.Executor> appends,
                          FrontendMetrics metrics, TxnPartitions transactions) {
        this.broker = broker;
        this.appends = appends;
        this.metrics = metrics;
        this.txnGate = new TxnProduceGate(transactions);
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.PRODUCE;
    }

    @Override
    public short minVersion() {
        return 3;
    }

    @Override
    public short maxVersion() {
        return 12;
    }

    @Override
    public boolean expectsResponse(ProduceRequestData request) {
        return request.acks() != 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ProduceRequestData request) {
        ProduceResponseData response = new ProduceResponseData();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        List<PendingAppend> appendsToMake = new ArrayList<>();
        Errors requestError = request.acks() == 1 || request.acks() == -1 || request.acks() == 0 ? Errors.NONE
                : Errors.INVALID_REQUIRED_ACKS;
        Authorization auth = broker.authorization();
        if (requestError == Errors.NONE && request.transactionalId() != null
                && auth.denies(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId())) {
            requestError = Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED; // as Kafka, before any topic is looked at
        }
        for (ProduceRequestData.TopicProduceData topic : request.topicData()) {
            TopicProduceResponse topicResponse = new TopicProduceResponse().setName(topic.name());
            // WRITE on the topic, checked before its existence, as Kafka (nothing to look up with authorization off)
            boolean denied = auth.enabled() && !auth.allowed(context, AclOperation.WRITE, ResourceType.TOPIC,
                    topic.name());
            response.responses().add(topicResponse);
            TopicInfo info = broker.topic(topic.name()).orElse(null);
            int partitionCount = info == null ? 0 : info.partitions();
            int maxMessageBytes = info == null ? Integer.MAX_VALUE : intConfig(info, "max.message.bytes",
                    Integer.MAX_VALUE);
            int minInSync = info == null || request.acks() != -1 ? 1 : intConfig(info, "min.insync.replicas", 1);
            boolean compacted = info != null && isCompacted(info);
            FrontendMetrics.TopicMeters meters = info == null ? FrontendMetrics.TopicMeters.NONE
                    : metrics.topic(topic.name());
            for (ProduceRequestData.PartitionProduceData partition : topic.partitionData()) {
                PartitionProduceResponse out = new PartitionProduceResponse().setIndex(partition.index())
                        .setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1);
                topicResponse.partitionResponses().add(out);
                TopicPartition tp = new TopicPartition(topic.name(), partition.index());
                boolean known = partition.index() >= 0 && partition.index() < partitionCount;
                Partition replica = known ? broker.replica(tp) : null;
                if (requestError != Errors.NONE) {
                    out.setErrorCode(requestError.code());
                } else if (denied) {
                    out.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else if (!known) {
                    out.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (replica == null) {
                    out.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
                } else if (!(partition.records() instanceof MemoryRecords records)) {
                    out.setErrorCode(Errors.INVALID_RECORD.code());
                } else if (records.sizeInBytes() > maxMessageBytes) { // the topic's max.message.bytes, as in Kafka
                    out.setErrorCode(Errors.MESSAGE_TOO_LARGE.code()).setErrorMessage("batch of "
                            + records.sizeInBytes() + " bytes exceeds max.message.bytes=" + maxMessageBytes
                            + " of topic " + topic.name());
                } else if (compacted && hasRecordWithoutKey(records)) {
                    // Kafka's LogValidator: the cleaner could never tell which record of a null key is the latest
                    out.setErrorCode(Errors.INVALID_RECORD.code()).setErrorMessage(
                            "Compacted topic cannot accept message without key in topic partition " + tp + ".");
                } else if (minInSync > 1 && broker.partitionState(tp).isr().size() < minInSync) {
                    // acks=all with fewer in-sync replicas than the topic's min.insync.replicas: refused at once, as
                    // in Kafka (retriable), instead of waiting for a Raft commit that cannot come
                    out.setErrorCode(Errors.NOT_ENOUGH_REPLICAS.code()).setErrorMessage("fewer than "
                            + minInSync + " in-sync replicas (min.insync.replicas) for " + tp);
                } else {
                    appendsToMake.add(new PendingAppend(tp, replica, records, out, meters,
                            transactionalProducer(context, request, records)));
                }
            }
        }
        Map<ProducerEpoch, CompletableFuture<Errors>> additions = addToTransactions(request, appendsToMake);
        for (PendingAppend a : appendsToMake) {
            CompletableFuture<Errors> gate = a.producer() == null ? null : additions.get(a.producer());
            pending.add(txnGate.inOrder(a.tp(), gate, () -> {
                        Errors added = gate == null ? Errors.NONE : gate.join();
                        if (added != Errors.NONE) {
                            return CompletableFuture.<AppendResult>failedFuture(TxnProduceGate.failure(added));
                        }
                        return CompletableFuture.supplyAsync(() -> a.replica().append(a.records()),
                                appends.apply(a.tp())).thenCompose(f -> f);
                    })
                    .orTimeout(Math.max(1, request.timeoutMs()), TimeUnit.MILLISECONDS)
                    .handle((result, failure) -> fill(a.out(), result, failure, a.records(), a.meters())));
        }
        CompletableFuture<ApiMessage> answered = CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
                .thenApply(v -> {
                    addLeaderHints(context, response);
                    return response.setThrottleTimeMs(throttle(context));
                });
        return request.acks() != 0 ? answered : answered.thenApply(ProduceHandler::closeIfAnyFailed);
    }

    /** A producer id and epoch of transactional batches. */
    private record ProducerEpoch(long producerId, short epoch) {}

    /** A partition's batches that passed the checks, to be appended; {@code producer} set when transactional. */
    private record PendingAppend(TopicPartition tp, Partition replica, MemoryRecords records,
                                 PartitionProduceResponse out, FrontendMetrics.TopicMeters meters,
                                 ProducerEpoch producer) {}

    /** The producer of a Produce v12+ request's transactional batches (transaction version 2), else null. */
    private ProducerEpoch transactionalProducer(RequestContext context, ProduceRequestData request,
                                                MemoryRecords records) {
        if (context.version() < 12 || request.transactionalId() == null) {
            return null;
        }
        for (MutableRecordBatch batch : records.batches()) {
            return batch.isTransactional() ? new ProducerEpoch(batch.producerId(), batch.producerEpoch()) : null;
        }
        return null;
    }

    /**
     * Transaction version 2: adds each partition whose producer epoch this node has not yet added to the producer's
     * transaction, one coordinator call per producer epoch of the request; the appends of those partitions wait for it.
     */
    private Map<ProducerEpoch, CompletableFuture<Errors>> addToTransactions(ProduceRequestData request,
                                                                            List<PendingAppend> toAppend) {
        Map<ProducerEpoch, Set<TopicPartition>> toAdd = null;
        for (PendingAppend a : toAppend) {
            ProducerEpoch p = a.producer();
            if (p != null && !txnGate.added(a.tp(), p.producerId(), p.epoch())) {
                if (toAdd == null) {
                    toAdd = new HashMap<>();
                }
                toAdd.computeIfAbsent(p, k -> new HashSet<>()).add(a.tp());
            }
        }
        if (toAdd == null) {
            return Map.of(); // the common case: nothing transactional to add
        }
        Map<ProducerEpoch, CompletableFuture<Errors>> additions = new HashMap<>();
        toAdd.forEach((p, tps) -> additions.put(p, txnGate.add(request.transactionalId(), p.producerId(), p.epoch(),
                tps)));
        return additions;
    }

    /**
     * KIP-951 (Produce v10+): a partition refused with NOT_LEADER_OR_FOLLOWER names the leader and epoch this node
     * knows, with that node's endpoint on the client's listener, as Kafka does. The Java client takes a newer epoch
     * at once and retries there without backing off, instead of refreshing metadata first (each refresh that shows
     * nothing new doubles its wait, up to {@code retry.backoff.max.ms}).
     */
    private void addLeaderHints(RequestContext context, ProduceResponseData response) {
        if (context.version() < 10) {
            return;
        }
        Set<Integer> leaders = new TreeSet<>();
        for (TopicProduceResponse topic : response.responses()) {
            for (PartitionProduceResponse p : topic.partitionResponses()) {
                if (p.errorCode() != Errors.NOT_LEADER_OR_FOLLOWER.code()) {
                    continue;
                }
                PartitionState state = broker.partitionState(new TopicPartition(topic.name(), p.index()));
                if (state.leader() >= 0 && state.leaderEpoch() >= 0) {
                    p.setCurrentLeader(new ProduceResponseData.LeaderIdAndEpoch().setLeaderId(state.leader())
                            .setLeaderEpoch(state.leaderEpoch()));
                    leaders.add(state.leader());
                }
            }
        }
        for (BrokerEndpoint node : broker.brokers(context.listener())) {
            if (leaders.contains(node.nodeId())) {
                response.nodeEndpoints().add(new ProduceResponseData.NodeEndpoint().setNodeId(node.nodeId())
                        .setHost(node.host()).setPort(node.port()).setRack(node.rack()));
            }
        }
    }

    /**
     * Charges the request's size to the client's {@code producer_byte_rate} once it is answered, as Kafka does; over
     * the quota, the connection is muted for the throttle time, which the response carries (acks=0: muted only).
     */
    private int throttle(RequestContext context) {
        ClientQuotaManager quotas = broker.quotas();
        return quotas.enabled(QuotaType.PRODUCE)
                ? quotas.recordAndThrottle(QuotaType.PRODUCE, context, context.requestBytes()) : 0;
    }

    /** acks=0: nothing to answer, but a failed partition closes the connection (Kafka's KafkaApis does the same). */
    private static ApiMessage closeIfAnyFailed(ApiMessage answered) {
        StringJoiner failed = new StringJoiner(", ");
        for (TopicProduceResponse topic : ((ProduceResponseData) answered).responses()) {
            for (PartitionProduceResponse p : topic.partitionResponses()) {
                if (p.errorCode() != Errors.NONE.code()) {
                    failed.add(topic.name() + "-" + p.index() + ": " + Errors.forCode(p.errorCode()).name());
                }
            }
        }
        if (failed.length() > 0) {
            throw new CloseConnectionException("acks=0 produce failed for " + failed);
        }
        return answered;
    }

    /** Whether the topic's cleanup.policy includes compact. */
    static boolean isCompacted(TopicInfo topic) {
        String policy = topic.configs().get("cleanup.policy");
        if (policy == null) {
            return false;
        }
        for (String p : policy.split(",")) {
            if (p.trim().equals("compact")) {
                return true;
            }
        }
        return false;
    }

    /** Whether a data batch holds a record with a null key (control batches are the broker's own). */
    static boolean hasRecordWithoutKey(MemoryRecords records) {
        for (MutableRecordBatch batch : records.batches()) {
            if (batch.isControlBatch()) {
                continue;
            }
            try (CloseableIterator<Record> it = batch.skipKeyValueIterator(BufferSupplier.NO_CACHING)) {
                while (it.hasNext()) {
                    if (!it.next().hasKey()) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** A topic-level integer config override, or {@code fallback} when the topic does not set it. */
    private static int intConfig(TopicInfo topic, String key, int fallback) {
        String value = topic.configs().get(key);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) { // validated at CreateTopics; a value from an older node is not fatal
            return fallback;
        }
    }

    private static PartitionProduceResponse fill(PartitionProduceResponse out, AppendResult result, Throwable failure,
                                                 MemoryRecords records, FrontendMetrics.TopicMeters meters) {
        if (failure != null) {
            Errors error = KafkaErrors.of(failure);
            return out.setErrorCode(error.code()).setErrorMessage(KafkaErrors.message(failure));
        }
        meters.produced(records.sizeInBytes(), RecordCounts.of(records));
        return out.setErrorCode(Errors.NONE.code()).setBaseOffset(result.baseOffset())
                .setLogStartOffset(result.logStartOffset());
    }
}
