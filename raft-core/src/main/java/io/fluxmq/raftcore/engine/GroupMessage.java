package io.fluxmq.raftcore.engine;

import io.fluxmq.raftcore.Message;

/** A Raft message of one group, as it travels between nodes inside a batch for that node pair. */
public record GroupMessage(long groupId, Message message) {
}
