package io.fluxmq.node;

import io.fluxmq.control.v1.RaftControlGrpc;
import io.fluxmq.control.v1.RaftPeerStatus;
import io.fluxmq.control.v1.RaftStatusReply;
import io.fluxmq.control.v1.RaftStatusRequest;
import io.fluxmq.control.v1.TakeSnapshotReply;
import io.fluxmq.control.v1.TakeSnapshotRequest;
import io.fluxmq.control.v1.TransferLeaderReply;
import io.fluxmq.control.v1.TransferLeaderRequest;
import io.fluxmq.control.v1.AddPartitionsToTxnReply;
import io.fluxmq.control.v1.AddPartitionsToTxnRequest;
import io.fluxmq.control.v1.WriteTxnMarkerReply;
import io.fluxmq.control.v1.WriteTxnMarkerRequest;
import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.metadata.TopicRecord;
import io.fluxmq.raft.partition.GroupStatus;
import io.fluxmq.raft.partition.Partition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC {@code RaftControl} service of this node: leader transfers ({@link LeaderTransfers}), transaction markers
 * for partitions this node leads ({@link TxnMarkers#serve}), partitions added to transactions this node coordinates
 * ({@link TxnRouting#serve}) and the Raft status
 * of a partition's group on either partition engine ({@link ReplicaGroups}), forwarded to the group's leader (whose
 * view includes each follower's match and next index) with the answering replica's log start, high watermark and
 * size; when the leader is unknown or does not answer, this node's own replica answers. Never blocks a gRPC thread.
 */
final class RaftControlService implements RaftControlGrpc.AsyncService {
    private static final Logger LOGGER = LoggerFactory.getLogger(RaftControlService.class);
    private static final long FORWARD_TIMEOUT_MS = 3_000;
    private static final long SNAPSHOT_TIMEOUT_MS = 30_000;

    private final int nodeId;
    private final RaftNode raft;
    private final ReplicaGroups groups;
    private final String engine;
    private final ClusterBroker broker;
    private final LeaderTransfers transfers;
    private final ControlChannels peers;
    private final TxnMarkers markers;
    private final TxnRouting transactions;

    RaftControlService(int nodeId, RaftNode raft, ReplicaGroups groups, String engine, ClusterBroker broker,
                       LeaderTransfers transfers, ControlChannels peers, TxnMarkers markers,
                       TxnRouting transactions) {
        this.markers = markers;
        this.transactions = transactions;
        this.nodeId = nodeId;
        this.raft = raft;
        this.groups = groups;
        this.engine = engine;
        this.broker = broker;
        this.transfers = transfers;
        this.peers = peers;
    }

    @Override
    public void transferLeader(TransferLeaderRequest request, StreamObserver<TransferLeaderReply> reply) {
        complete(transfers.transfer(request), reply);
    }

    @Override
    public void raftStatus(RaftStatusRequest request, StreamObserver<RaftStatusReply> reply) {
        TopicPartition tp = new TopicPartition(request.getTopic(), request.getPartition());
        Optional<TopicRecord> topic = raft.metadata().state().topic(tp.topic());
        if (topic.isEmpty() || tp.partition() < 0 || tp.partition() >= topic.get().partitions()) {
            reply.onError(Status.NOT_FOUND.withDescription("no partition " + tp).asRuntimeException());
            return;
        }
        Partition replica = groups.replica(tp);
        int leader = broker.partitionState(tp).leader();
        if (request.getNoForward() || (replica != null && replica.isLeader()) || leader < 0 || leader == nodeId) {
            complete(local(tp), reply);
            return;
        }
        GrpcCalls.unary(peers.channel(leader), RaftControlGrpc.RAFT_STATUS,
                request.toBuilder().setNoForward(true).build(), FORWARD_TIMEOUT_MS).whenComplete((answer, e) -> {
                    if (e == null) {
                        reply.onNext(answer);
                        reply.onCompleted();
                        return;
                    }
                    LOGGER.info("RaftStatus of {}: leader {} did not answer ({}); answering locally", tp, leader,
                            LeaderTransfers.describe(e));
                    peers.discard(leader);
                    complete(local(tp), reply);
                });
    }

    /**
     * Snapshots the partition's group on its leader (forwarded like {@link #raftStatus}), or on this node's replica
     * when the leader is unknown or does not answer.
     */
    @Override
    public void takeSnapshot(TakeSnapshotRequest request, StreamObserver<TakeSnapshotReply> reply) {
        TopicPartition tp = new TopicPartition(request.getTopic(), request.getPartition());
        Optional<TopicRecord> topic = raft.metadata().state().topic(tp.topic());
        if (topic.isEmpty() || tp.partition() < 0 || tp.partition() >= topic.get().partitions()) {
            reply.onError(Status.NOT_FOUND.withDescription("no partition " + tp).asRuntimeException());
            return;
        }
        long timeoutMs = request.getTimeoutMs() > 0 ? request.getTimeoutMs() : SNAPSHOT_TIMEOUT_MS;
        Partition replica = groups.replica(tp);
        int leader = broker.partitionState(tp).leader();
        if (request.getNoForward() || (replica != null && replica.isLeader()) || leader < 0 || leader == nodeId) {
            complete(snapshotLocally(tp, timeoutMs), reply);
            return;
        }
        GrpcCalls.unary(peers.channel(leader), RaftControlGrpc.TAKE_SNAPSHOT,
                request.toBuilder().setNoForward(true).build(), timeoutMs + FORWARD_TIMEOUT_MS)
                .whenComplete((answer, e) -> {
                    if (e == null) {
                        reply.onNext(answer);
                        reply.onCompleted();
                        return;
                    }
                    LOGGER.info("TakeSnapshot of {}: leader {} did not answer ({}); snapshotting locally", tp, leader,
                            LeaderTransfers.describe(e));
                    peers.discard(leader);
                    complete(snapshotLocally(tp, timeoutMs), reply);
                });
    }

    /** Snapshots this node's replica; fails with UNAVAILABLE when it holds none. */
    private CompletableFuture<TakeSnapshotReply> snapshotLocally(TopicPartition tp, long timeoutMs) {
        return groups.groupStatus(tp).thenCompose(before -> {
            if (before == null) {
                throw Status.UNAVAILABLE.withDescription("node " + nodeId + " holds no replica of " + tp
                        + " and its leader is unknown or did not answer").asRuntimeException();
            }
            return groups.takeSnapshot(tp, timeoutMs).thenApply(after -> {
                long index = after == null ? before.snapshotIndex() : after;
                LOGGER.info("Snapshot of {} on request: snapshot index {} (was {})", tp, index,
                        before.snapshotIndex());
                return TakeSnapshotReply.newBuilder().setNodeId(nodeId).setEngine(engine)
                        .setPreviousSnapshotIndex(before.snapshotIndex()).setSnapshotIndex(index)
                        .setMessage(snapshotMessage(before.snapshotIndex(), index)).build();
            });
        });
    }

    private String snapshotMessage(long before, long after) {
        if (after > before) {
            return NodeConfig.MULTIRAFT.equals(engine)
                    ? "compacted the Raft log to offset " + after + " (the segments below the log start)"
                    : "took a snapshot at index " + after;
        }
        return NodeConfig.MULTIRAFT.equals(engine)
                ? "nothing to compact: no whole segment lies below the log start (on multiraft the Raft log is the "
                        + "partition's log; DeleteRecords or retention move its start)"
                : "no entry applied since the snapshot at index " + after;
    }

    @Override
    public void writeTxnMarker(WriteTxnMarkerRequest request, StreamObserver<WriteTxnMarkerReply> reply) {
        complete(markers.serve(request), reply);
    }

    @Override
    public void addPartitionsToTxn(AddPartitionsToTxnRequest request, StreamObserver<AddPartitionsToTxnReply> reply) {
        complete(transactions.serve(request), reply);
    }

    /** This node's view; fails with UNAVAILABLE when it holds no replica of the partition. */
    private CompletableFuture<RaftStatusReply> local(TopicPartition tp) {
        return groups.groupStatus(tp).thenApply(s -> reply(tp, s, groups.replica(tp)));
    }

    private RaftStatusReply reply(TopicPartition tp, GroupStatus s, Partition replica) {
        if (s == null || replica == null) {
            throw Status.UNAVAILABLE.withDescription("node " + nodeId + " holds no replica of " + tp
                    + " and its leader is unknown or did not answer").asRuntimeException();
        }
        RaftStatusReply.Builder out = RaftStatusReply.newBuilder().setGroupId(s.groupId()).setAnsweredBy(s.nodeId())
                .setRole(s.role()).setTerm(s.term()).setLeader(s.leader()).setCommitIndex(s.commitIndex())
                .setAppliedIndex(s.appliedIndex()).setLastIndex(s.lastIndex()).setSnapshotIndex(s.snapshotIndex())
                .setEngine(engine).setLogStartOffset(replica.logStartOffset())
                .setHighWatermark(replica.highWatermark()).setLogSizeBytes(replica.logSizeBytes())
                .setLogSegments(replica.logSegmentCount());
        for (GroupStatus.Peer p : s.peers()) {
            out.addPeers(RaftPeerStatus.newBuilder().setNodeId(p.nodeId()).setRole(p.role())
                    .setCommitIndex(p.commitIndex()).setMatchIndex(p.matchIndex()).setNextIndex(p.nextIndex())
                    .setLastRpcAgeMs(p.lastRpcAgeMs()).setLag(p.lag()));
        }
        return out.build();
    }

    private static <T> void complete(CompletableFuture<T> future, StreamObserver<T> reply) {
        future.whenComplete((value, e) -> {
            if (e != null) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null
                        ? e.getCause() : e;
                reply.onError(cause instanceof StatusRuntimeException ? cause
                        : Status.INTERNAL.withDescription(cause.toString()).asRuntimeException());
            } else {
                reply.onNext(value);
                reply.onCompleted();
            }
        });
    }
}
