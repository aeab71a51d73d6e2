package io.fluxmq.raftcore.engine;

import io.fluxmq.raftcore.Message;
import io.fluxmq.raftcore.Ready;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * One thread running many groups. Each pass: run the queued tasks (messages, proposals, failure-detector reports),
 * tick the groups whose timer is due (a quiet group has none), then for every group touched collect its {@code Ready},
 * send what may go at once (before the force, so followers write while the leader forces), hand the pass's hard states
 * and logs to {@link GroupStorage#persistAsync} (the hard states are durable when it returns, each log's force runs in
 * the background), advance every group whose part is durable, send the released votes and acknowledgements, tell
 * listeners what was committed, and hand each peer node one batch with the messages of all groups. The thread parks
 * when there is nothing to do until a task or the next timer.
 *
 * <p>A group whose log is still being forced is <em>persisting</em>: nothing touches its Raft state or log until the
 * force is done and the group advanced on this thread; whatever comes for it meanwhile (messages, proposals, ticks,
 * failure-detector reports) waits in its queue and runs right after ({@link #withGroup}). Every other group goes on: a
 * vote or a new leader's first entry does not wait behind the forces of the busy groups of the same loop.
 *
 * <p>Groups are touched only on this thread; other threads reach them through {@link #execute}.
 *
 * <p>Failures stay with the group they happened in: whatever a group's Raft state, log or listener throws stops that
 * group alone ({@link #fail}: removed, its proposals failed, the owner told through {@link GroupFailureListener}); a
 * failed force stops the group of that log, which is not advanced, so it promises nothing that is not durable; a failed
 * write of the hard states stops every group of the pass; an {@link Error} stops every group of the loop. The thread
 * itself survives anything short of {@link #stop}.
 */
final class EventLoop implements Runnable {

    private record Timer(long atMs, GroupState group) implements Comparable<Timer> {
        @Override
        public int compareTo(Timer other) {
            return Long.compare(atMs, other.atMs);
        }
    }

    private static final long MAX_PARK_MS = 100;
    private static final System.Logger LOGGER = System.getLogger(EventLoop.class.getName());

    private final int nodeId;
    private final GroupStorage storage;
    private final Transport transport;
    private final LongSupplier clockMs;
    private final GroupFailureListener failures;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Map<Long, GroupState> groups = new HashMap<>();
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private final List<GroupState> dirty = new ArrayList<>();
    private final Map<Integer, List<GroupMessage>> outgoing = new HashMap<>();
    /** Forces started and not yet seen done on this thread; {@link #stop} waits for them. */
    private final Set<CompletableFuture<Void>> forcing = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean running = true;
    /** The clock when the running task started (read once per task, not per message it carries). */
    private long taskStartMs;

    EventLoop(String name, int nodeId, GroupStorage storage, Transport transport, LongSupplier clockMs,
              GroupFailureListener failures) {
        this.nodeId = nodeId;
        this.failures = failures;
        this.storage = storage;
        this.transport = transport;
        this.clockMs = clockMs;
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void execute(Runnable task) {
        tasks.add(task);
        LockSupport.unpark(thread);
    }

    /** Stops the thread and waits (up to 10 s) for the forces it started: none may touch a log its owner closes next. */
    void stop() throws InterruptedException {
        running = false;
        LockSupport.unpark(thread);
        thread.join(TimeUnit.SECONDS.toMillis(10));
        try {
            CompletableFuture.allOf(forcing.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            // a failed force: its group is going away with the loop
        } catch (TimeoutException e) {
            LOGGER.log(System.Logger.Level.WARNING, "Raft event loop of node " + nodeId + " stopped with "
                    + forcing.size() + " forces still running");
        }
    }

    /**
     * Runs {@code action} on the group {@code groupId} once it is not persisting: now, or right after its force is done
     * (looked up again then); {@code absent} instead if it is not hosted here (any more). On this thread only.
     */
    void withGroup(long groupId, Consumer<GroupState> action, Runnable absent) {
        GroupState group = groups.get(groupId);
        if (group == null) {
            absent.run();
        } else if (group.persisting) {
            group.deferred.add(() -> withGroup(groupId, action, absent));
        } else {
            action.accept(group);
        }
    }

    // Called on the loop thread only (from tasks).

    /** The time the running task started: what it gives the groups it steps (a deferred part runs in a later task). */
    long taskStartMs() {
        return taskStartMs;
    }

    GroupState group(long groupId) {
        return groups.get(groupId);
    }

    void add(GroupState group) {
        groups.put(group.groupId, group);
        touch(group);
    }

    GroupState remove(long groupId) {
        return groups.remove(groupId);
    }

    /** A snapshot of the groups, so that an action may {@link #fail} one while the caller iterates. */
    List<GroupState> groups() {
        return new ArrayList<>(groups.values());
    }

    /**
     * Runs {@code action} on {@code group}; if it throws, the group stops ({@link #fail}) and false is returned.
     * Errors of the JVM (out of memory, ...) are not caught.
     */
    boolean guard(GroupState group, Runnable action) {
        try {
            action.run();
            return true;
        } catch (RuntimeException e) {
            fail(group, e);
            return false;
        }
    }

    /** Stops a group on this node: see the class comment. Does nothing if it is no longer hosted here. */
    void fail(GroupState group, Throwable cause) {
        if (groups.get(group.groupId) != group) {
            return;
        }
        groups.remove(group.groupId);
        LOGGER.log(System.Logger.Level.ERROR, "Raft group " + group.groupId + " stopped on node " + nodeId
                + ": " + cause, cause);
        try {
            queue(group.groupId, group.raft.abdicate()); // a leader hands over at once: quiet followers would wait
        } catch (RuntimeException e) {
            LOGGER.log(System.Logger.Level.WARNING, "group " + group.groupId + " could not hand over its leadership", e);
        }
        try {
            failures.failed(group.groupId, cause); // first, so whoever sees a proposal fail finds the group failed
        } catch (RuntimeException e) {
            LOGGER.log(System.Logger.Level.ERROR, "group failure listener threw for group " + group.groupId, e);
        }
        group.failAll(cause);
        runDeferred(group);
    }

    /** What waited for the group's force, in arrival order (each looks the group up again). */
    private void runDeferred(GroupState group) {
        Runnable next;
        while (!group.persisting && (next = group.deferred.poll()) != null) {
            try {
                next.run();
            } catch (RuntimeException e) {
                LOGGER.log(System.Logger.Level.ERROR, "Raft event loop task of node " + nodeId + " for group "
                        + group.groupId + " failed", e);
            }
        }
    }

    int size() {
        return groups.size();
    }

    /** The group has new input: look at its Ready in this pass. */
    void touch(GroupState group) {
        if (!group.dirty) {
            group.dirty = true;
            dirty.add(group);
        }
    }

    @Override
    public void run() {
        while (running) {
            try {
                pass();
            } catch (RuntimeException e) {
                // Not a group's failure (those are caught where a group is run): a bug of the loop itself. Drop the
                // pass's unsent messages (Raft tolerates loss) and go on rather than stop every group of the loop.
                LOGGER.log(System.Logger.Level.ERROR, "Raft event loop of node " + nodeId + " failed a pass", e);
                outgoing.clear();
            } catch (Error e) {
                // The JVM's own failure (out of memory, a stack overflow, ...) somewhere in the pass: no group of the
                // loop can be trusted to be consistent. They stop here visibly (their listeners are told, their
                // proposals fail), so their partitions are led from other nodes. The thread goes on for the groups
                // added later: a dead thread would leave every task queued for it (a new group, a proposal, a
                // status query) waiting forever.
                LOGGER.log(System.Logger.Level.ERROR, "Raft event loop of node " + nodeId + " hit " + e
                        + "; its " + groups.size() + " groups stop on this node", e);
                for (GroupState group : groups()) {
                    try {
                        fail(group, e);
                    } catch (RuntimeException | Error ignored) {
                        // the next group may still be stopped
                    }
                }
                dirty.clear();
                outgoing.clear();
            }
        }
    }

    /** One pass: tasks, due timers, the touched groups' Ready, the batches out; then park if there is nothing to do. */
    private void pass() {
        long now = clockMs.getAsLong();
        Runnable task;
        while ((task = tasks.poll()) != null) {
            taskStartMs = clockMs.getAsLong();
            try {
                task.run();
            } catch (RuntimeException e) {
                LOGGER.log(System.Logger.Level.ERROR, "Raft event loop task of node " + nodeId + " failed", e);
            }
        }
        fireTimers(now);
        processDirty();
        flushOutgoing();
        if (tasks.isEmpty() && dirty.isEmpty()) {
            Timer next = timers.peek();
            long waitMs = next == null ? MAX_PARK_MS : Math.min(MAX_PARK_MS, next.atMs() - clockMs.getAsLong());
            if (waitMs > 0) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(waitMs));
            }
        }
    }

    private void fireTimers(long now) {
        while (!timers.isEmpty() && timers.peek().atMs() <= now) {
            Timer timer = timers.poll();
            GroupState group = timer.group();
            if (group.scheduledAt != timer.atMs() || groups.get(group.groupId) != group) {
                continue;
            }
            group.scheduledAt = Long.MAX_VALUE;
            if (group.persisting) {
                continue; // scheduled again when advanced
            }
            if (guard(group, () -> group.raft.tick(now))) {
                touch(group);
            }
        }
    }

    private void processDirty() {
        // A leader's commit may move in advance(), which makes a new Ready: a few rounds settle it.
        for (int round = 0; round < 3 && !dirty.isEmpty(); round++) {
            List<GroupState> pass = new ArrayList<>(dirty);
            dirty.clear();
            List<GroupState> ready = new ArrayList<>(pass.size());
            List<Ready> readies = new ArrayList<>(pass.size());
            List<GroupStorage.Persist> persists = new ArrayList<>();
            for (GroupState group : pass) {
                group.dirty = false;
                if (groups.get(group.groupId) != group || group.persisting) {
                    continue; // a persisting group is looked at again when advanced
                }
                Ready[] r = new Ready[1];
                if (!guard(group, () -> r[0] = group.raft.hasReady() ? group.raft.ready() : null)) {
                    continue;
                }
                if (r[0] == null) {
                    if (guard(group, () -> {
                        group.reportRole();
                        group.reportVoters();
                    })) {
                        schedule(group);
                    }
                    continue;
                }
                queue(group.groupId, r[0].messages());
                // The storage knows which logs have unforced bytes (a truncation and a re-append to the same end too).
                persists.add(new GroupStorage.Persist(group.groupId, group.raft.log(), r[0].hardState(),
                        r[0].persistEnd()));
                ready.add(group);
                readies.add(r[0]);
            }
            if (persists.isEmpty()) {
                continue;
            }
            // What may go before the force goes now, so a leader's appends reach its followers while its own copy is
            // being forced (both forces overlap; a commit waits for one force, not two in a row).
            flushOutgoing();
            List<CompletableFuture<Void>> durable;
            try {
                durable = storage.persistAsync(persists);
            } catch (RuntimeException e) {
                // Nothing of this pass is known durable: no group of it may advance (acknowledge, vote, count its own
                // copy). The messages queued above promise nothing durable (appends and heartbeats).
                for (GroupState group : ready) {
                    fail(group, e);
                }
                continue;
            }
            for (int i = 0; i < ready.size(); i++) {
                GroupState group = ready.get(i);
                Ready r = readies.get(i);
                CompletableFuture<Void> force = durable.get(i);
                if (force.isDone()) {
                    persisted(group, r, force.isCompletedExceptionally() ? force.handle((v, e) -> e).join() : null);
                } else {
                    group.persisting = true;
                    forcing.add(force);
                    force.whenComplete((v, e) -> execute(() -> {
                        forcing.remove(force);
                        group.persisting = false;
                        persisted(group, r, e);
                        runDeferred(group);
                    }));
                }
            }
        }
    }

    /** The group's part of a pass is durable ({@code failure} null) or failed: advance it, or stop it. */
    private void persisted(GroupState group, Ready r, Throwable failure) {
        if (groups.get(group.groupId) != group) {
            return; // stopped meanwhile (an Error of the loop)
        }
        if (failure != null) {
            fail(group, failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure);
            return;
        }
        guard(group, () -> {
            queue(group.groupId, group.raft.advance(r));
            group.reportRole();
            if (r.installed() != null) {
                group.listener.snapshotInstalled(group.groupId, group.raft.log(), r.installed());
                group.applied = r.installed().offset();
            }
            long commit = group.raft.commitOffset();
            if (commit > group.applied) {
                group.listener.committed(group.groupId, group.raft.log(), group.applied, commit);
                group.applied = commit;
            }
            group.reportVoters();
            group.settleProposals();
            if (group.raft.hasReady()) {
                touch(group);
            }
            schedule(group);
        });
    }

    private void schedule(GroupState group) {
        long next = group.raft.nextTimerMs();
        if (next != group.scheduledAt) {
            group.scheduledAt = next;
            if (next != Long.MAX_VALUE) {
                timers.add(new Timer(next, group));
            }
        }
    }

    private void queue(long groupId, List<Message> messages) {
        for (Message message : messages) {
            outgoing.computeIfAbsent(message.to(), node -> new ArrayList<>()).add(new GroupMessage(groupId, message));
        }
    }

    private void flushOutgoing() {
        if (outgoing.isEmpty()) {
            return;
        }
        for (Map.Entry<Integer, List<GroupMessage>> batch : outgoing.entrySet()) {
            if (batch.getKey() != nodeId) {
                transport.send(batch.getKey(), batch.getValue());
            }
        }
        outgoing.clear();
    }
}
