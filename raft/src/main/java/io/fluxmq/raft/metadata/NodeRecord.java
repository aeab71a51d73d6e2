package io.fluxmq.raft.metadata;

/**
 * A node as the metadata group knows it: the endpoint and version it registered with, the incarnation (start time)
 * of the process that registered, and whether the controller considers it UP or DOWN. A node the controller declared
 * DOWN before it ever registered has an empty host, ports 0 and incarnation {@link #NEVER_REGISTERED}. Immutable.
 */
public record NodeRecord(int id, String host, int kafkaPort, int raftPort, int httpPort, int controlPort,
                         String version, long incarnation, NodeState state) {
    public static final long NEVER_REGISTERED = -1;

    public enum NodeState { UP, DOWN }

    static NodeRecord neverRegistered(int id) {
        return new NodeRecord(id, "", 0, 0, 0, 0, "", NEVER_REGISTERED, NodeState.DOWN);
    }

    public boolean isUp() {
        return state == NodeState.UP;
    }

    NodeRecord withState(NodeState next) {
        return new NodeRecord(id, host, kafkaPort, raftPort, httpPort, controlPort, version, incarnation, next);
    }
}
