package io.fluxmq.raftcore.engine;

import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.RaftLog;
import java.util.List;

/**
 * Makes what Raft asked for durable, for many groups at once: the driver collects every group's {@code Ready} of an
 * event-loop pass and calls {@link #persist} once, so one force of the node's storage serves them all (group commit).
 */
public interface GroupStorage {

    /** One group's part: write {@code hardState} if not null and force {@code log} below {@code persistEnd}. */
    record Persist(long groupId, RaftLog log, HardState hardState, long persistEnd) {
    }

    /** Returns once everything asked is durable. Called on an event-loop thread. */
    void persist(List<Persist> requests);

    /** Storage that forgets everything on a crash: for tests of the driver that do not crash. */
    GroupStorage VOLATILE = requests -> {
    };
}
