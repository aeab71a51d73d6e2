package io.fluxmq.raftcore.engine;

import io.fluxmq.raftcore.RaftGroup;
import io.fluxmq.raftcore.RaftLog;
import io.fluxmq.raftcore.Snapshot;
import java.util.Set;

/** Told on the group's event-loop thread when entries of a group become committed. */
@FunctionalInterface
public interface CommitListener {

    /** Entries in {@code [fromOffset, toOffset)} of {@code log} are committed. */
    void committed(long groupId, RaftLog log, long fromOffset, long toOffset);

    /**
     * The group's log was replaced by a snapshot from the leader (it lacked entries the leader no longer holds): the
     * owner's state is now {@code snapshot.data()} as of {@code snapshot.offset()}, and entries committed after it
     * follow through {@link #committed}. The default does nothing, for owners that keep no state of their own.
     */
    default void snapshotInstalled(long groupId, RaftLog log, Snapshot snapshot) {
    }

    /**
     * This member's view of the group changed: its role, its term or the leader it knows ({@link RaftGroup#NO_LEADER}
     * when none). Told once when the group starts on this node, then after every loop pass that changed one of them,
     * before the pass's {@link #committed} call.
     */
    default void roleChanged(long groupId, RaftGroup.Role role, long term, int leader) {
    }

    /**
     * The group's latest committed configuration names {@code voters} (told once when the group starts on this node,
     * then after every loop pass that committed a configuration change, after that pass's {@link #committed} call):
     * what a restart may record as the group's members.
     */
    default void votersCommitted(long groupId, Set<Integer> voters) {
    }

    CommitListener NONE = (groupId, log, fromOffset, toOffset) -> {
    };
}
