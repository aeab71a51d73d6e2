package io.fluxmq.raftcore.engine;

import java.util.List;

/**
 * Carries batches of group messages between nodes: one batch per node pair and event-loop pass, holding the messages
 * of every group that has something for that node. An empty batch is the node-level heartbeat the failure detector
 * listens for. Implementations deliver a node's batches to the peer's {@link RaftEngine#receive} in the order sent
 * (one ordered connection per node pair) and may drop them when the peer is unreachable.
 */
public interface Transport {

    /** Sends a batch; must not block the caller (an event-loop thread). */
    void send(int toNode, List<GroupMessage> batch);
}
