package io.fluxmq.node;

import io.fluxmq.control.v1.RaftControlGrpc;
import io.fluxmq.control.v1.TransferLeaderReply;
import io.fluxmq.control.v1.TransferLeaderReply.Status;
import io.fluxmq.control.v1.TransferLeaderRequest;
import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.metadata.TopicRecord;
import io.fluxmq.raft.partition.Partition;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a partition's leadership to a chosen in-sync replica ({@code fluxmq-admin partition transfer-leader}, Kafka's
 * ElectLeaders through {@link ClusterBroker#transferLeader}), on either partition engine ({@link ReplicaGroups}). Only
 * the group's leader can run a leadership transfer, so a call reaching another node is forwarded over the control plane: first to the target when the
 * transfer is to be pinned (the target records the pin), then to the leader (hop 2, no further forwarding).
 *
 * <p>A target is in sync when it answered the leader within one election timeout and its log trails the leader's by
 * at most the ISR lag (on multiraft: in the leader's in-sync set, not reported down); Raft then lets it catch up
 * before it starts the election, within the transfer timeout (twice the longest election timeout, or less when asked), during which the group
 * refuses writes.
 *
 * <p>Pins: a node that received a pinned transfer keeps the partition's leadership instead of handing it back to the
 * preferred replica ({@link ClusterBroker#preferLeader} skips pinned partitions) for as long as the leadership it won
 * lasts: a transfer away from it, losing an election or a restart of the node ends the pin (pins are not persisted).
 * Thread-safe; never blocks the calling thread.
 */
final class LeaderTransfers {
    private static final Logger LOGGER = LoggerFactory.getLogger(LeaderTransfers.class);
    private static final int FROM_CLIENT = 0;
    private static final int AT_TARGET = 1;
    private static final int AT_LEADER = 2;
    private static final long FORWARD_MARGIN_MS = 2_000;

    private final NodeConfig config;
    private final RaftNode raft;
    private final ReplicaGroups groups;
    private final ClusterBroker broker;
    private final ControlChannels peers;
    /** Pinned partitions: the term of this node's leadership the pin holds for, or {@link #NOT_YET} before it led. */
    private final Map<TopicPartition, Long> pins = new ConcurrentHashMap<>();
    private static final long NOT_YET = -1;

    LeaderTransfers(NodeConfig config, RaftNode raft, ReplicaGroups groups, ClusterBroker broker,
                    ControlChannels peers) {
        this.config = config;
        this.raft = raft;
        this.groups = groups;
        this.broker = broker;
        this.peers = peers;
    }

    /**
     * Whether an operator pinned this node as the leader of {@code tp}: true from the pinned transfer until this
     * node's leadership that followed it ends (a later term drops the pin, so a node that lost the leadership and won
     * it back by election hands over to the preferred replica as usual).
     */
    boolean pinned(TopicPartition tp) {
        Long term = pins.get(tp);
        Partition replica = groups.replica(tp);
        if (term == null || replica == null || !replica.isLeader()) {
            return term != null;
        }
        long current = replica.leaderEpoch();
        if (term == NOT_YET) {
            pins.replace(tp, NOT_YET, current);
            return true;
        }
        if (term == current) {
            return true;
        }
        pins.remove(tp, term);
        return false;
    }

    CompletableFuture<TransferLeaderReply> transfer(TransferLeaderRequest request) {
        TopicPartition tp = new TopicPartition(request.getTopic(), request.getPartition());
        int target = request.getTargetNode();
        Optional<TopicRecord> topic = raft.metadata().state().topic(tp.topic());
        if (topic.isEmpty() || tp.partition() < 0 || tp.partition() >= topic.get().partitions()) {
            return reply(Status.STATUS_UNKNOWN_PARTITION, -1, "no partition " + tp);
        }
        List<Integer> assigned = topic.get().replicas(tp.partition());
        if (!assigned.contains(target)) {
            return reply(Status.STATUS_NOT_A_REPLICA, broker.partitionState(tp).leader(),
                    "node " + target + " holds no replica of " + tp + " (replicas " + assigned + ")");
        }
        int self = config.nodeId();
        if (request.getHop() == FROM_CLIENT && request.getPin() && target != self) {
            return forward(target, request.toBuilder().setHop(AT_TARGET).build());
        }
        boolean pinHere = request.getPin() && target == self;
        if (pinHere) {
            pins.put(tp, NOT_YET);
        }
        CompletableFuture<TransferLeaderReply> done = toLeader(tp, target, request, self);
        if (!pinHere) {
            return done;
        }
        return done.thenApply(reply -> {
            if (reply.getStatus() != Status.STATUS_TRANSFERRED && reply.getStatus() != Status.STATUS_ALREADY_LEADER) {
                pins.remove(tp, NOT_YET); // this node did not become the leader: nothing to pin
            }
            return reply;
        });
    }

    private CompletableFuture<TransferLeaderReply> toLeader(TopicPartition tp, int target,
                                                            TransferLeaderRequest request, int self) {
        Partition replica = groups.replica(tp);
        if (replica != null && replica.isLeader()) {
            return local(tp, target, request.getTimeoutMs());
        }
        int leader = broker.partitionState(tp).leader();
        if (request.getHop() == AT_LEADER || leader < 0 || leader == self) {
            return reply(Status.STATUS_NO_LEADER, -1, tp + " has no leader at the moment (an election may be under way;"
                    + " try again)");
        }
        return forward(leader, request.toBuilder().setHop(AT_LEADER).build());
    }

    private CompletableFuture<TransferLeaderReply> local(TopicPartition tp, int target, long requestedMs) {
        int self = config.nodeId();
        if (target == self) {
            return reply(Status.STATUS_ALREADY_LEADER, self, "node " + self + " already leads " + tp);
        }
        long electionMs = config.electionTimeoutMin().toMillis();
        long silenceMs = 2 * config.electionTimeoutMax().toMillis();
        if (!groups.inSyncOnLeader(tp, target, electionMs)) {
            return reply(Status.STATUS_TARGET_NOT_IN_SYNC, self, "replica " + target + " of " + tp
                    + " is not in sync (it did not answer leader " + self + " within " + electionMs
                    + " ms, or its log is behind)");
        }
        long timeoutMs = requestedMs > 0 ? Math.min(requestedMs, silenceMs) : silenceMs;
        pins.remove(tp);
        return groups.transferLeadership(tp, target, timeoutMs).handle((moved, e) -> {
            if (e == null && Boolean.TRUE.equals(moved)) {
                LOGGER.info("Leadership of {} transferred from {} to {} on request", tp, self, target);
                return TransferLeaderReply.newBuilder().setStatus(Status.STATUS_TRANSFERRED).setLeader(target).build();
            }
            String why = e == null ? "the transfer did not succeed within " + timeoutMs + " ms" : e.toString();
            LOGGER.info("Leadership of {} did not move from {} to {}: {}", tp, self, target, why);
            return TransferLeaderReply.newBuilder().setStatus(Status.STATUS_FAILED)
                    .setLeader(broker.partitionState(tp).leader()).setMessage(why).build();
        });
    }

    private CompletableFuture<TransferLeaderReply> forward(int node, TransferLeaderRequest request) {
        long deadlineMs = 2 * config.electionTimeoutMax().toMillis() + FORWARD_MARGIN_MS;
        return GrpcCalls.unary(peers.channel(node), RaftControlGrpc.TRANSFER_LEADER, request, deadlineMs)
                .exceptionally(e -> {
                    peers.discard(node);
                    return TransferLeaderReply.newBuilder()
                            .setStatus(request.getHop() == AT_TARGET ? Status.STATUS_TARGET_NOT_IN_SYNC
                                    : Status.STATUS_FAILED)
                            .setLeader(-1).setMessage("node " + node + " did not answer: " + describe(e)).build();
                });
    }

    /** A gRPC failure as its code and description, without the cause's stack trace. */
    static String describe(Throwable failure) {
        io.grpc.Status status = io.grpc.Status.fromThrowable(failure);
        return status.getCode() + (status.getDescription() == null ? "" : " (" + status.getDescription() + ")");
    }

    private static CompletableFuture<TransferLeaderReply> reply(Status status, int leader, String message) {
        return CompletableFuture.completedFuture(TransferLeaderReply.newBuilder().setStatus(status).setLeader(leader)
                .setMessage(message).build());
    }
}
