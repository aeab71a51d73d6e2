package io.fluxmq.kafka.group;

import io.fluxmq.kafka.broker.KafkaErrors;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;

/** Committing and fetching offsets of a group, on top of {@link GroupCoordinator#route}. */
public final class OffsetOperations {
    private final GroupCoordinator coordinator;

    public OffsetOperations(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    public GroupCoordinator coordinator() {
        return coordinator;
    }

    /** One partition's commit as the request carries it. */
    public record Commit(TopicPartition partition, long offset, int leaderEpoch, String metadata) {}

    /**
     * Validates and writes the commits of one request; completes with one error per partition (in request order).
     * Unknown partitions get UNKNOWN_TOPIC_OR_PARTITION and oversized metadata OFFSET_METADATA_TOO_LARGE, while the
     * rest are written; a group-level failure (routing, membership, generation, write) applies to all of them.
     */
    public CompletableFuture<Map<TopicPartition, Errors>> commit(String groupId, String memberId, String instanceId,
                                                                 int generationOrEpoch, List<Commit> commits) {
        Map<TopicPartition, Errors> result = new LinkedHashMap<>();
        GroupCoordinator.Route route = coordinator.route(groupId);
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            commits.forEach(c -> result.put(c.partition(), refused.error()));
            return CompletableFuture.completedFuture(result);
        }
        long now = coordinator.now();
        Map<TopicPartition, CommittedOffset> valid = new LinkedHashMap<>();
        for (Commit c : commits) {
            Optional<TopicLookup.Topic> topic = coordinator.topics().byName(c.partition().topic());
            String metadata = c.metadata() == null ? "" : c.metadata();
            if (topic.isEmpty() || c.partition().partition() < 0
                    || c.partition().partition() >= topic.get().partitions()) {
                result.put(c.partition(), Errors.UNKNOWN_TOPIC_OR_PARTITION);
            } else if (metadata.length() > coordinator.config().offsetMetadataMaxBytes()) {
                result.put(c.partition(), Errors.OFFSET_METADATA_TOO_LARGE);
            } else {
                result.put(c.partition(), Errors.NONE);
                valid.put(c.partition(), new CommittedOffset(c.offset(), c.leaderEpoch(), metadata, now));
            }
        }
        GroupShard shard = ((GroupCoordinator.Route.Served) route).shard();
        return shard.commit(groupId, memberId, instanceId, generationOrEpoch, valid, now)
                .exceptionally(KafkaErrors::ofCoordinatorWrite)
                .thenApply(error -> {
                    valid.keySet().forEach(tp -> result.put(tp, error));
                    return result;
                });
    }

    /** A group's committed offsets, or the group-level error. */
    public record Fetched(Errors error, Map<TopicPartition, CommittedOffset> offsets, Set<TopicPartition> unstable) {
        public Fetched(Errors error, Map<TopicPartition, CommittedOffset> offsets) {
            this(error, offsets, Set.of());
        }
    }

    /**
     * Committed offsets of the requested partitions (null: every partition with an offset); a partition without one
     * is absent from the result. A KIP-848 member fetching with its epoch is checked against the group first.
     */
    public Fetched fetch(String groupId, String memberId, int memberEpoch, List<TopicPartition> partitions) {
        return fetch(groupId, memberId, memberEpoch, partitions, false);
    }

    /**
     * As {@link #fetch(String, String, int, List)}; with {@code requireStable}, requested partitions with an offset
     * pending in an open transaction are listed as unstable (answered UNSTABLE_OFFSET_COMMIT, which clients retry).
     */
    public Fetched fetch(String groupId, String memberId, int memberEpoch, List<TopicPartition> partitions,
                         boolean requireStable) {
        GroupCoordinator.Route route = coordinator.route(groupId);
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            return new Fetched(refused.error(), Map.of());
        }
        GroupShard shard = ((GroupCoordinator.Route.Served) route).shard();
        if (memberId != null && memberEpoch >= 0 && shard.group(groupId) instanceof ConsumerGroup) {
            Errors error = shard.withConsumerGroup(groupId, false, coordinator.now(),
                    group -> group == null ? Errors.NONE : group.validateMemberEpoch(memberId, memberEpoch));
            if (error != Errors.NONE) {
                return new Fetched(error, Map.of());
            }
        }
        Set<TopicPartition> unstable = new HashSet<>();
        if (requireStable && partitions != null) {
            partitions.stream().filter(tp -> shard.hasPendingOffset(groupId, tp)).forEach(unstable::add);
        }
        return new Fetched(Errors.NONE, shard.committed(groupId, partitions), unstable);
    }

    /** Groups the partitions of a map by topic, in topic then partition order. */
    public static <V> Map<String, Map<Integer, V>> byTopic(Map<TopicPartition, V> partitions) {
        Map<String, Map<Integer, V>> out = new TreeMap<>();
        partitions.forEach((tp, v) -> out.computeIfAbsent(tp.topic(), t -> new TreeMap<>()).put(tp.partition(), v));
        return out;
    }
}
