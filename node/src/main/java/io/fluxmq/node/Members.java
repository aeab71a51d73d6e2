package io.fluxmq.node;

import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.NodeRecord;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Who the cluster's members are and where they listen. The cluster metadata comes first: every node that ever
 * registered has a {@link NodeRecord} with the addresses it registered (raft, control, HTTP, Kafka) and its rack, which
 * every node's metadata copy holds; {@code cluster.nodes} only seeds this: it gives the addresses of nodes that have not
 * registered yet (at the first start of a cluster, and the controllers a joining node must reach). So a node that
 * joins a running cluster with {@code cluster.nodes} naming only some members plus itself is known to every node once
 * it registered, and nodes learn a changed address from its next registration. Thread-safe (reads the latest
 * published metadata).
 */
final class Members {
    private final NodeConfig config;
    private final Supplier<ClusterState> state;

    Members(NodeConfig config, Supplier<ClusterState> state) {
        this.config = config;
        this.state = state;
    }

    /**
     * The ids of every member: those in {@code cluster.nodes} and those with a metadata record, except nodes that were
     * removed (their record stays as a tombstone).
     */
    Set<Integer> ids() {
        Map<Integer, NodeRecord> nodes = state.get().nodes();
        Set<Integer> ids = new TreeSet<>(nodes.keySet());
        config.members().forEach(m -> ids.add(m.id()));
        ids.removeIf(id -> nodes.containsKey(id) && nodes.get(id).removed());
        return ids;
    }

    /**
     * The addresses of node {@code id}: its registration, else its {@code cluster.nodes} entry; null for an unknown or
     * removed node.
     */
    ClusterMember member(int id) {
        NodeRecord r = state.get().nodes().get(id);
        if (r != null && r.removed()) {
            return null;
        }
        if (r != null && r.registered()) {
            return new ClusterMember(id, r.host(), r.kafkaPort(), r.raftPort(), r.httpPort(), r.controlPort());
        }
        return config.member(id);
    }

    /**
     * The nodes placement may put replicas on, with their racks (empty for none): every member except those
     * DECOMMISSIONING or DECOMMISSIONED.
     */
    Map<Integer, String> placeable() {
        ClusterState s = state.get();
        Map<Integer, String> out = new TreeMap<>();
        for (int id : ids()) {
            NodeRecord r = s.nodes().get(id);
            if (r == null || r.placeable()) {
                out.put(id, r == null ? "" : r.rack());
            }
        }
        return out;
    }

    /** The rack node {@code id} registered with; null when it has none or is unknown. */
    String rack(int id) {
        NodeRecord r = state.get().nodes().get(id);
        return r == null || r.rack().isEmpty() ? null : r.rack();
    }
}
