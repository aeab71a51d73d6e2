package io.fluxmq.node;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.Reassignment;
import io.fluxmq.raft.partition.PartitionMembership;
import io.fluxmq.raft.partition.PartitionReplica;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the partition reassignments recorded in cluster metadata, on the node that leads each partition's Raft
 * group. Every step is derived afresh from the group's current configuration and the metadata target, so a
 * reassignment resumes wherever it stopped (a leader change, a restart of any node) and a new target or a cancel
 * (target = original replicas) simply redirects it. One step at a time per partition:
 * <ol>
 *   <li>while the configuration is joint (a change is committing), wait;</li>
 *   <li>a target replica not yet a voter is added, one per change ({@link PartitionMembership#setVoters}: Ratis
 *       brings it up to date before it votes; its node opened the group with no members when the reassignment was
 *       committed, see {@link Reconciler});</li>
 *   <li>if this leader is not a target replica, leadership moves to a caught-up target replica (which carries on);</li>
 *   <li>the voters become exactly the target, then {@code CompleteReassignment} is committed: the assignment is the
 *       target and the nodes that left remove their replicas (Reconciler).</li>
 * </ol>
 * A failed step is logged and retried at the next tick ({@value #TICK_MS} ms) or metadata change. Thread-safe.
 */
final class ReassignmentDriver {
    private static final Logger LOGGER = LoggerFactory.getLogger(ReassignmentDriver.class);
    /** How often the driver looks for work besides metadata changes, in ms. */
    static final long TICK_MS = 500;
    /** Longest a single membership step may take before the driver tries again, in ms. */
    static final long STEP_TIMEOUT_MS = 120_000;

    private final int nodeId;
    private final RaftNode raft;
    private final Supplier<ClusterState> state;
    private final Function<List<Integer>, List<RaftPeer>> peers;
    private final Function<MetadataCommand, CompletableFuture<MetadataReply>> submit;
    private final long electionMs;
    private final ScheduledExecutorService executor;
    private final Set<TopicPartition> busy = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    ReassignmentDriver(int nodeId, RaftNode raft, Supplier<ClusterState> state,
                       Function<List<Integer>, List<RaftPeer>> peers,
                       Function<MetadataCommand, CompletableFuture<MetadataReply>> submit, long electionMs,
                       ScheduledExecutorService executor) {
        this.nodeId = nodeId;
        this.raft = raft;
        this.state = state;
        this.peers = peers;
        this.submit = submit;
        this.electionMs = electionMs;
        this.executor = executor;
    }

    void start() {
        executor.scheduleWithFixedDelay(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    }

    /** Metadata listener: a pass soon (never blocks the apply thread). */
    void onMetadata(ClusterState s) {
        if (!s.reassignments().isEmpty() && scheduled.compareAndSet(false, true)) {
            executor.execute(() -> {
                scheduled.set(false);
                tick();
            });
        }
    }

    private void tick() {
        for (Map.Entry<TopicPartition, Reassignment> e : state.get().reassignments().entrySet()) {
            TopicPartition tp = e.getKey();
            PartitionReplica replica = raft.replica(tp);
            if (replica == null || !replica.isLeader() || !busy.add(tp)) {
                continue;
            }
            CompletableFuture<?> step;
            try {
                step = step(tp, e.getValue(), replica).toCompletableFuture();
            } catch (Exception ex) {
                step = CompletableFuture.failedFuture(ex);
            }
            step.orTimeout(STEP_TIMEOUT_MS, TimeUnit.MILLISECONDS).whenComplete((v, failure) -> {
                busy.remove(tp);
                if (failure != null) {
                    LOGGER.info("Reassignment of {}: step failed ({}); retrying", tp, failure.toString());
                }
            });
        }
    }

    private CompletableFuture<?> step(TopicPartition tp, Reassignment r, PartitionReplica replica) throws Exception {
        PartitionMembership membership = raft.membership(tp);
        PartitionMembership.Members members = membership.members();
        if (!members.stable()) {
            return CompletableFuture.completedFuture(null);
        }
        List<Integer> current = members.current();
        List<Integer> missing = r.target().stream().filter(id -> !current.contains(id)).toList();
        if (!missing.isEmpty()) {
            List<Integer> next = new ArrayList<>(current);
            next.add(missing.get(0));
            LOGGER.info("Reassignment of {} to {}: adding replica {} (voters {} -> {})", tp, r.target(),
                    missing.get(0), current, next);
            return membership.setVoters(peers.apply(next));
        }
        if (!r.target().contains(nodeId)) {
            for (int candidate : r.target()) {
                if (replica.isCaughtUpFollower(candidate, electionMs)) {
                    LOGGER.info("Reassignment of {} to {}: moving leadership from {} to {}", tp, r.target(), nodeId,
                            candidate);
                    return replica.transferLeadership(candidate, 2 * electionMs);
                }
            }
            return CompletableFuture.completedFuture(null); // no target replica caught up yet
        }
        CompletableFuture<Void> voters = CompletableFuture.completedFuture(null);
        if (!new HashSet<>(current).equals(new HashSet<>(r.target()))) {
            LOGGER.info("Reassignment of {}: voters {} -> {}", tp, current, r.target());
            voters = membership.setVoters(peers.apply(r.target()));
        }
        return voters.thenCompose(v -> submit.apply(new MetadataCommand.CompleteReassignment(tp.topic(),
                tp.partition(), r.target())));
    }
}
