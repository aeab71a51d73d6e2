package io.fluxmq.raft.metadata;

/**
 * A node as the metadata group knows it: the endpoint and version it registered with, its rack ({@code broker.rack},
 * empty for none), the incarnation (start time) of the process that registered, whether the controller considers it
 * UP or DOWN, and its {@link Membership} (whether placement may use it). A node the controller declared DOWN before it
 * ever registered has an empty host, ports 0 and incarnation {@link #NEVER_REGISTERED}. Immutable.
 */
public record NodeRecord(int id, String host, int kafkaPort, int raftPort, int httpPort, int controlPort,
                         String version, long incarnation, NodeState state, String rack, Membership membership) {
    public static final long NEVER_REGISTERED = -1;

    /** Liveness, as the controller sees it from heartbeats. */
    public enum NodeState { UP, DOWN }

    /**
     * Whether the node takes replicas. ACTIVE: placement may pick it. DECOMMISSIONING: the controller moves every
     * replica off it (and placement never picks it). DECOMMISSIONED: it holds no replica and placement never picks it;
     * {@code recommission} makes it ACTIVE again. REMOVED: a DECOMMISSIONED node that was stopped and removed; its
     * record stays as a tombstone, so its id is no member even where a {@code cluster.nodes} still names it, and it
     * cannot register again. Encoded as its ordinal (0, 1, 2, 3).
     */
    public enum Membership { ACTIVE, DECOMMISSIONING, DECOMMISSIONED, REMOVED }

    public NodeRecord {
        rack = rack == null ? "" : rack;
        membership = membership == null ? Membership.ACTIVE : membership;
    }

    /** An ACTIVE node without a rack. */
    public NodeRecord(int id, String host, int kafkaPort, int raftPort, int httpPort, int controlPort, String version,
                      long incarnation, NodeState state) {
        this(id, host, kafkaPort, raftPort, httpPort, controlPort, version, incarnation, state, "", Membership.ACTIVE);
    }

    static NodeRecord neverRegistered(int id) {
        return new NodeRecord(id, "", 0, 0, 0, 0, "", NEVER_REGISTERED, NodeState.DOWN);
    }

    public boolean isUp() {
        return state == NodeState.UP;
    }

    public boolean registered() {
        return incarnation != NEVER_REGISTERED;
    }

    /** Whether placement (new topics, partitions, decommission targets) may put replicas on this node. */
    public boolean placeable() {
        return membership == Membership.ACTIVE;
    }

    public boolean removed() {
        return membership == Membership.REMOVED;
    }

    /** Whether this record carries anything older builds do not know (a rack, a membership other than ACTIVE). */
    boolean extended() {
        return !rack.isEmpty() || membership != Membership.ACTIVE;
    }

    NodeRecord withState(NodeState next) {
        return new NodeRecord(id, host, kafkaPort, raftPort, httpPort, controlPort, version, incarnation, next, rack,
                membership);
    }

    NodeRecord withMembership(Membership next) {
        return new NodeRecord(id, host, kafkaPort, raftPort, httpPort, controlPort, version, incarnation, state, rack,
                next);
    }
}
