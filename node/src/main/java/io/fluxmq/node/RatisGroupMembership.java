package io.fluxmq.node;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.partition.PartitionMembership;
import io.fluxmq.raft.partition.PartitionReplica;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.protocol.RaftPeer;

/**
 * {@link GroupMembership} on Apache Ratis: membership through {@link PartitionMembership#setVoters} (Ratis brings an
 * added peer up to date before it votes, and goes through a joint configuration for any new set), a caught-up
 * follower is one heard from within an election timeout.
 */
record RatisGroupMembership(RaftNode raft, Function<List<Integer>, List<RaftPeer>> peers, long electionMs)
        implements GroupMembership {

    @Override
    public boolean leads(TopicPartition tp) {
        PartitionReplica replica = raft.replica(tp);
        return replica != null && replica.isLeader();
    }

    @Override
    public CompletableFuture<Voters> voters(TopicPartition tp) {
        PartitionMembership membership = raft.membership(tp);
        if (membership == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("no replica of " + tp + " here"));
        }
        try {
            PartitionMembership.Members members = membership.members();
            return CompletableFuture.completedFuture(new Voters(members.current(), members.stable()));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<Void> addVoter(TopicPartition tp, List<Integer> current, int node) {
        List<Integer> next = new ArrayList<>(current);
        next.add(node);
        return setVoters(tp, next);
    }

    @Override
    public CompletableFuture<Void> shrinkVoters(TopicPartition tp, List<Integer> current, List<Integer> target) {
        return setVoters(tp, target);
    }

    private CompletableFuture<Void> setVoters(TopicPartition tp, List<Integer> voters) {
        PartitionMembership membership = raft.membership(tp);
        if (membership == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("no replica of " + tp + " here"));
        }
        return membership.setVoters(peers.apply(voters));
    }

    @Override
    public CompletableFuture<Integer> caughtUpAmong(TopicPartition tp, List<Integer> candidates) {
        PartitionReplica replica = raft.replica(tp);
        for (int candidate : candidates) {
            if (replica != null && replica.isCaughtUpFollower(candidate, electionMs)) {
                return CompletableFuture.completedFuture(candidate);
            }
        }
        return CompletableFuture.completedFuture(-1);
    }

    @Override
    public Set<Integer> nodesDown() {
        return Set.of();
    }

    @Override
    public CompletableFuture<?> transferLeadership(TopicPartition tp, int node) {
        PartitionReplica replica = raft.replica(tp);
        if (replica == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("no replica of " + tp + " here"));
        }
        return replica.transferLeadership(node, 2 * electionMs);
    }
}
