package io.fluxmq.node;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.kafka.broker.ReassignmentInfo;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.Reassignment;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;

/**
 * The admin side of partition reassignment (AlterPartitionReassignments, ListPartitionReassignments): validates a
 * request against this node's view of the cluster and commits it to metadata; {@link ReassignmentDriver} on the
 * partition's leader then moves the replicas. Thread-safe.
 */
final class Reassignments {
    private final Members members;
    private final Supplier<ClusterState> state;
    private final Function<MetadataCommand, CompletableFuture<MetadataReply>> submit;

    Reassignments(Members members, Supplier<ClusterState> state,
                  Function<MetadataCommand, CompletableFuture<MetadataReply>> submit) {
        this.members = members;
        this.state = state;
        this.submit = submit;
    }

    CompletableFuture<Void> reassign(TopicPartition tp, List<Integer> target, boolean allowReplicationFactorChange) {
        try {
            validate(tp, target, allowReplicationFactorChange);
        } catch (AdminException e) {
            return CompletableFuture.failedFuture(e);
        }
        return submit.apply(new MetadataCommand.ReassignPartition(tp.topic(), tp.partition(), target))
                .thenApply(r -> null);
    }

    private void validate(TopicPartition tp, List<Integer> target, boolean allowReplicationFactorChange) {
        ClusterState s = state.get();
        List<Integer> current = s.replicas(tp);
        if (current.isEmpty()) {
            throw new AdminException(Errors.UNKNOWN_TOPIC_OR_PARTITION, "partition " + tp + " does not exist");
        }
        if (target == null) {
            if (s.reassignment(tp).isEmpty()) {
                throw new AdminException(Errors.NO_REASSIGNMENT_IN_PROGRESS, "no reassignment of " + tp
                        + " is in progress");
            }
            return;
        }
        if (target.isEmpty()) {
            throw new AdminException(Errors.INVALID_REPLICA_ASSIGNMENT, "the replica list of " + tp + " is empty");
        }
        if (new HashSet<>(target).size() != target.size()) {
            throw new AdminException(Errors.INVALID_REPLICA_ASSIGNMENT, "the replica list " + target + " of " + tp
                    + " has duplicates");
        }
        Map<Integer, String> placeable = members.placeable();
        for (int id : target) {
            if (members.member(id) == null) {
                throw new AdminException(Errors.INVALID_REPLICA_ASSIGNMENT, "the replica list " + target + " of " + tp
                        + " names node " + id + ", which is not in the cluster");
            }
            if (!current.contains(id) && !placeable.containsKey(id)) {
                throw new AdminException(Errors.INVALID_REPLICA_ASSIGNMENT, "the replica list " + target + " of " + tp
                        + " adds node " + id + ", which is decommissioning or decommissioned (recommission it first)");
            }
        }
        List<Integer> original = s.reassignment(tp).map(Reassignment::original).orElse(current);
        if (!allowReplicationFactorChange && target.size() != original.size()) {
            throw new AdminException(Errors.INVALID_REPLICATION_FACTOR, "the replication factor of " + tp
                    + " would change from " + original.size() + " to " + target.size()
                    + " but allowReplicationFactorChange is false");
        }
    }

    Map<TopicPartition, ReassignmentInfo> list() {
        Map<TopicPartition, ReassignmentInfo> out = new HashMap<>();
        state.get().reassignments().forEach((tp, r) ->
                out.put(tp, new ReassignmentInfo(r.replicas(), r.adding(), r.removing())));
        return out;
    }
}
