package io.fluxmq.node;

import io.fluxmq.raft.engine.EnginePartition;
import io.fluxmq.raft.engine.EnginePartitions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;

/**
 * {@link GroupMembership} on FluxMQ's multi-Raft ({@code partition.engine=multiraft}): Raft single-server changes
 * through the group's leader ({@link EnginePartition#changeVoters}), so a move of several replicas takes one change
 * per voter added or removed. An added replica starts as a voter with an empty log (raft-core has no learners): the
 * leader brings it up to date while the other voters keep the quorum. A caught-up replica is one holding every
 * committed entry as the leader last heard.
 */
record EngineGroupMembership(EnginePartitions engine) implements GroupMembership {

    private EnginePartition partition(TopicPartition tp) {
        EnginePartition partition = engine.partition(tp);
        if (partition == null) {
            throw new IllegalStateException("no replica of " + tp + " here");
        }
        return partition;
    }

    @Override
    public boolean leads(TopicPartition tp) {
        EnginePartition partition = engine.partition(tp);
        return partition != null && partition.isLeader();
    }

    @Override
    public CompletableFuture<Voters> voters(TopicPartition tp) {
        return partition(tp).voters().thenApply(v -> {
            if (v == null) {
                throw new IllegalStateException("no group of " + tp + " here any more");
            }
            return new Voters(List.copyOf(new TreeSet<>(v.voters())), v.committed());
        });
    }

    @Override
    public CompletableFuture<Void> addVoter(TopicPartition tp, List<Integer> current, int node) {
        Set<Integer> next = new TreeSet<>(current);
        next.add(node);
        return partition(tp).changeVoters(next);
    }

    @Override
    public CompletableFuture<Void> shrinkVoters(TopicPartition tp, List<Integer> current, List<Integer> target) {
        List<Integer> leaving = new ArrayList<>(current);
        leaving.removeAll(target);
        if (leaving.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        Set<Integer> next = new TreeSet<>(current);
        next.remove(leaving.get(0));
        return partition(tp).changeVoters(next);
    }

    @Override
    public CompletableFuture<Integer> caughtUpAmong(TopicPartition tp, List<Integer> candidates) {
        EnginePartition partition = partition(tp);
        CompletableFuture<Integer> found = CompletableFuture.completedFuture(-1);
        for (int candidate : candidates) {
            found = found.thenCompose(first -> first >= 0 ? CompletableFuture.completedFuture(first)
                    : partition.caughtUp(candidate).thenApply(yes -> yes ? candidate : -1));
        }
        return found;
    }

    @Override
    public Set<Integer> nodesDown() {
        return engine.peersDown();
    }

    @Override
    public CompletableFuture<?> throttle(TopicPartition tp, Set<Integer> nodes) {
        return partition(tp).throttleFollowers(nodes);
    }

    @Override
    public CompletableFuture<?> transferLeadership(TopicPartition tp, int node) {
        return partition(tp).transferLeadership(node);
    }
}
