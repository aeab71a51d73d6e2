package io.fluxmq.node;

import io.fluxmq.control.v1.ControllerReply;
import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeEndpoint;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.RegisterRequest;
import io.fluxmq.control.v1.HeartbeatRequest;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.NodeRecord;
import io.fluxmq.raft.metadata.NodeRecord.NodeState;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
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

    private final NodeConfig config;
    private final Leadership leadership;
    private final Supplier<ClusterState> state;
    private final Function<MetadataCommand, CompletableFuture<MetadataReply>> submit;
    private final LongSupplier clockMs;
    private final long sessionTimeoutMs;
    private final Map<Integer, Long> lastHeardMs = new HashMap<>();
    private final Set<Integer> pendingDown = new HashSet<>();
    private long trackedTerm = -1;
    private long lastCheckMs = Long.MIN_VALUE;

    NodeController(NodeConfig config, Leadership leadership, Supplier<ClusterState> state,
                   Function<MetadataCommand, CompletableFuture<MetadataReply>> submit, LongSupplier clockMs) {
        this.config = config;
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
        for (ClusterMember m : config.members()) {
            lastHeardMs.put(m.id(), now);
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
        for (ClusterMember m : config.members()) {
            if (m.id() == config.nodeId()) {
                continue;
            }
            NodeRecord record = s.node(m.id()).orElse(null);
            long incarnation = record == null ? NodeRecord.NEVER_REGISTERED : record.incarnation();
            long silentMs;
            synchronized (this) {
                silentMs = now - lastHeardMs.getOrDefault(m.id(), now);
                if (silentMs <= sessionTimeoutMs || (record != null && !record.isUp()) || !pendingDown.add(m.id())) {
                    continue;
                }
            }
            LOGGER.warn("Node {} sent no heartbeat for {} ms (session timeout {} ms); marking it DOWN", m.id(),
                    silentMs, sessionTimeoutMs);
            submit.apply(new MetadataCommand.SetNodeState(m.id(), incarnation, NodeState.DOWN))
                    .whenComplete((r, e) -> {
                        synchronized (this) {
                            pendingDown.remove(m.id());
                        }
                        if (e != null) {
                            LOGGER.info("Could not mark node {} DOWN: {}", m.id(), e.toString());
                        }
                    });
        }
    }

    /** The answer to a request that this controller must not serve (not the leader, unknown node), or null. */
    private ControllerReply refusal(int nodeId, long now) {
        if (syncTerm(now) < 0) {
            return notController();
        }
        if (config.member(nodeId) == null) {
            return reply(ControllerReply.Status.STATUS_REJECTED, "node " + nodeId + " is not in cluster.nodes");
        }
        return null;
    }

    CompletableFuture<ControllerReply> register(RegisterRequest request) {
        long now = clockMs.getAsLong();
        ControllerReply refused = refusal(request.getNodeId(), now);
        if (refused != null) {
            return CompletableFuture.completedFuture(refused);
        }
        NodeEndpoint e = request.getEndpoint();
        NodeRecord record = new NodeRecord(request.getNodeId(), e.getHost(), e.getKafkaPort(), e.getRaftPort(),
                e.getHttpPort(), e.getControlPort(), request.getVersion(), request.getIncarnation(), NodeState.UP);
        heard(record.id(), now);
        if (state.get().node(record.id()).filter(record::equals).isPresent()) {
            return CompletableFuture.completedFuture(accepted());
        }
        return commit(new MetadataCommand.RegisterNode(record));
    }

    CompletableFuture<ControllerReply> heartbeat(HeartbeatRequest request) {
        long now = clockMs.getAsLong();
        ControllerReply refused = refusal(request.getNodeId(), now);
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
        Set<Integer> ids = new TreeSet<>(s.nodes().keySet());
        config.members().forEach(m -> ids.add(m.id()));
        DescribeNodesReply.Builder out = DescribeNodesReply.newBuilder()
                .setControllerId(leadership.leaderId()).setMetadataEpoch(s.version()).setAnsweredBy(config.nodeId());
        for (int id : ids) {
            NodeRecord record = s.node(id).orElse(null);
            ClusterMember member = config.member(id);
            NodeInfo.Builder info = NodeInfo.newBuilder().setNodeId(id)
                    .setController(config.controllerIds().contains(id))
                    .setLastHeartbeatAgeMs(leader ? ageMs(id, now) : -1);
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
        ClusterMember m = leader < 0 ? null : config.member(leader);
        return ControllerReply.newBuilder().setStatus(status).setMetadataEpoch(state.get().version())
                .setControllerId(leader).setControllerAddress(m == null ? "" : m.controlAddress())
                .setMessage(message).build();
    }
}
