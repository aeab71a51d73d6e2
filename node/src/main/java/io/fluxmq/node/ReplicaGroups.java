package io.fluxmq.node;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.engine.EnginePartition;
import io.fluxmq.raft.engine.EnginePartitions;
import io.fluxmq.raft.partition.GroupStatus;
import io.fluxmq.raft.partition.Partition;
import io.fluxmq.raft.partition.PartitionReplica;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;

/**
 * What operators' tools see and do on this node's partition replicas' Raft groups, on either partition engine:
 * {@code fluxmq-admin raft status} ({@link RaftControlService}), {@code partition transfer-leader} and ElectLeaders
 * ({@link LeaderTransfers}) and the per-partition gauges ({@link ReplicaMeters}). {@link #ratis} reads Apache Ratis
 * divisions, {@link #engine} raft-core's groups of the multiraft engine. Implementations are thread-safe and never
 * block: a status that has to be read on a group's thread arrives as a future.
 */
interface ReplicaGroups {

    /** The partitions this node holds an open replica of. */
    Set<TopicPartition> localPartitions();

    /** This node's replica of {@code tp}, or null. */
    Partition replica(TopicPartition tp);

    /** The replica's view of its group; completes with null when this node holds no replica. */
    CompletableFuture<GroupStatus> groupStatus(TopicPartition tp);

    /** On the leader, entries (Ratis) or offsets (multiraft) each follower trails the leader's log; else empty. */
    Map<Integer, Long> followerLag(TopicPartition tp);

    /** Whether this node leads {@code tp} and {@code node} is in its in-sync set: a safe transfer target. */
    boolean inSyncOnLeader(TopicPartition tp, int node, long maxSilenceMs);

    /** Hands leadership of {@code tp}, led here, to {@code target}; completes with whether it moved. */
    CompletableFuture<Boolean> transferLeadership(TopicPartition tp, int target, long timeoutMs);

    /**
     * Snapshots this node's replica of {@code tp} ({@code fluxmq-admin raft snapshot}): on Ratis its state machine
     * writes a snapshot at its applied index, on multiraft the Raft log is compacted to the last segment boundary at or
     * below the log start DeleteRecords set. Completes with the snapshot index afterwards (as {@link #groupStatus}
     * reports it), or null when this node holds no replica.
     */
    CompletableFuture<Long> takeSnapshot(TopicPartition tp, long timeoutMs);

    static ReplicaGroups ratis(RaftNode raft) {
        return new ReplicaGroups() {
            @Override
            public Set<TopicPartition> localPartitions() {
                return raft.localPartitions();
            }

            @Override
            public Partition replica(TopicPartition tp) {
                return raft.replica(tp);
            }

            @Override
            public CompletableFuture<GroupStatus> groupStatus(TopicPartition tp) {
                PartitionReplica replica = raft.replica(tp);
                return CompletableFuture.completedFuture(replica == null ? null : replica.groupStatus());
            }

            @Override
            public Map<Integer, Long> followerLag(TopicPartition tp) {
                PartitionReplica replica = raft.replica(tp);
                return replica == null ? Map.of() : replica.followerLag();
            }

            @Override
            public boolean inSyncOnLeader(TopicPartition tp, int node, long maxSilenceMs) {
                PartitionReplica replica = raft.replica(tp);
                return replica != null && replica.status(maxSilenceMs).inSync().contains(node);
            }

            @Override
            public CompletableFuture<Boolean> transferLeadership(TopicPartition tp, int target, long timeoutMs) {
                PartitionReplica replica = raft.replica(tp);
                return replica == null ? CompletableFuture.completedFuture(false)
                        : replica.transferLeadership(target, timeoutMs);
            }

            @Override
            public CompletableFuture<Long> takeSnapshot(TopicPartition tp, long timeoutMs) {
                PartitionReplica replica = raft.replica(tp);
                if (replica == null) {
                    return CompletableFuture.completedFuture(null);
                }
                return replica.takeSnapshot(timeoutMs).thenApply(index -> {
                    GroupStatus after = replica.groupStatus();
                    return after == null ? index : Math.max(index, after.snapshotIndex());
                });
            }
        };
    }

    /**
     * Over the multiraft engine's groups. The in-sync set is the leader's (members holding every committed entry now
     * or within the replica lag time, not reported down), as the ISR is on this engine; the engine catches the target
     * up before it hands over.
     */
    static ReplicaGroups engine(EnginePartitions engine) {
        return new ReplicaGroups() {
            @Override
            public Set<TopicPartition> localPartitions() {
                return engine.hosted();
            }

            @Override
            public Partition replica(TopicPartition tp) {
                return engine.partition(tp);
            }

            @Override
            public CompletableFuture<GroupStatus> groupStatus(TopicPartition tp) {
                EnginePartition replica = engine.partition(tp);
                return replica == null ? CompletableFuture.completedFuture(null) : replica.groupStatus();
            }

            @Override
            public Map<Integer, Long> followerLag(TopicPartition tp) {
                EnginePartition replica = engine.partition(tp);
                return replica == null ? Map.of() : replica.followerLag();
            }

            @Override
            public boolean inSyncOnLeader(TopicPartition tp, int node, long maxSilenceMs) {
                EnginePartition replica = engine.partition(tp);
                if (replica == null || !replica.isLeader() || engine.peersDown().contains(node)) {
                    return false;
                }
                // A leader whose term has no refreshed in-sync set yet (up to half a second after it took over, as
                // right after a transfer) counts every member as caught up, as its Raft group does when it takes
                // over; the transfer itself still waits for the target to hold the whole log.
                List<Integer> inSync = replica.inSync();
                return inSync.isEmpty() || inSync.contains(node);
            }

            @Override
            public CompletableFuture<Boolean> transferLeadership(TopicPartition tp, int target, long timeoutMs) {
                EnginePartition replica = engine.partition(tp);
                return replica == null ? CompletableFuture.completedFuture(false)
                        : replica.transferLeadership(target, timeoutMs);
            }

            @Override
            public CompletableFuture<Long> takeSnapshot(TopicPartition tp, long timeoutMs) {
                EnginePartition replica = engine.partition(tp);
                return replica == null ? CompletableFuture.completedFuture(null) : replica.takeSnapshot();
            }
        };
    }
}
