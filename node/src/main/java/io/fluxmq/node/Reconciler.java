package io.fluxmq.node;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.Reassignment;
import io.fluxmq.raft.metadata.TopicRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves this node toward the metadata: opens the Raft group of every partition assigned to it (or that a reassignment
 * in progress adds to it) and removes the partitions whose topic a committed metadata change deleted (or replaced by
 * a new topic of the same name) or that a completed reassignment moved off this node.
 *
 * <p>Nothing happens until the catch-up barrier passed: a {@code Barrier} command is committed in the metadata group
 * and this node's metadata replica has applied it, so the state it reconciles against holds every change committed
 * before this node started. Before that, the local copy may be empty or an old snapshot still being replayed, and
 * reconciling against it would remove partitions that exist (Raft amnesia for a voter). Until then the partitions
 * found on disk run as they are. Passes run on one thread; metadata changes coalesce into one pass. A pass after a
 * change that deleted or replaced no topic and changed no reassignment looks only at new, changed or unsettled topics
 * (settled: every partition assigned here open for that record), and removes nothing.
 */
final class Reconciler {
    private static final Logger LOGGER = LoggerFactory.getLogger(Reconciler.class);
    private static final long BARRIER_RETRY_MS = 500;

    /** What the reconciler needs of this node's partition replicas (RaftNode in production). */
    interface LocalPartitions {
        /** Partitions with a group or a spec on this node. */
        Set<TopicPartition> hosted();

        Uuid topicIdOf(TopicPartition tp);

        boolean isOpen(TopicPartition tp);

        void open(RaftNode.PartitionSpec spec, List<RaftPeer> members) throws IOException;

        /**
         * Opens the replica a reassignment in progress adds to this node; {@code formerVoters} are the partition's
         * replicas before it (the group's voters then). It takes no part in elections until its group's leader adds
         * it (see ReassignmentDriver). Ratis opens it with no members and learns them from the leader.
         */
        default void openJoining(RaftNode.PartitionSpec spec, List<RaftPeer> formerVoters) throws IOException {
            open(spec, List.of());
        }

        /** Applies a changed spec (segment settings after a topic config change) to an open partition. */
        void reconfigure(RaftNode.PartitionSpec spec) throws IOException;

        /** Removes a partition whose deletion metadata committed: group, segments and spec, renamed aside first. */
        void remove(TopicPartition tp, Uuid topicId) throws IOException;
    }

    /** Runs a task later (a barrier retry). */
    interface Delayer {
        void schedule(Runnable task, long delayMs);

        static Delayer of(ScheduledExecutorService executor) {
            return (task, delayMs) -> executor.schedule(task, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    /** Where the reconciler is; see the class comment. */
    enum Phase { CATCHING_UP, READY, CLOSED }

    private final int nodeId;
    private final LocalPartitions local;
    private final java.util.function.Function<List<Integer>, List<RaftPeer>> peers;
    private final java.util.function.Function<java.util.Map<String, String>, io.fluxmq.raft.log.SegmentLogConfig>
            segmentConfig;
    private final Supplier<CompletableFuture<Long>> barrier;
    private final LongFunction<CompletableFuture<Void>> awaitApplied;
    private final Executor executor;
    private final Delayer delayer;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile Phase phase = Phase.CATCHING_UP;
    private volatile ClusterState latest = ClusterState.EMPTY;
    // on the pass thread only
    private Map<String, TopicRecord> lastTopics = Map.of();
    private Map<TopicPartition, Reassignment> lastReassignments; // null until the first pass, which is full
    /** Topics whose every partition assigned here was open in a pass, with the record they were open for. */
    private final Map<String, TopicRecord> settled = new HashMap<>();

    /**
     * @param barrier commits a metadata barrier and completes with its Raft index
     * @param awaitApplied completes once the local metadata replica applied the given index
     */
    Reconciler(int nodeId, LocalPartitions local, java.util.function.Function<List<Integer>, List<RaftPeer>> peers,
               java.util.function.Function<java.util.Map<String, String>, io.fluxmq.raft.log.SegmentLogConfig>
                       segmentConfig,
               Supplier<CompletableFuture<Long>> barrier, LongFunction<CompletableFuture<Void>> awaitApplied,
               Executor executor, Delayer delayer) {
        this.nodeId = nodeId;
        this.local = local;
        this.peers = peers;
        this.segmentConfig = segmentConfig;
        this.barrier = barrier;
        this.awaitApplied = awaitApplied;
        this.executor = executor;
        this.delayer = delayer;
    }

    Phase phase() {
        return phase;
    }

    /** Starts the catch-up barrier; the first pass runs once it passed. */
    void start() {
        executor.execute(this::tryBarrier);
    }

    void close() {
        phase = Phase.CLOSED;
    }

    private void tryBarrier() {
        if (phase != Phase.CATCHING_UP) {
            return;
        }
        CompletableFuture<Void> caughtUp;
        try {
            caughtUp = barrier.get().thenCompose(index -> awaitApplied.apply(index)
                    .thenRun(() -> LOGGER.info("Metadata caught up to index {}; reconciling partitions", index)));
        } catch (RuntimeException e) {
            caughtUp = CompletableFuture.failedFuture(e);
        }
        caughtUp.whenComplete((v, failure) -> {
            if (failure != null) {
                LOGGER.info("Metadata catch-up barrier not passed yet ({}); partitions found on disk keep running, "
                        + "none is created or removed until it passes", failure.toString());
                if (phase == Phase.CATCHING_UP) {
                    delayer.schedule(this::tryBarrier, BARRIER_RETRY_MS);
                }
                return;
            }
            if (phase == Phase.CATCHING_UP) {
                phase = Phase.READY;
                schedulePass();
            }
        });
    }

    /** Metadata listener: schedules a pass (never blocks the apply thread). */
    void onMetadata(ClusterState state) {
        latest = state;
        if (phase == Phase.READY) {
            schedulePass();
        }
    }

    private void schedulePass() {
        if (scheduled.compareAndSet(false, true)) {
            executor.execute(() -> {
                scheduled.set(false);
                if (phase == Phase.READY) {
                    reconcile(latest);
                }
            });
        }
    }

    private void reconcile(ClusterState state) {
        // A pass looks again only at the topics that changed, are new or were not settled yet, unless a topic was
        // deleted or replaced or a reassignment changed: only those remove partitions (thousands of partitions
        // made every CreateTopics cost a walk over all of them, on every node).
        boolean full = state.reassignments() != lastReassignments || changedOrGone(lastTopics, state.topics());
        lastTopics = state.topics();
        lastReassignments = state.reassignments();
        if (full) {
            settled.clear();
        }
        settled.keySet().retainAll(state.topics().keySet());
        Set<TopicPartition> wanted = new HashSet<>();
        for (TopicRecord topic : state.topics().values()) {
            if (settled.get(topic.name()) == topic) {
                continue; // unchanged, every partition assigned here open (a full pass never skips: settled is empty)
            }
            boolean allOpen = true;
            for (int p = 0; p < topic.partitions(); p++) {
                TopicPartition tp = new TopicPartition(topic.name(), p);
                if (!state.replicas(tp).contains(nodeId)) {
                    continue;
                }
                // a replica a reassignment adds is no voter yet: it learns its group's members from the leader,
                // which adds it (see ReassignmentDriver)
                Reassignment reassignment = state.reassignment(tp).orElse(null);
                boolean joining = reassignment != null && !reassignment.original().contains(nodeId);
                wanted.add(tp);
                RaftNode.PartitionSpec spec = new RaftNode.PartitionSpec(tp, topic.topicId(),
                        segmentConfig.apply(topic.configs()));
                if (local.isOpen(tp)) {
                    try {
                        local.reconfigure(spec);
                        allOpen &= topic.topicId().equals(local.topicIdOf(tp)); // not a deleted namesake's replica
                    } catch (Exception e) {
                        allOpen = false;
                        LOGGER.warn("Cannot apply the segment settings of {}: {}; retrying at the next metadata change",
                                tp, e.toString());
                    }
                    continue;
                }
                try {
                    if (joining) {
                        local.openJoining(spec, peers.apply(reassignment.original()));
                    } else {
                        local.open(spec, peers.apply(topic.replicas(p)));
                    }
                    allOpen &= local.isOpen(tp); // not while the multi-Raft engine opens it on another thread
                } catch (Exception e) {
                    allOpen = false;
                    LOGGER.warn("Cannot open partition {}: {}; retrying at the next metadata change", tp, e.toString());
                }
            }
            if (allOpen && state.reassignments().keySet().stream().noneMatch(tp -> tp.topic().equals(topic.name()))) {
                settled.put(topic.name(), topic);
            } else {
                settled.remove(topic.name());
            }
        }
        if (!full) {
            return; // nothing was deleted, replaced or moved: nothing to remove
        }
        boolean removed = false;
        for (TopicPartition tp : local.hosted()) {
            Uuid id = local.topicIdOf(tp);
            boolean sameTopic = state.topic(tp.topic()).map(t -> t.topicId().equals(id)).orElse(false);
            if (!wanted.contains(tp) || !sameTopic) {
                try {
                    local.remove(tp, id);
                    removed = true;
                    LOGGER.info("Removed partition {} of topic id {}: its topic was deleted or replaced in metadata,"
                            + " or it was reassigned to other nodes", tp, id);
                } catch (Exception e) {
                    LOGGER.warn("Cannot remove partition {}: {}", tp, e.toString());
                }
            }
        }
        if (removed) {
            schedulePass(); // a topic recreated under the same name opens once the old partition is gone
        }
    }

    /** Whether a topic of {@code before} is gone from {@code now} or is another record there (configs, partitions). */
    private static boolean changedOrGone(Map<String, TopicRecord> before, Map<String, TopicRecord> now) {
        if (before == now) {
            return false;
        }
        for (Map.Entry<String, TopicRecord> e : before.entrySet()) {
            if (now.get(e.getKey()) != e.getValue()) {
                return true;
            }
        }
        return false;
    }

    /** The Raft peers of the given nodes, at the addresses {@link Members} knows. */
    static List<RaftPeer> peers(Members members, List<Integer> nodeIds) {
        List<RaftPeer> peers = new ArrayList<>();
        for (int id : nodeIds) {
            ClusterMember m = members.member(id);
            if (m == null) {
                throw new IllegalStateException("no address known for node " + id);
            }
            peers.add(RaftPeer.newBuilder().setId(RaftNode.peerId(id)).setAddress(m.host() + ":" + m.raftPort())
                    .build());
        }
        return peers;
    }
}
