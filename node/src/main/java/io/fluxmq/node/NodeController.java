package io.fluxmq.node;

import io.fluxmq.control.v1.AllocateNodeIdReply;
import io.fluxmq.control.v1.ControllerReply;
import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeEndpoint;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.NodeMembership;
import io.fluxmq.control.v1.RegisterRequest;
import io.fluxmq.control.v1.HeartbeatRequest;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.NodeRecord;
import io.fluxmq.raft.metadata.NodeRecord.NodeState;
import io.fluxmq.raft.metadata.TopicRecord;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Node liveness on the metadata controller leader. It records when each node last registered or heartbeated (in
 * memory only), commits {@code SetNodeState(DOWN)} for a node silent for longer than {@code node.session.timeout.ms}
 * and {@code RegisterNode} / {@code SetNodeState(UP)} when a node registers or heartbeats while recorded otherwise.
 * A node that has just become the ready leader of a new term gives every node a full session timeout from that
 * moment, so a leader change does not mark the cluster down; likewise after this node's own checks were held up for
 * more than half the session timeout (a long pause of this JVM says nothing about the other nodes). The leader never
 * marks itself DOWN. Time comes from the injected clock, so tests drive it.
 * Thread-safe; {@link #checkLiveness()} is called periodically.
 */
final class NodeController {
    private static final Logger LOGGER = LoggerFactory.getLogger(NodeController.class);

    /** What the controller needs to know about the metadata Raft group on this node. */
    interface Leadership {
        /** The current term if this node is the ready metadata leader, else -1. */
        long readyLeaderTerm();

        /** The metadata leader's node id as far as this node knows, else -1. */
        int leaderId();
    }

    /** Changes the listeners of the metadata Raft group (the voters never change). */
    interface MetadataGroup {
        /** Adds a joining node as a listener; completes once it is a member. */
        CompletableFuture<Void> ensureMember(ClusterMember node);

        /** Takes a removed node out of the listeners; completes once it is none. */
        CompletableFuture<Void> removeListener(int nodeId);
    }

    private final NodeConfig config;
    private final Members members;
    private final MetadataGroup metadataGroup;
    private final Leadership leadership;
    private final Supplier<ClusterState> state;
    private final Function<MetadataCommand, CompletableFuture<MetadataReply>> submit;
    private final LongSupplier clockMs;
    private final long sessionTimeoutMs;
    private final Map<Integer, Long> lastHeardMs = new HashMap<>();
    private final Set<Integer> pendingDown = new HashSet<>();
    private long trackedTerm = -1;
    private long lastCheckMs = Long.MIN_VALUE;

    NodeController(NodeConfig config, Members members, MetadataGroup metadataGroup, Leadership leadership,
                   Supplier<ClusterState> state, Function<MetadataCommand, CompletableFuture<MetadataReply>> submit,
                   LongSupplier clockMs) {
        this.config = config;
        this.members = members;
        this.metadataGroup = metadataGroup;
        this.leadership = leadership;
        this.state = state;
        this.submit = submit;
        this.clockMs = clockMs;
        this.sessionTimeoutMs = config.sessionTimeout().toMillis();
    }

    /** Returns the current term when this node is the ready leader (starting a grace period on a new term), else -1. */
    private synchronized long syncTerm(long now) {
        long term = leadership.readyLeaderTerm();
        if (term != trackedTerm) {
            trackedTerm = term;
            lastHeardMs.clear();
            if (term >= 0) {
                startGrace(now);
                LOGGER.info("Controller leader in term {}: every node has {} ms to heartbeat", term, sessionTimeoutMs);
            }
        }
        return term;
    }

    private void startGrace(long now) {
        for (int id : members.ids()) {
            lastHeardMs.put(id, now);
        }
    }

    private synchronized void heard(int nodeId, long now) {
        lastHeardMs.put(nodeId, now);
    }

    /** Marks DOWN every node not heard from within the session timeout; call periodically. */
    void checkLiveness() {
        long now = clockMs.getAsLong();
        if (syncTerm(now) < 0) {
            return;
        }
        synchronized (this) {
            if (lastCheckMs != Long.MIN_VALUE && now - lastCheckMs > sessionTimeoutMs / 2) {
                LOGGER.info("Liveness checks were held up for {} ms; every node has {} ms to heartbeat again",
                        now - lastCheckMs, sessionTimeoutMs);
                startGrace(now);
            }
            lastCheckMs = now;
        }
        ClusterState s = state.get();
        for (int id : members.ids()) {
            if (id == config.nodeId()) {
                continue;
            }
            NodeRecord record = s.node(id).orElse(null);
            long incarnation = record == null ? NodeRecord.NEVER_REGISTERED : record.incarnation();
            long silentMs;
            synchronized (this) {
                silentMs = now - lastHeardMs.getOrDefault(id, now);
                if (silentMs <= sessionTimeoutMs || (record != null && !record.isUp()) || !pendingDown.add(id)) {
                    continue;
                }
            }
            LOGGER.warn("Node {} sent no heartbeat for {} ms (session timeout {} ms); marking it DOWN", id,
                    silentMs, sessionTimeoutMs);
            submit.apply(new MetadataCommand.SetNodeState(id, incarnation, NodeState.DOWN))
                    .whenComplete((r, e) -> {
                        synchronized (this) {
                            pendingDown.remove(id);
                        }
                        if (e != null) {
                            LOGGER.info("Could not mark node {} DOWN: {}", id, e.toString());
                        }
                    });
        }
    }

    /** The answer to a request that this controller must not serve (not the leader), or null. */
    private ControllerReply refusal(long now) {
        return syncTerm(now) < 0 ? notController() : null;
    }

    /**
     * Records a node's registration. A node id neither in this node's {@code cluster.nodes} nor in metadata is a node
     * joining the running cluster: it is first added to the metadata Raft group as a listener (so it receives the
     * metadata; the voters stay {@code controller.nodes}), then registered, and from then on a member every node knows
     * from metadata. A node of another cluster (its cluster id differs) is refused.
     */
    CompletableFuture<ControllerReply> register(RegisterRequest request) {
        long now = clockMs.getAsLong();
        ControllerReply refused = refusal(now);
        if (refused != null) {
            return CompletableFuture.completedFuture(refused);
        }
        if (!request.getClusterId().isEmpty() && !request.getClusterId().equals(config.clusterId())) {
            return CompletableFuture.completedFuture(reply(ControllerReply.Status.STATUS_REJECTED, "node "
                    + request.getNodeId() + " is configured for cluster " + request.getClusterId() + ", this is cluster "
                    + config.clusterId() + " (set cluster.id=" + config.clusterId() + " on a joining node)"));
        }
        NodeEndpoint e = request.getEndpoint();
        NodeRecord known = state.get().node(request.getNodeId()).orElse(null);
        if (known != null && known.removed()) {
            return CompletableFuture.completedFuture(reply(ControllerReply.Status.STATUS_REJECTED, "node "
                    + known.id() + " was removed from the cluster; start the node with a new node.id and an empty "
                    + "data dir"));
        }
        NodeRecord record = new NodeRecord(request.getNodeId(), e.getHost(), e.getKafkaPort(), e.getRaftPort(),
                e.getHttpPort(), e.getControlPort(), request.getVersion(), request.getIncarnation(), NodeState.UP,
                request.getRack(), known == null ? NodeRecord.Membership.ACTIVE : known.membership());
        heard(record.id(), now);
        if (record.equals(known)) {
            return CompletableFuture.completedFuture(accepted());
        }
        if (known == null && config.member(record.id()) == null) {
            LOGGER.info("Node {} at {}:{} (rack '{}') joins the cluster", record.id(), record.host(), record.raftPort(),
                    record.rack());
        }
        ClusterMember member = new ClusterMember(record.id(), record.host(), record.kafkaPort(), record.raftPort(),
                record.httpPort(), record.controlPort());
        return metadataGroup.ensureMember(member)
                .thenCompose(v -> commit(new MetadataCommand.RegisterNode(record)))
                .exceptionally(x -> reply(ControllerReply.Status.STATUS_REJECTED,
                        "adding node " + record.id() + " to the metadata group failed: " + rootMessage(x)));
    }

    /**
     * Decommissions (DECOMMISSIONING) or recommissions (ACTIVE) a node; the {@link Decommissioner} then moves its
     * replicas. Refused when the node is unknown, or when decommissioning it would leave fewer nodes that take replicas
     * than a partition on it has replicas.
     */
    CompletableFuture<ControllerReply> setMembership(int nodeId, NodeRecord.Membership membership) {
        ControllerReply refused = refusal(clockMs.getAsLong());
        if (refused != null) {
            return CompletableFuture.completedFuture(refused);
        }
        ClusterState s = state.get();
        NodeRecord known = s.node(nodeId).orElse(null);
        if (known == null || !known.registered()) {
            return CompletableFuture.completedFuture(reply(ControllerReply.Status.STATUS_REJECTED, "node " + nodeId
                    + " has never registered with the cluster"));
        }
        if (membership == NodeRecord.Membership.DECOMMISSIONING && known.placeable()) {
            int remaining = members.placeable().size() - 1;
            int needed = s.partitionsOn(nodeId).stream().mapToInt(tp -> s.targetReplicas(tp).size()).max().orElse(0);
            if (needed > remaining) {
                return CompletableFuture.completedFuture(reply(ControllerReply.Status.STATUS_REJECTED, "node "
                        + nodeId + " holds replicas of partitions with " + needed + " replicas, but only " + remaining
                        + " other nodes take replicas; add a node first"));
            }
        }
        if (membership == NodeRecord.Membership.DECOMMISSIONING && !known.placeable() && !known.removed()) {
            return CompletableFuture.completedFuture(accepted()); // already on its way out, or out
        }
        if (membership == NodeRecord.Membership.REMOVED && !known.removed()) {
            if (known.membership() != NodeRecord.Membership.DECOMMISSIONED || known.isUp()) {
                return CompletableFuture.completedFuture(reply(ControllerReply.Status.STATUS_REJECTED, "node "
                        + nodeId + " is " + known.membership() + " and " + known.state() + "; decommission it, "
                        + "stop it (the controller marks it DOWN after node.session.timeout.ms), then remove it"));
            }
            LOGGER.info("Node {}: removing it from the cluster", nodeId);
            return metadataGroup.removeListener(nodeId)
                    .thenCompose(v -> commitChecked(new MetadataCommand.SetNodeMembership(nodeId, membership)))
                    .exceptionally(x -> reply(ControllerReply.Status.STATUS_REJECTED, "removing node " + nodeId
                            + " from the metadata group failed: " + rootMessage(x)));
        }
        LOGGER.info("Node {}: {} requested (was {})", nodeId, membership, known.membership());
        return commitChecked(new MetadataCommand.SetNodeMembership(nodeId, membership));
    }

    /**
     * Reserves a node id for a node that starts with {@code node.id=-1}: at least {@code minNodeId} (the node's
     * {@code reserved.broker.max.id} + 1) and above every id in {@code cluster.nodes}, reserved before or in metadata
     * ({@link MetadataCommand.ReserveNodeId}); answered with the cluster id and the controllers. The reservation is
     * not a member: nothing is placed on it and nothing watches it until the node registers with the id. A node
     * configured for another cluster is refused.
     */
    CompletableFuture<AllocateNodeIdReply> allocateNodeId(String clusterId, int minNodeId) {
        ControllerReply refused = refusal(clockMs.getAsLong());
        if (refused != null) {
            return CompletableFuture.completedFuture(AllocateNodeIdReply.newBuilder().setResult(refused).build());
        }
        if (!clusterId.isEmpty() && !clusterId.equals(config.clusterId())) {
            return CompletableFuture.completedFuture(AllocateNodeIdReply.newBuilder().setResult(
                    reply(ControllerReply.Status.STATUS_REJECTED, "the node is configured for cluster " + clusterId
                            + ", this is cluster " + config.clusterId())).build());
        }
        int floor = minNodeId;
        for (ClusterMember m : config.members()) {
            floor = Math.max(floor, m.id() + 1);
        }
        return submit.apply(new MetadataCommand.ReserveNodeId(floor)).handle((r, e) -> {
            if (e != null || !r.isOk()) {
                return AllocateNodeIdReply.newBuilder().setResult(reply(ControllerReply.Status.STATUS_REJECTED,
                        "metadata write failed: " + (e != null ? rootMessage(e) : r.message()))).build();
            }
            LOGGER.info("Node id {} reserved for a joining node", r.value());
            return AllocateNodeIdReply.newBuilder().setResult(accepted()).setNodeId((int) r.value())
                    .setClusterId(config.clusterId()).addAllControllerIds(config.controllerIds()).build();
        });
    }

    CompletableFuture<ControllerReply> heartbeat(HeartbeatRequest request) {
        long now = clockMs.getAsLong();
        ControllerReply refused = refusal(now);
        if (refused != null) {
            return CompletableFuture.completedFuture(refused);
        }
        NodeRecord record = state.get().node(request.getNodeId()).orElse(null);
        if (record == null || record.incarnation() != request.getIncarnation()) {
            return CompletableFuture.completedFuture(reply(ControllerReply.Status.STATUS_REGISTRATION_REQUIRED,
                    "no registration of node " + request.getNodeId() + " with incarnation "
                            + request.getIncarnation()));
        }
        heard(record.id(), now);
        if (record.isUp()) {
            return CompletableFuture.completedFuture(accepted());
        }
        LOGGER.info("Node {} heartbeats again; marking it UP", record.id());
        return commit(new MetadataCommand.SetNodeState(record.id(), record.incarnation(), NodeState.UP));
    }

    private CompletableFuture<ControllerReply> commit(MetadataCommand command) {
        return submit.apply(command).handle((r, e) -> e == null ? accepted()
                : reply(ControllerReply.Status.STATUS_REJECTED, "metadata write failed: " + rootMessage(e)));
    }

    /** As {@link #commit}, but a command the state machine refused is REJECTED with its reason. */
    private CompletableFuture<ControllerReply> commitChecked(MetadataCommand command) {
        return submit.apply(command).handle((r, e) -> e != null
                ? reply(ControllerReply.Status.STATUS_REJECTED, "metadata write failed: " + rootMessage(e))
                : !r.isOk() ? reply(ControllerReply.Status.STATUS_REJECTED, r.message()) : accepted());
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && (t instanceof java.util.concurrent.CompletionException)) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** Every configured (or registered) node with its state; heartbeat ages only while this node is the leader. */
    DescribeNodesReply describe() {
        long now = clockMs.getAsLong();
        boolean leader = syncTerm(now) >= 0;
        ClusterState s = state.get();
        Set<Integer> ids = members.ids();
        Map<Integer, Integer> replicaCounts = new HashMap<>();
        Map<Integer, Integer> leaderCounts = new HashMap<>();
        for (TopicRecord t : s.topics().values()) {
            for (int p = 0; p < t.partitions(); p++) {
                TopicPartition tp = new TopicPartition(t.name(), p);
                s.replicas(tp).forEach(id -> replicaCounts.merge(id, 1, Integer::sum));
                s.leader(tp).ifPresent(l -> leaderCounts.merge(l.leader(), 1, Integer::sum));
            }
        }
        DescribeNodesReply.Builder out = DescribeNodesReply.newBuilder()
                .setControllerId(leadership.leaderId()).setMetadataEpoch(s.version()).setAnsweredBy(config.nodeId());
        for (int id : ids) {
            NodeRecord record = s.node(id).orElse(null);
            ClusterMember member = config.member(id);
            NodeInfo.Builder info = NodeInfo.newBuilder().setNodeId(id)
                    .setController(config.controllerIds().contains(id))
                    .setLastHeartbeatAgeMs(leader ? ageMs(id, now) : -1)
                    .setRack(record == null ? "" : record.rack())
                    .setMembership(membership(record))
                    .setReplicaCount(replicaCounts.getOrDefault(id, 0))
                    .setLeaderCount(leaderCounts.getOrDefault(id, 0));
            if (record != null && record.incarnation() != NodeRecord.NEVER_REGISTERED) {
                info.setEndpoint(NodeEndpoint.newBuilder().setHost(record.host()).setKafkaPort(record.kafkaPort())
                        .setRaftPort(record.raftPort()).setHttpPort(record.httpPort())
                        .setControlPort(record.controlPort()))
                        .setIncarnation(record.incarnation()).setVersion(record.version());
            } else if (member != null) {
                info.setEndpoint(NodeEndpoint.newBuilder().setHost(member.host()).setKafkaPort(member.kafkaPort())
                        .setRaftPort(member.raftPort()).setHttpPort(member.httpPort())
                        .setControlPort(member.controlPort()));
            }
            info.setState(record == null ? io.fluxmq.control.v1.NodeState.NODE_STATE_UNKNOWN
                    : record.isUp() ? io.fluxmq.control.v1.NodeState.NODE_STATE_UP
                    : io.fluxmq.control.v1.NodeState.NODE_STATE_DOWN);
            out.addNodes(info);
        }
        return out.build();
    }

    private static NodeMembership membership(NodeRecord record) {
        if (record == null) {
            return NodeMembership.NODE_MEMBERSHIP_ACTIVE;
        }
        return switch (record.membership()) {
            case ACTIVE -> NodeMembership.NODE_MEMBERSHIP_ACTIVE;
            case DECOMMISSIONING -> NodeMembership.NODE_MEMBERSHIP_DECOMMISSIONING;
            case DECOMMISSIONED -> NodeMembership.NODE_MEMBERSHIP_DECOMMISSIONED;
            case REMOVED -> NodeMembership.NODE_MEMBERSHIP_REMOVED;
        };
    }

    /** Milliseconds since the node was last heard, or -1 if never; 0 when it was heard after {@code now} was read. */
    private synchronized long ageMs(int id, long now) {
        Long heard = lastHeardMs.get(id);
        return heard == null ? -1 : Math.max(0, now - heard);
    }

    private ControllerReply accepted() {
        return reply(ControllerReply.Status.STATUS_ACCEPTED, "");
    }

    ControllerReply notController() {
        return reply(ControllerReply.Status.STATUS_NOT_CONTROLLER, "node " + config.nodeId()
                + " is not the metadata controller leader");
    }

    private ControllerReply reply(ControllerReply.Status status, String message) {
        int leader = leadership.leaderId();
        ClusterMember m = leader < 0 ? null : members.member(leader);
        return ControllerReply.newBuilder().setStatus(status).setMetadataEpoch(state.get().version())
                .setControllerId(leader).setControllerAddress(m == null ? "" : m.controlAddress())
                .setMessage(message).build();
    }
}
