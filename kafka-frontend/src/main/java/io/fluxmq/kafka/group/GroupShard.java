package io.fluxmq.kafka.group;

import io.fluxmq.kafka.group.GroupRecords.Entry;
import io.fluxmq.kafka.group.GroupRecords.GroupEntry;
import io.fluxmq.kafka.group.GroupRecords.OffsetEntry;
import io.fluxmq.kafka.group.GroupRecords.PendingOffsetEntry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The groups and committed offsets of one {@code __consumer_offsets} partition while this node leads it. Starts
 * {@link Phase#LOADING} (replaying the partition), then {@link Phase#ACTIVE}; {@link Phase#UNLOADED} once leadership
 * is gone. Offsets enter the cache only after their records are committed. Every method locks the shard; futures of
 * waiting requests are completed under the lock.
 */
final class GroupShard {
    private static final Logger LOGGER = LoggerFactory.getLogger(GroupShard.class);
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    enum Phase { LOADING, ACTIVE, UNLOADED }

    private final int partition;
    private final int leaderEpoch;
    private final GroupConfig config;
    private final TopicLookup topics;
    private final OffsetsLog log;
    private volatile Phase phase = Phase.LOADING;
    private final Map<String, Group> groups = new HashMap<>();
    private final Map<String, Map<TopicPartition, CommittedOffset>> offsets = new HashMap<>();
    /** Offsets committed in open transactions: producer id to group to partition (TxnOffsetCommit). */
    private final Map<Long, Map<String, Map<TopicPartition, CommittedOffset>>> pendingTxnOffsets = new HashMap<>();
    private long lastExpiryMs;

    GroupShard(int partition, int leaderEpoch, GroupConfig config, TopicLookup topics, OffsetsLog log) {
        this.partition = partition;
        this.leaderEpoch = leaderEpoch;
        this.config = config;
        this.topics = topics;
        this.log = log;
    }

    int partition() {
        return partition;
    }

    int leaderEpoch() {
        return leaderEpoch;
    }

    Phase phase() {
        return phase;
    }

    // ---------------------------------------------------------------- loading

    /** Applies one record read back from the partition (loading replays them in log order). */
    synchronized void replay(Entry entry) {
        if (entry instanceof OffsetEntry o) {
            if (o.value() != null) {
                offsets.computeIfAbsent(o.group(), g -> new HashMap<>()).put(o.partition(), o.value());
                return;
            }
            Map<TopicPartition, CommittedOffset> m = offsets.get(o.group());
            if (m != null) {
                m.remove(o.partition());
                if (m.isEmpty()) {
                    offsets.remove(o.group());
                }
            }
        } else if (entry instanceof PendingOffsetEntry p) {
            pendingTxnOffsets.computeIfAbsent(p.producerId(), id -> new HashMap<>())
                    .computeIfAbsent(p.group(), g -> new HashMap<>()).put(p.partition(), p.value());
        } else if (entry instanceof GroupEntry g) {
            if (g.value() == null) {
                groups.remove(g.group());
            } else if (g.value().type() == GroupType.CONSUMER) {
                groups.put(g.group(), ConsumerGroup.restored(g.group(), config, topics, g.value()));
            } else {
                groups.put(g.group(), ClassicGroup.restored(g.group(), config, g.value()));
            }
        }
    }

    /**
     * Activates the shard if the load reached the partition's high watermark, checked under the shard's lock: a
     * transaction marker committed before this check is in what the load read, and one committed after it finds the
     * shard active ({@link #completeTransaction}). Returns false when the load must read on.
     */
    synchronized boolean activateIfCaughtUp(long loadedUpTo, java.util.function.LongSupplier highWatermark) {
        if (highWatermark.getAsLong() > loadedUpTo) {
            return false;
        }
        activate();
        return true;
    }

    synchronized void activate() {
        for (String group : offsets.keySet()) {
            groups.computeIfAbsent(group, g -> new ClassicGroup(g, config, 0));
        }
        if (phase == Phase.LOADING) {
            phase = Phase.ACTIVE;
        }
        LOGGER.info("Loaded group coordinator partition {} (epoch {}): {} groups", partition, leaderEpoch,
                groups.size());
    }

    synchronized void unload() {
        phase = Phase.UNLOADED;
        groups.values().forEach(g -> g.unload(Errors.NOT_COORDINATOR));
        groups.clear();
        offsets.clear();
        pendingTxnOffsets.clear();
    }

    // ---------------------------------------------------------------- transactional offsets

    /**
     * A COMMIT or ABORT marker of {@code producerId} is in the partition (replayed while loading, or just written by
     * the transaction coordinator): its pending offsets take effect, or are dropped.
     */
    synchronized void completeTransaction(long producerId, boolean commit) {
        if (phase == Phase.ACTIVE) { // a loading shard finds the marker in the log (activateIfCaughtUp)
            replayMarker(producerId, commit);
        }
    }

    /** A marker read back while loading: see {@link #completeTransaction}. */
    synchronized void replayMarker(long producerId, boolean commit) {
        Map<String, Map<TopicPartition, CommittedOffset>> pending = pendingTxnOffsets.remove(producerId);
        if (pending != null && commit) {
            pending.forEach((group, commits) -> {
                offsets.computeIfAbsent(group, g -> new HashMap<>()).putAll(commits);
                if (phase == Phase.ACTIVE) {
                    groups.computeIfAbsent(group, g -> new ClassicGroup(g, config, 0));
                }
            });
        }
    }

    /** Whether an open transaction holds an offset of the group's partition (OffsetFetch's require_stable). */
    synchronized boolean hasPendingOffset(String groupId, TopicPartition tp) {
        for (Map<String, Map<TopicPartition, CommittedOffset>> byGroup : pendingTxnOffsets.values()) {
            Map<TopicPartition, CommittedOffset> m = byGroup.get(groupId);
            if (m != null && m.containsKey(tp)) {
                return true;
            }
        }
        return false;
    }

    /**
     * TxnOffsetCommit: validates like a commit (generation -1 without a member id is accepted, as Kafka's
     * transactional producers of older clients send it), writes the offsets as pending records of the producer and
     * keeps them aside until the producer's transaction ends ({@link #completeTransaction}).
     */
    CompletableFuture<Errors> txnCommit(String groupId, long producerId, String memberId, String instanceId,
                                        int generation, Map<TopicPartition, CommittedOffset> commits, long nowMs) {
        synchronized (this) {
            Group group = groups.get(groupId);
            Errors error = Errors.NONE;
            if (group instanceof ClassicGroup cg && generation >= 0) {
                error = cg.validateCommit(memberId, instanceId, generation, nowMs);
            } else if (group instanceof ConsumerGroup consumer && generation >= 0) {
                error = consumer.validateMemberEpoch(memberId, generation);
            }
            if (error != Errors.NONE || commits.isEmpty()) {
                return CompletableFuture.completedFuture(error);
            }
        }
        List<Entry> entries = new ArrayList<>();
        commits.forEach((tp, offset) -> entries.add(new PendingOffsetEntry(groupId, producerId, tp, offset)));
        return write(entries, nowMs).thenApply(v -> {
            synchronized (this) {
                if (phase == Phase.ACTIVE) {
                    pendingTxnOffsets.computeIfAbsent(producerId, id -> new HashMap<>())
                            .computeIfAbsent(groupId, g -> new HashMap<>()).putAll(commits);
                }
            }
            return Errors.NONE;
        });
    }

    // ---------------------------------------------------------------- groups

    /** The classic group, created if absent; null when a non-empty consumer group holds the id. */
    synchronized <T> T withClassicGroup(String groupId, boolean create, long nowMs, Function<ClassicGroup, T> action) {
        Group group = groups.get(groupId);
        if (group instanceof ConsumerGroup cg && cg.isEmpty() && create) {
            group = null;
        }
        boolean created = false;
        if (group == null) {
            if (!create) {
                return action.apply(null);
            }
            group = new ClassicGroup(groupId, config, nowMs);
            groups.put(groupId, group);
            created = true;
        }
        T result = group instanceof ClassicGroup cg ? action.apply(cg) : action.apply(null);
        finish(group, created, nowMs);
        return result;
    }

    /** The consumer group, created if absent; null when a non-empty classic group holds the id. */
    <T> T withConsumerGroup(String groupId, boolean create, long nowMs, Function<ConsumerGroup, T> action) {
        return onConsumerGroup(groupId, create, nowMs, action).result();
    }

    /**
     * As {@link #withConsumerGroup}, but the answer waits until the group record it changed is committed (as Kafka's
     * coordinator answers a heartbeat once its records are written), so a member never holds an epoch or assignment
     * that a new coordinator would not know. When the write fails, the answer is {@code onWriteFailure}'s, given the
     * answer computed and the failure.
     */
    <T> CompletableFuture<T> withConsumerGroupWritten(String groupId, boolean create, long nowMs,
                                                      Function<ConsumerGroup, T> action,
                                                      BiFunction<T, Throwable, T> onWriteFailure) {
        Outcome<T> outcome = onConsumerGroup(groupId, create, nowMs, action);
        return outcome.written().handle((v, failure) -> failure == null ? outcome.result()
                : onWriteFailure.apply(outcome.result(), failure));
    }

    /** An action's result and the write of the group record it changed (done when nothing changed). */
    private record Outcome<T>(T result, CompletableFuture<Void> written) {}

    private synchronized <T> Outcome<T> onConsumerGroup(String groupId, boolean create, long nowMs,
                                                        Function<ConsumerGroup, T> action) {
        Group group = groups.get(groupId);
        if (group instanceof ClassicGroup cg && cg.isEmpty() && create) {
            group = null;
        }
        boolean created = false;
        if (group == null) {
            if (!create) {
                return new Outcome<>(action.apply(null), DONE);
            }
            group = new ConsumerGroup(groupId, config, topics, nowMs);
            groups.put(groupId, group);
            created = true;
        }
        T result = group instanceof ConsumerGroup cg ? action.apply(cg) : action.apply(null);
        return new Outcome<>(result, finish(group, created, nowMs));
    }

    /** Persists a changed group; forgets one created by a request that was refused before it changed anything. */
    private CompletableFuture<Void> finish(Group group, boolean created, long nowMs) {
        if (created && group.isEmpty() && !offsets.containsKey(group.groupId())) {
            groups.remove(group.groupId());
            return DONE;
        }
        return persistIfDirty(group, nowMs);
    }

    synchronized Group group(String groupId) {
        return groups.get(groupId);
    }

    synchronized List<GroupListing> listings() {
        return groups.values().stream().map(GroupListing::of).toList();
    }

    /** Writes the group's record if it changed; the write's future (done when nothing was written). */
    private CompletableFuture<Void> persistIfDirty(Group group, long nowMs) {
        if (!group.takeDirty() || groups.get(group.groupId()) != group) {
            return DONE;
        }
        CompletableFuture<Void> written = write(List.of(new GroupEntry(group.groupId(), group.snapshot())), nowMs);
        written.whenComplete((v, e) -> {
            if (e != null) {
                LOGGER.warn("Could not persist group {}: {}", group.groupId(), e.toString());
                synchronized (this) {
                    group.persistFailed();
                }
            }
        });
        return written;
    }

    // ---------------------------------------------------------------- offsets

    /**
     * Validates a commit against the group (creating an empty classic group for a commit from outside any group),
     * then writes it. Completes with the group-level error (NONE when written).
     */
    CompletableFuture<Errors> commit(String groupId, String memberId, String instanceId, int generationOrEpoch,
                                     Map<TopicPartition, CommittedOffset> commits, long nowMs) {
        Errors error;
        synchronized (this) {
            Group group = groups.get(groupId);
            if (group == null) {
                if (generationOrEpoch >= 0 || (memberId != null && !memberId.isEmpty())) {
                    return CompletableFuture.completedFuture(Errors.ILLEGAL_GENERATION);
                }
                group = new ClassicGroup(groupId, config, nowMs);
                groups.put(groupId, group);
            }
            if (group instanceof ClassicGroup cg) {
                error = cg.validateCommit(memberId, instanceId, generationOrEpoch, nowMs);
            } else if (generationOrEpoch < 0 && (memberId == null || memberId.isEmpty())) {
                error = group.isEmpty() ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
            } else {
                error = ((ConsumerGroup) group).validateMemberEpoch(memberId, generationOrEpoch);
            }
        }
        if (error != Errors.NONE || commits.isEmpty()) {
            return CompletableFuture.completedFuture(error);
        }
        List<Entry> entries = new ArrayList<>();
        commits.forEach((tp, offset) -> entries.add(new OffsetEntry(groupId, tp, offset)));
        return write(entries, nowMs).thenApply(v -> {
            synchronized (this) {
                if (phase == Phase.ACTIVE) {
                    offsets.computeIfAbsent(groupId, g -> new HashMap<>()).putAll(commits);
                }
            }
            return Errors.NONE;
        });
    }

    /** Committed offsets of the group: the given partitions, or all when {@code partitions} is null. */
    synchronized Map<TopicPartition, CommittedOffset> committed(String groupId, Collection<TopicPartition> partitions) {
        Map<TopicPartition, CommittedOffset> all = offsets.getOrDefault(groupId, Map.of());
        if (partitions == null) {
            return new LinkedHashMap<>(all);
        }
        Map<TopicPartition, CommittedOffset> out = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            CommittedOffset o = all.get(tp);
            if (o != null) {
                out.put(tp, o);
            }
        }
        return out;
    }

    synchronized boolean hasOffsets(String groupId) {
        return offsets.containsKey(groupId);
    }

    /** Deletes an empty group with its offsets; completes with NONE, GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP. */
    CompletableFuture<Errors> deleteGroup(String groupId, long nowMs) {
        List<Entry> tombstones = new ArrayList<>();
        synchronized (this) {
            Group group = groups.get(groupId);
            if (group == null) {
                return CompletableFuture.completedFuture(Errors.GROUP_ID_NOT_FOUND);
            }
            if (!group.isEmpty()) {
                return CompletableFuture.completedFuture(Errors.NON_EMPTY_GROUP);
            }
            offsets.getOrDefault(groupId, Map.of()).keySet()
                    .forEach(tp -> tombstones.add(new OffsetEntry(groupId, tp, null)));
            tombstones.add(new GroupEntry(groupId, null));
        }
        return write(tombstones, nowMs).thenApply(v -> {
            synchronized (this) {
                Group group = groups.get(groupId);
                if (group != null && group.isEmpty()) {
                    groups.remove(groupId);
                    offsets.remove(groupId);
                }
            }
            return Errors.NONE;
        });
    }

    /**
     * Deletes committed offsets of partitions whose topics the group does not subscribe to. Completes with the
     * per-partition errors (NONE or GROUP_SUBSCRIBED_TO_TOPIC), or fails with the write's failure.
     */
    CompletableFuture<Map<TopicPartition, Errors>> deleteOffsets(String groupId, List<TopicPartition> partitions,
                                                                 long nowMs) {
        Map<TopicPartition, Errors> result = new LinkedHashMap<>();
        List<Entry> tombstones = new ArrayList<>();
        synchronized (this) {
            Group group = groups.get(groupId);
            Set<String> subscribed = group == null || group.isEmpty() ? null : subscribedTopics(group);
            if (subscribed == null) {
                subscribed = Set.of();
            }
            for (TopicPartition tp : partitions) {
                if (subscribed.contains(tp.topic())) {
                    result.put(tp, Errors.GROUP_SUBSCRIBED_TO_TOPIC);
                } else {
                    result.put(tp, Errors.NONE);
                    if (offsets.getOrDefault(groupId, Map.of()).containsKey(tp)) {
                        tombstones.add(new OffsetEntry(groupId, tp, null));
                    }
                }
            }
        }
        if (tombstones.isEmpty()) {
            return CompletableFuture.completedFuture(result);
        }
        return write(tombstones, nowMs).thenApply(v -> {
            synchronized (this) {
                Map<TopicPartition, CommittedOffset> m = offsets.get(groupId);
                if (m != null) {
                    tombstones.forEach(t -> m.remove(((OffsetEntry) t).partition()));
                }
            }
            return result;
        });
    }

    private static Set<String> subscribedTopics(Group group) {
        return group instanceof ClassicGroup cg ? cg.subscribedTopics() : ((ConsumerGroup) group).subscribedTopics();
    }

    // ---------------------------------------------------------------- time

    /** Fires group timeouts, persists changed groups and, every check interval, expires offsets and empty groups. */
    void tick(long nowMs) {
        List<Entry> expired = new ArrayList<>();
        synchronized (this) {
            if (phase != Phase.ACTIVE) {
                return;
            }
            for (Group group : List.copyOf(groups.values())) {
                group.tick(nowMs);
                persistIfDirty(group, nowMs);
            }
            if (nowMs - lastExpiryMs < config.offsetsRetentionCheckInterval().toMillis()) {
                return;
            }
            lastExpiryMs = nowMs;
            long retention = config.offsetsRetention().toMillis();
            for (Group group : List.copyOf(groups.values())) {
                Map<TopicPartition, CommittedOffset> committed = offsets.getOrDefault(group.groupId(), Map.of());
                Set<String> subscribed = group.isEmpty() ? null : subscribedTopics(group);
                int expiring = 0;
                for (Map.Entry<TopicPartition, CommittedOffset> e : committed.entrySet()) {
                    boolean eligible = group.isEmpty()
                            ? nowMs - Math.max(group.stateTimestampMs(), e.getValue().commitTimestampMs()) >= retention
                            : subscribed != null && !subscribed.contains(e.getKey().topic())
                                    && nowMs - e.getValue().commitTimestampMs() >= retention;
                    if (eligible) {
                        expired.add(new OffsetEntry(group.groupId(), e.getKey(), null));
                        expiring++;
                    }
                }
                if (group.isEmpty() && expiring == committed.size()
                        && nowMs - group.stateTimestampMs() >= retention) {
                    expired.add(new GroupEntry(group.groupId(), null));
                }
            }
        }
        if (expired.isEmpty()) {
            return;
        }
        write(expired, nowMs).whenComplete((v, e) -> {
            if (e != null) {
                LOGGER.warn("Expiring offsets in partition {} failed: {}", partition, e.toString());
                return;
            }
            synchronized (this) {
                for (Entry entry : expired) {
                    if (entry instanceof GroupEntry g) {
                        Group group = groups.get(g.group());
                        if (group != null && group.isEmpty()) {
                            groups.remove(g.group());
                        }
                    } else if (entry instanceof OffsetEntry o) {
                        Map<TopicPartition, CommittedOffset> m = offsets.get(o.group());
                        if (m != null) {
                            m.remove(o.partition());
                            if (m.isEmpty()) {
                                offsets.remove(o.group());
                            }
                        }
                    }
                }
            }
            LOGGER.info("Expired {} offsets/groups in offsets partition {}", expired.size(), partition);
        });
    }

    private CompletableFuture<Void> write(List<Entry> entries, long nowMs) {
        if (phase != Phase.ACTIVE) {
            return CompletableFuture.failedFuture(new NotCoordinatorException("offsets partition " + partition
                    + " is no longer led by this node"));
        }
        return log.append(entries);
    }
}
