package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.group.CommittedOffset;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.group.OffsetOperations;
import io.fluxmq.kafka.group.TopicLookup;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnPartitions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * TxnOffsetCommit v0–4 (transaction version 1), at the group coordinator: the offsets are written to the group's
 * {@code __consumer_offsets} partition as pending records of the producer and take effect only when the transaction's
 * COMMIT marker reaches that partition (dropped on ABORT); see {@code GroupShard#txnCommit}. Generation or member
 * epoch are checked when the request carries them (v3+). Unknown partitions get UNKNOWN_TOPIC_OR_PARTITION, oversized
 * metadata OFFSET_METADATA_TOO_LARGE. v5 is transaction version 2 (KIP-890), where the producer sends no
 * AddOffsetsToTxn: the coordinator first adds the group's {@code __consumer_offsets} partition to the transaction
 * ({@link TxnPartitions}; CONCURRENT_TRANSACTIONS retried as on the produce path) and writes the offsets only once it
 * is added; the coordinator's errors are answered as Kafka's group coordinator answers them (an unreachable
 * transaction coordinator COORDINATOR_NOT_AVAILABLE, a fenced producer INVALID_PRODUCER_EPOCH). Checks as Kafka's
 * {@code KafkaApis}: WRITE on the transactional id (else every partition is TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
 * READ on the group (else GROUP_AUTHORIZATION_FAILED), then READ on each topic (else its partitions are
 * TOPIC_AUTHORIZATION_FAILED and not committed, while the others go on).
 */
public final class TxnOffsetCommitHandler implements ApiHandler<TxnOffsetCommitRequestData> {
    private final GroupCoordinator coordinator;
    private final TxnProduceGate transactions;

    /** Transaction version 1 only: a v5 request's partitions are answered COORDINATOR_NOT_AVAILABLE. */
    public TxnOffsetCommitHandler(GroupCoordinator coordinator) {
        this(coordinator, (id, producerId, epoch, partitions) ->
                CompletableFuture.completedFuture(Errors.COORDINATOR_NOT_AVAILABLE));
    }

    public TxnOffsetCommitHandler(GroupCoordinator coordinator, TxnPartitions transactions) {
        this.coordinator = coordinator;
        this.transactions = new TxnProduceGate(transactions);
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.TXN_OFFSET_COMMIT;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, TxnOffsetCommitRequestData request) {
        Map<TopicPartition, Errors> result = new LinkedHashMap<>();
        Authorization auth = coordinator.authorization();
        if (auth.denies(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId())) {
            return CompletableFuture.completedFuture(respond(everyPartition(request,
                    Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)));
        }
        if (auth.denies(context, AclOperation.READ, ResourceType.GROUP, request.groupId())) {
            return CompletableFuture.completedFuture(respond(everyPartition(request,
                    Errors.GROUP_AUTHORIZATION_FAILED)));
        }
        Map<TopicPartition, CommittedOffset> valid = new LinkedHashMap<>();
        long now = coordinator.now();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic topic : request.topics()) {
            boolean readable = !auth.denies(context, AclOperation.READ, ResourceType.TOPIC, topic.name());
            Optional<TopicLookup.Topic> info = coordinator.topics().byName(topic.name());
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : topic.partitions()) {
                TopicPartition tp = new TopicPartition(topic.name(), p.partitionIndex());
                String metadata = p.committedMetadata() == null ? "" : p.committedMetadata();
                if (!readable) {
                    result.put(tp, Errors.TOPIC_AUTHORIZATION_FAILED);
                } else if (info.isEmpty() || p.partitionIndex() < 0
                        || p.partitionIndex() >= info.get().partitions()) {
                    result.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
                } else if (metadata.length() > coordinator.config().offsetMetadataMaxBytes()) {
                    result.put(tp, Errors.OFFSET_METADATA_TOO_LARGE);
                } else {
                    result.put(tp, Errors.NONE);
                    valid.put(tp, new CommittedOffset(p.committedOffset(), p.committedLeaderEpoch(), metadata, now));
                }
            }
        }
        if (valid.isEmpty()) {
            return CompletableFuture.completedFuture(respond(result));
        }
        String memberId = request.memberId() == null || request.memberId().isEmpty() ? null : request.memberId();
        if (context.version() >= 5) {
            Optional<TopicLookup.Topic> offsets = coordinator.topics().byName(GroupCoordinator.OFFSETS_TOPIC);
            if (offsets.isEmpty()) {
                valid.keySet().forEach(tp -> result.put(tp, Errors.COORDINATOR_NOT_AVAILABLE));
                return CompletableFuture.completedFuture(respond(result));
            }
            TopicPartition offsetsPartition = new TopicPartition(GroupCoordinator.OFFSETS_TOPIC,
                    GroupCoordinator.partitionFor(request.groupId(), offsets.get().partitions()));
            return transactions.add(request.transactionalId(), request.producerId(), request.producerEpoch(),
                    Set.of(offsetsPartition)).thenCompose(added -> {
                        if (added != Errors.NONE) {
                            Errors error = switch (added) {
                                case NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS,
                                     NETWORK_EXCEPTION -> Errors.COORDINATOR_NOT_AVAILABLE;
                                case PRODUCER_FENCED -> Errors.INVALID_PRODUCER_EPOCH;
                                default -> added;
                            };
                            valid.keySet().forEach(tp -> result.put(tp, error));
                            return CompletableFuture.completedFuture(respond(result));
                        }
                        return commit(request, memberId, valid, result);
                    });
        }
        return commit(request, memberId, valid, result);
    }

    private CompletableFuture<ApiMessage> commit(TxnOffsetCommitRequestData request, String memberId,
                                                 Map<TopicPartition, CommittedOffset> valid,
                                                 Map<TopicPartition, Errors> result) {
        return coordinator.txnCommit(request.groupId(), request.producerId(), memberId, request.groupInstanceId(),
                request.generationId(), valid).thenApply(error -> {
                    valid.keySet().forEach(tp -> result.put(tp, error));
                    return respond(result);
                });
    }

    private static Map<TopicPartition, Errors> everyPartition(TxnOffsetCommitRequestData request, Errors error) {
        Map<TopicPartition, Errors> result = new LinkedHashMap<>();
        request.topics().forEach(topic -> topic.partitions().forEach(
                p -> result.put(new TopicPartition(topic.name(), p.partitionIndex()), error)));
        return result;
    }

    private static ApiMessage respond(Map<TopicPartition, Errors> result) {
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        OffsetOperations.byTopic(result).forEach((topic, partitions) -> {
            TxnOffsetCommitResponseTopic t = new TxnOffsetCommitResponseTopic().setName(topic);
            partitions.forEach((p, e) -> t.partitions().add(new TxnOffsetCommitResponsePartition()
                    .setPartitionIndex(p).setErrorCode(e.code())));
            response.topics().add(t);
        });
        return response;
    }
}
