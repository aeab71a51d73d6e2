package io.fluxmq.node;

import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.NodeRecord;
import io.fluxmq.raft.metadata.TopicRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the replicas off DECOMMISSIONING nodes, on the ready metadata leader only. Each {@link #tick()} looks at the
 * metadata afresh (so a new leader simply carries on): for every partition still on a decommissioning node whose
 * target (assignment, or the target of a reassignment in progress) names it, it commits a {@code ReassignPartition}
 * with that node replaced by {@link Placement#replacement} (rack-aware, fewest replicas first, among nodes that take
 * replicas, registered and are UP), keeping at most {@code decommission.max.concurrent.moves} such moves in flight across the
 * cluster. The partition's Raft leader then carries the move out ({@link ReassignmentDriver}: the new replica is
 * added and caught up, leadership handed to a remaining replica if the leaving node leads, the voters set). Once no
 * partition names the node it commits {@code SetNodeMembership(DECOMMISSIONED)}. Not thread-safe: one scheduler thread.
 */
final class Decommissioner {
    private static final Logger LOGGER = LoggerFactory.getLogger(Decommissioner.class);

    private final NodeController.Leadership leadership;
    private final Supplier<ClusterState> state;
    private final Members members;
    private final Function<MetadataCommand, CompletableFuture<MetadataReply>> submit;
    private final int maxMoves;
    private CompletableFuture<?> pending = CompletableFuture.completedFuture(null);
    private String lastProblem = "";

    Decommissioner(NodeController.Leadership leadership, Supplier<ClusterState> state, Members members,
                   Function<MetadataCommand, CompletableFuture<MetadataReply>> submit, int maxMoves) {
        this.leadership = leadership;
        this.state = state;
        this.members = members;
        this.submit = submit;
        this.maxMoves = maxMoves;
    }

    /** One pass; never throws. Waits for the commands of the previous pass to be applied first. */
    void tick() {
        try {
            if (leadership.readyLeaderTerm() < 0 || !pending.isDone()) {
                return;
            }
            pending = pass(state.get());
        } catch (RuntimeException e) {
            LOGGER.warn("Decommission pass failed: {}", e.toString());
        }
    }

    private CompletableFuture<?> pass(ClusterState s) {
        List<Integer> leaving = s.nodes().values().stream()
                .filter(n -> n.membership() == NodeRecord.Membership.DECOMMISSIONING).map(NodeRecord::id).sorted()
                .toList();
        if (leaving.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<MetadataReply>> commands = new ArrayList<>();
        int inFlight = 0;
        for (Map.Entry<TopicPartition, ?> e : s.reassignments().entrySet()) {
            TopicPartition tp = e.getKey();
            if (leaving.stream().anyMatch(id -> s.replicas(tp).contains(id))) {
                inFlight++;
            }
        }
        Map<Integer, String> candidates = new HashMap<>(members.placeable());
        // only nodes that registered and are UP: a configured node that never started would stall the move
        candidates.keySet().removeIf(id -> s.node(id).filter(n -> n.registered() && n.isUp()).isEmpty());
        Map<Integer, Integer> load = replicaCounts(s);
        for (int node : leaving) {
            List<TopicPartition> on = s.partitionsOn(node);
            if (on.isEmpty()) {
                LOGGER.info("Node {} holds no replica any more; marking it DECOMMISSIONED", node);
                commands.add(submit.apply(new MetadataCommand.SetNodeMembership(node,
                        NodeRecord.Membership.DECOMMISSIONED)));
                continue;
            }
            for (TopicPartition tp : on) {
                List<Integer> target = s.targetReplicas(tp);
                if (!target.contains(node)) {
                    continue; // moving off already
                }
                if (inFlight >= maxMoves) {
                    break;
                }
                int replacement = Placement.replacement(target, node, candidates, load);
                if (replacement < 0) {
                    problem("no node can take the replica of " + tp + " on node " + node + " (replicas " + target
                            + "; nodes that take replicas and are UP: " + candidates.keySet() + ")");
                    continue;
                }
                List<Integer> next = new ArrayList<>(target);
                next.set(next.indexOf(node), replacement);
                LOGGER.info("Decommissioning node {}: moving {} from {} to {}", node, tp, target, next);
                load.merge(replacement, 1, Integer::sum);
                inFlight++;
                commands.add(submit.apply(new MetadataCommand.ReassignPartition(tp.topic(), tp.partition(), next)));
            }
        }
        return CompletableFuture.allOf(commands.toArray(CompletableFuture[]::new))
                .whenComplete((v, e) -> {
                    if (e != null) {
                        problem("a decommission command failed: " + e);
                    }
                });
    }

    private static Map<Integer, Integer> replicaCounts(ClusterState s) {
        Map<Integer, Integer> load = new HashMap<>();
        for (TopicRecord t : s.topics().values()) {
            for (int p = 0; p < t.partitions(); p++) {
                s.replicas(new TopicPartition(t.name(), p)).forEach(id -> load.merge(id, 1, Integer::sum));
            }
        }
        return load;
    }

    private void problem(String message) {
        if (!message.equals(lastProblem)) {
            LOGGER.warn("Decommission: {}", message);
            lastProblem = message;
        }
    }
}
