package io.fluxmq.node;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;

/**
 * What {@link ReassignmentDriver} needs of the Raft groups of this node's partitions to move replicas: the voters,
 * membership changes through the group's leader, and leadership transfer. One implementation per partition engine:
 * {@link RatisGroupMembership} (Ratis, whose joint consensus takes a whole new voter set at once) and
 * {@link EngineGroupMembership} (FluxMQ's multi-Raft, one voter added or removed per change).
 */
interface GroupMembership {

    /** A group's voters as its leader knows them; {@code stable}: no configuration change is being committed. */
    record Voters(List<Integer> current, boolean stable) {
    }

    /** Whether this node's replica of {@code tp} leads its group (and may change it). */
    boolean leads(TopicPartition tp);

    /** The group's voters, as this node's replica knows them. */
    CompletableFuture<Voters> voters(TopicPartition tp);

    /** Adds {@code node} as a voter ({@code current} plus it); completes once the change is committed. */
    CompletableFuture<Void> addVoter(TopicPartition tp, List<Integer> current, int node);

    /**
     * Moves the voters from {@code current} toward {@code target} (a subset of them after every target replica was
     * added): all at once, or one removal per call on an engine that changes one voter at a time; completes once the
     * change is committed. The caller asks again until the voters are the target.
     */
    CompletableFuture<Void> shrinkVoters(TopicPartition tp, List<Integer> current, List<Integer> target);

    /** The first of {@code candidates} whose replica holds what the leader committed (may take over), or -1. */
    CompletableFuture<Integer> caughtUpAmong(TopicPartition tp, List<Integer> candidates);

    /**
     * Nodes this node's failure detector counts as down (empty where changes are not made one voter at a time:
     * Ratis catches an added peer up before it counts).
     */
    Set<Integer> nodesDown();

    /**
     * Holds this leader's appends to {@code nodes} (replicas a reassignment adds) to the node's replication throttle
     * ({@code leader.replication.throttled.rate}) while they catch up; empty lifts it. Engines without a throttle
     * ignore it.
     */
    default CompletableFuture<?> throttle(TopicPartition tp, Set<Integer> nodes) {
        return CompletableFuture.completedFuture(null);
    }

    /** Hands the leadership of {@code tp} to {@code node}; completes once the transfer started or finished. */
    CompletableFuture<?> transferLeadership(TopicPartition tp, int node);
}
