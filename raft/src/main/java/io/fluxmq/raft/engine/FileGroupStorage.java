package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.RaftLog;
import io.fluxmq.raftcore.engine.GroupStorage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * The durable {@link GroupStorage} of a node: Raft logs are {@link SegmentRaftLog}s (the partitions' segment logs),
 * hard states live in the node's {@link HardStateFile}.
 *
 * <p>One {@link #persist} call (an event-loop pass) first writes every changed hard state with one durable write of
 * the hard-state file, then forces each listed log up to its persist end ({@link SegmentRaftLog#force}: nothing when
 * it is already on disk, else an msync of the active segment's new bytes and, after a roll or truncation, a directory
 * fsync), and returns when all of it is durable. Hard states go first so a log never holds an entry of a term its
 * member's durable hard state has not reached; {@link #initialHardState} checks that on start-up.
 *
 * <p>Each log is its own file, so a pass with new entries in N logs costs N msyncs. Without an executor they run one
 * after another on the calling loop thread; with one ({@link #FileGroupStorage(HardStateFile, Executor)}) they run
 * side by side on it (the loop thread takes one itself) and the device can serve them together. The loop thread waits
 * for all of them, so a log is never touched by two threads at once.
 *
 * <p>Failures: an I/O error is thrown as {@link UncheckedIOException}; the engine then stops the groups of that pass
 * without advancing them (a failed fsync may have dropped pages, so nothing of the pass may be acknowledged). A failed
 * hard-state write also fails every later write ({@link HardStateFile#write}): the node must reopen from disk.
 *
 * <p>Thread-safe: several event loops may call {@link #persist} at once for different groups (the hard-state file
 * shares their writes); a log is forced only for the loop that drives it.
 */
public final class FileGroupStorage implements GroupStorage {

    private final HardStateFile hardStates;
    private final Executor forces;

    /** Forces run on the calling loop thread, one after another. */
    public FileGroupStorage(HardStateFile hardStates) {
        this(hardStates, null);
    }

    /** Forces of a pass beyond the first run on {@code forces} (a few I/O threads per node), side by side. */
    public FileGroupStorage(HardStateFile hardStates, Executor forces) {
        this.hardStates = hardStates;
        this.forces = forces;
    }

    /**
     * The hard state to start a group from, checked against its log: a durable term below the log's last term means
     * the hard-state file lost writes (or belongs to another node), which could let this member vote twice in a term.
     */
    public HardState initialHardState(long groupId, RaftLog log) {
        HardState state = hardStates.get(groupId);
        if (state.term() < log.lastTerm()) {
            throw new IllegalStateException("group " + groupId + ": hard state " + state + " in "
                + hardStates.path() + " is behind its log's last term " + log.lastTerm());
        }
        return state;
    }

    @Override
    public void persist(List<Persist> requests) {
        Map<Long, HardState> changed = new HashMap<>();
        List<Persist> toForce = new ArrayList<>();
        for (Persist request : requests) {
            if (!(request.log() instanceof SegmentRaftLog log)) {
                throw new IllegalArgumentException("group " + request.groupId() + " has a "
                    + request.log().getClass().getSimpleName() + ", not a SegmentRaftLog");
            }
            if (request.hardState() != null) {
                changed.put(request.groupId(), request.hardState());
            }
            if (log.needsForce(request.persistEnd())) {
                toForce.add(request);
            }
        }
        try {
            hardStates.write(changed);
            if (forces == null || toForce.size() < 2) {
                for (Persist request : toForce) {
                    ((SegmentRaftLog) request.log()).force(request.persistEnd());
                }
            } else {
                forceTogether(toForce);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("persisting Raft state failed; the pass's groups must stop", e);
        }
    }

    private void forceTogether(List<Persist> toForce) throws IOException {
        List<CompletableFuture<Void>> running = new ArrayList<>(toForce.size() - 1);
        for (Persist request : toForce.subList(1, toForce.size())) {
            running.add(CompletableFuture.runAsync(() -> {
                try {
                    ((SegmentRaftLog) request.log()).force(request.persistEnd());
                } catch (IOException e) {
                    throw new CompletionException(e);
                }
            }, forces));
        }
        IOException failure = null;
        try {
            Persist first = toForce.get(0);
            ((SegmentRaftLog) first.log()).force(first.persistEnd());
        } catch (IOException e) {
            failure = e;
        }
        // Wait for every force, failed or not (uninterruptibly): none may still touch a log when the loop moves on.
        for (CompletableFuture<Void> force : running) {
            try {
                force.join();
            } catch (CompletionException e) {
                Throwable cause = e.getCause();
                IOException io = cause instanceof IOException ? (IOException) cause : new IOException(cause);
                if (failure == null) {
                    failure = io;
                } else {
                    failure.addSuppressed(io);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
