package io.fluxmq.raftcore.engine;

/**
 * Settings of a node's Raft engine.
 *
 * @param nodeId          this node (its member id in every group it hosts)
 * @param eventLoops      threads that run all groups (groups are spread over them by id); the node's thread count does
 *                        not grow with its groups
 * @param nodeHeartbeatMs how often a node tells each peer it is alive when it has sent it nothing else
 * @param nodeTimeoutMs   a peer heard nothing from for this long is reported down to every group (quiet groups rely
 *                        on it to elect a new leader)
 */
public record EngineConfig(int nodeId, int eventLoops, long nodeHeartbeatMs, long nodeTimeoutMs) {

    public static final long NODE_HEARTBEAT_MS_DEFAULT = 100;
    public static final long NODE_TIMEOUT_MS_DEFAULT = 400;

    public EngineConfig {
        if (eventLoops < 1) {
            throw new IllegalArgumentException("eventLoops must be at least 1");
        }
        if (nodeHeartbeatMs <= 0 || nodeTimeoutMs <= nodeHeartbeatMs) {
            throw new IllegalArgumentException("node timeout " + nodeTimeoutMs
                    + " ms must exceed the node heartbeat " + nodeHeartbeatMs + " ms (> 0)");
        }
    }

    public static EngineConfig of(int nodeId) {
        return new EngineConfig(nodeId, Runtime.getRuntime().availableProcessors(), NODE_HEARTBEAT_MS_DEFAULT,
                NODE_TIMEOUT_MS_DEFAULT);
    }
}
