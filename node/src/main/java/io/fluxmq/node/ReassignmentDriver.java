package io.fluxmq.node;

import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.Reassignment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the partition reassignments recorded in cluster metadata, on the node that leads each partition's Raft
 * group. Every step is derived afresh from the group's current configuration and the metadata target, so a
 * reassignment resumes wherever it stopped (a leader change, a restart of any node) and a new target or a cancel
 * (target = original replicas) simply redirects it. One step at a time per partition:
 * <ol>
 *   <li>while the configuration is joint (a change is committing), wait;</li>
 *   <li>on an engine that changes one voter at a time, a leaving voter whose node is down is removed first, and a
 *       voter is added only while the group keeps a live majority with it ({@link GroupMembership#nodesDown});</li>
 *   <li>a target replica not yet a voter is added, one per change (on Ratis, which brings it up to date before it
 *       votes, its node opened the group with no members when the reassignment was committed; on the multi-Raft
 *       engine it opened the group with the old voters, as a member that follows but never campaigns until the log
 *       makes it a voter; see {@link Reconciler});</li>
 *   <li>if this leader is not a target replica, leadership moves to a caught-up target replica (which carries on);</li>
 *   <li>the voters become exactly the target (Ratis: in one joint change; multi-Raft: one removal per step), then
 *       {@code CompleteReassignment} is committed: the assignment is the target and the nodes that left remove their
 *       replicas (Reconciler), so a replica's directory goes only once it is no longer a voter.</li>
 * </ol>
 * A step that changed something is followed at once by the next.
 * A failed step is logged and retried at the next tick ({@value #TICK_MS} ms) or metadata change. Thread-safe.
 */
final class ReassignmentDriver {
    private static final Logger LOGGER = LoggerFactory.getLogger(ReassignmentDriver.class);
    /** How often the driver looks for work besides metadata changes, in ms. */
    static final long TICK_MS = 500;
    /** Longest a single membership step may take before the driver tries again, in ms. */
    static final long STEP_TIMEOUT_MS = 120_000;

    private final int nodeId;
    private final GroupMembership groups;
    private final Supplier<ClusterState> state;
    private final Function<MetadataCommand, CompletableFuture<MetadataReply>> submit;
    private final ScheduledExecutorService executor;
    private final Set<TopicPartition> busy = ConcurrentHashMap.newKeySet();
    /** The followers this node throttles in the groups it leads, by partition ({@link #throttle}). */
    private final Map<TopicPartition, Set<Integer>> throttled = new ConcurrentHashMap<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    ReassignmentDriver(int nodeId, GroupMembership groups, Supplier<ClusterState> state,
                       Function<MetadataCommand, CompletableFuture<MetadataReply>> submit,
                       ScheduledExecutorService executor) {
        this.nodeId = nodeId;
        this.groups = groups;
        this.state = state;
        this.submit = submit;
        this.executor = executor;
    }

    void start() {
        executor.scheduleWithFixedDelay(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    }

    /** Metadata listener: a pass soon (never blocks the apply thread). */
    void onMetadata(ClusterState s) {
        if (!s.reassignments().isEmpty()) {
            tickSoon();
        }
    }

    private void tickSoon() {
        if (scheduled.compareAndSet(false, true)) {
            executor.execute(() -> {
                scheduled.set(false);
                tick();
            });
        }
    }

    private void tick() {
        Map<TopicPartition, Reassignment> reassignments = state.get().reassignments();
        throttle(reassignments);
        for (Map.Entry<TopicPartition, Reassignment> e : reassignments.entrySet()) {
            TopicPartition tp = e.getKey();
            if (!groups.leads(tp) || !busy.add(tp)) {
                continue;
            }
            CompletableFuture<Boolean> step;
            try {
                step = step(tp, e.getValue());
            } catch (Exception ex) {
                step = CompletableFuture.failedFuture(ex);
            }
            step.orTimeout(STEP_TIMEOUT_MS, TimeUnit.MILLISECONDS).whenComplete((changed, failure) -> {
                busy.remove(tp);
                if (failure != null) {
                    LOGGER.info("Reassignment of {}: step failed ({}); retrying", tp, failure.toString());
                } else if (changed) {
                    tickSoon(); // the next step at once
                }
            });
        }
    }

    /**
     * Holds this leader's appends to the replicas each reassignment adds (its target's nodes not among the original
     * replicas) to the node's replication throttle while they catch up, as Kafka throttles the replicas a
     * reassignment moves; lifts it once the reassignment is done or gone.
     */
    private void throttle(Map<TopicPartition, Reassignment> reassignments) {
        for (Map.Entry<TopicPartition, Reassignment> e : reassignments.entrySet()) {
            TopicPartition tp = e.getKey();
            if (!groups.leads(tp)) {
                continue;
            }
            Set<Integer> adding = new TreeSet<>(e.getValue().target());
            adding.removeAll(e.getValue().original());
            if (!adding.equals(throttled.put(tp, adding))) {
                groups.throttle(tp, adding).whenComplete((v, failure) -> {
                    if (failure != null) {
                        throttled.remove(tp, adding); // tried again at the next tick
                    }
                });
            }
        }
        for (TopicPartition tp : List.copyOf(throttled.keySet())) {
            if (!reassignments.containsKey(tp)) {
                throttled.remove(tp);
                try {
                    groups.throttle(tp, Set.of());
                } catch (RuntimeException e) {
                    // the replica is gone from this node: nothing to lift
                }
            }
        }
    }

    /**
     * One step; completes with whether it changed the group (so the next step may follow at once). Each decision runs
     * on the driver's thread, not on whichever thread completed the group's answer (an engine's event loop).
     */
    private CompletableFuture<Boolean> step(TopicPartition tp, Reassignment r) {
        return groups.voters(tp).thenComposeAsync(voters -> {
            if (!voters.stable()) {
                return CompletableFuture.completedFuture(false);
            }
            List<Integer> current = voters.current();
            Set<Integer> down = groups.nodesDown();
            List<Integer> leavingDown = current.stream()
                    .filter(id -> id != nodeId && !r.target().contains(id) && down.contains(id)).toList();
            if (!leavingDown.isEmpty()) {
                // one voter per change: a leaving voter that is down goes first, so the others keep a live majority
                // while a new replica catches up (added first, it would count toward a quorum it cannot yet make)
                List<Integer> next = new ArrayList<>(current);
                next.remove(leavingDown.get(0));
                LOGGER.info("Reassignment of {} to {}: removing replica {} first, its node is down (voters {})", tp,
                        r.target(), leavingDown.get(0), current);
                return groups.shrinkVoters(tp, current, next).thenApply(v -> true);
            }
            List<Integer> missing = r.target().stream().filter(id -> !current.contains(id)).toList();
            if (!missing.isEmpty()) {
                List<Integer> next = new ArrayList<>(current);
                next.add(missing.get(0));
                if (next.stream().filter(id -> !down.contains(id)).count() < next.size() / 2 + 1) {
                    return CompletableFuture.completedFuture(false); // it would leave no live majority: wait
                }
                LOGGER.info("Reassignment of {} to {}: adding replica {} (voters {})", tp, r.target(), missing.get(0),
                        current);
                return groups.addVoter(tp, current, missing.get(0)).thenApply(v -> true);
            }
            if (!r.target().contains(nodeId)) {
                List<Integer> candidates = r.target().stream().filter(id -> !down.contains(id)).toList();
                return groups.caughtUpAmong(tp, candidates).thenComposeAsync(candidate -> {
                    if (candidate < 0) {
                        return CompletableFuture.completedFuture(false); // no target replica caught up yet
                    }
                    LOGGER.info("Reassignment of {} to {}: moving leadership from {} to {}", tp, r.target(), nodeId,
                            candidate);
                    return groups.transferLeadership(tp, candidate).thenApply(v -> false);
                }, executor);
            }
            if (!new HashSet<>(current).equals(new HashSet<>(r.target()))) {
                LOGGER.info("Reassignment of {}: voters {} -> {}", tp, current, r.target());
                return groups.shrinkVoters(tp, current, r.target()).thenApply(v -> true);
            }
            return submit.apply(new MetadataCommand.CompleteReassignment(tp.topic(), tp.partition(), r.target()))
                    .thenApply(v -> false);
        }, executor);
    }
}
