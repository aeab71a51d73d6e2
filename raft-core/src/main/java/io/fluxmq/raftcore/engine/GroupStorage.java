package io.fluxmq.raftcore.engine;

import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.RaftLog;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

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

    /**
     * Makes the hard states durable before it returns and the logs durable in the background: one future per request,
     * in their order, completing once that group's part is durable (or failing with what went wrong for that group's
     * log alone). So a group that only changed its hard state (a vote, a new term) goes on at once, and one whose log is
     * being forced does not hold back the others of the pass. Throws if the hard states could not be written: nothing
     * of the pass is durable then. Called on an event-loop thread; the default does everything before returning.
     */
    default List<CompletableFuture<Void>> persistAsync(List<Persist> requests) {
        persist(requests);
        return Collections.nCopies(requests.size(), DURABLE);
    }

    /** The future of a part that was durable before {@link #persistAsync} returned. */
    CompletableFuture<Void> DURABLE = CompletableFuture.completedFuture(null);

    /** Storage that forgets everything on a crash: for tests of the driver that do not crash. */
    GroupStorage VOLATILE = requests -> {
    };
}
