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
 * after another on the calling loop thread. With one ({@link #FileGroupStorage(HardStateFile, Executor)}), the event
 * loops call {@link #persistAsync}: the hard states are written on the loop thread, and each log's force runs on the
 * executor with its own future, so the loop goes on with other groups (a vote, a new leader's first entry) while the
 * device serves the forces side by side. The loop touches no group whose force is in flight, so a log is never touched
 * by two threads at once.
 *
 * <p>With a {@link WriteAheadLog} ({@link #FileGroupStorage(HardStateFile, Executor, WriteAheadLog)}) the logs are not
 * forced by the pass at all: what each group of the pass appended (and a truncation below what was logged) is copied
 * into one batch of records, and the write-ahead log's single force makes the whole batch durable, whatever the number
 * of logs; the logs themselves are forced later by its checkpoints.
 *
 * <p>Failures: an I/O error is thrown as {@link UncheckedIOException} (or fails that log's future); the engine then
 * stops the groups concerned without advancing them (a failed fsync may have dropped pages, so nothing they hold may be
 * acknowledged): every group of the pass for a failed hard-state write, the group of the log for a failed force. A
 * failed hard-state write also fails every later write ({@link HardStateFile#write}): the node must reopen from disk.
 *
 * <p>Thread-safe: several event loops may call {@link #persist} at once for different groups (the hard-state file
 * shares their writes); a log is forced only for the loop that drives it.
 */
public final class FileGroupStorage implements GroupStorage {

    private final HardStateFile hardStates;
    private final Executor forces;
    private final WriteAheadLog wal;

    /** Forces run on the calling loop thread, one after another. */
    public FileGroupStorage(HardStateFile hardStates) {
        this(hardStates, null);
    }

    /** Forces run on {@code forces} (a few I/O threads per node), side by side; {@link #persist} waits for them. */
    public FileGroupStorage(HardStateFile hardStates, Executor forces) {
        this(hardStates, forces, null);
    }

    /**
     * With {@code wal}, logs are not forced one by one: what a pass appended to them is copied into the node's
     * write-ahead log, and one force of it makes the whole pass durable ({@link #persistAsync}). The logs must have
     * been attached to it ({@link SegmentRaftLog#attachWal}).
     */
    public FileGroupStorage(HardStateFile hardStates, Executor forces, WriteAheadLog wal) {
        this.hardStates = hardStates;
        this.forces = forces;
        this.wal = wal;
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
        if (forces != null || wal != null) {
            awaitAll(persistAsync(requests));
            return;
        }
        List<Persist> toForce = writeHardStates(requests);
        try {
            for (Persist request : toForce) {
                ((SegmentRaftLog) request.log()).force(request.persistEnd());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("persisting Raft state failed; the pass's groups must stop", e);
        }
    }

    /** Waits for every force, failed or not (none may still touch a log after), then throws the first failure. */
    private static void awaitAll(List<CompletableFuture<Void>> forces) {
        RuntimeException failure = null;
        for (CompletableFuture<Void> force : forces) {
            try {
                force.join();
            } catch (CompletionException e) {
                RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : e;
                if (failure == null) {
                    failure = cause;
                } else {
                    failure.addSuppressed(cause);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * With an executor: writes the hard states on the calling thread, then forces each log that needs it on the
     * executor, each request's future completing when its own log is durable (with {@link UncheckedIOException} if its
     * force failed: that group alone stops, since a failed msync of one file says nothing of the others). Without one,
     * as {@link #persist}. A log written again while its force runs is forced again once that one is done (its group
     * is not advanced, so it asks for nothing meanwhile): under load each log's forces follow one another back to back,
     * each covering what was appended while the last one ran.
     */
    @Override
    public List<CompletableFuture<Void>> persistAsync(List<Persist> requests) {
        if (wal != null) {
            return logAsync(requests);
        }
        if (forces == null) {
            return GroupStorage.super.persistAsync(requests);
        }
        writeHardStates(requests);
        List<CompletableFuture<Void>> durable = new ArrayList<>(requests.size());
        for (Persist request : requests) {
            SegmentRaftLog log = (SegmentRaftLog) request.log();
            long end = request.persistEnd();
            if (!log.needsForce(end)) {
                durable.add(DURABLE);
                continue;
            }
            durable.add(CompletableFuture.runAsync(() -> {
                try {
                    log.force(end);
                } catch (IOException e) {
                    throw new UncheckedIOException("forcing the log of group " + request.groupId() + " failed", e);
                }
            }, forces));
        }
        return durable;
    }

    /**
     * With the write-ahead log: writes the hard states on the calling thread, then copies what each log lacks in the
     * write-ahead log into one batch of records; every request that added records gets the batch's future, the others
     * are durable already. A failed write of the batch fails every group in it (it is one write).
     */
    private List<CompletableFuture<Void>> logAsync(List<Persist> requests) {
        writeHardStates(requests);
        WriteAheadLog.Batch batch = new WriteAheadLog.Batch();
        boolean[] logged = new boolean[requests.size()];
        for (int i = 0; i < requests.size(); i++) {
            Persist request = requests.get(i);
            SegmentRaftLog log = (SegmentRaftLog) request.log();
            if (log.needsLogging(request.persistEnd())) {
                log.logTo(batch, request.persistEnd());
                logged[i] = true;
            }
        }
        if (batch.isEmpty()) {
            return java.util.Collections.nCopies(requests.size(), DURABLE);
        }
        CompletableFuture<Void> durable = wal.submit(batch);
        List<CompletableFuture<Void>> futures = new ArrayList<>(requests.size());
        for (boolean l : logged) {
            futures.add(l ? durable : DURABLE);
        }
        return futures;
    }

    /** Checks the requests, writes their changed hard states durably, and returns those whose log needs a force. */
    private List<Persist> writeHardStates(List<Persist> requests) {
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
            if (wal == null && log.needsForce(request.persistEnd())) {
                toForce.add(request);
            }
        }
        try {
            hardStates.write(changed);
        } catch (IOException e) {
            throw new UncheckedIOException("persisting Raft state failed; the pass's groups must stop", e);
        }
        return toForce;
    }
}
