package io.fluxmq.raftcore.engine;

import io.fluxmq.raftcore.RaftLog;

/** Told on the group's event-loop thread when entries of a group become committed. */
@FunctionalInterface
public interface CommitListener {

    /** Entries in {@code [fromOffset, toOffset)} of {@code log} are committed. */
    void committed(long groupId, RaftLog log, long fromOffset, long toOffset);

    CommitListener NONE = (groupId, log, fromOffset, toOffset) -> {
    };
}
