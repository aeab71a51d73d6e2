package io.fluxmq.raftcore.engine;

import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.NotLeaderException;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import io.fluxmq.raftcore.RaftLog;
import io.fluxmq.raftcore.ReplicationThrottle;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A node's multi-Raft engine: every Raft group the node is a member of runs on one of a fixed number of event loops
 * (docs/adr/0003), messages for a peer node travel in one batch per loop pass, storage is forced once per pass for all
 * groups of the loop, and one failure detector per node (node-level heartbeats, {@link EngineConfig#nodeTimeoutMs()})
 * reports peers down and up to every group, so idle groups can be quiet. Threads: the event loops plus one for the
 * failure detector, whatever the number of groups.
 *
 * <p>Thread-safe: any thread may call it; each group's state is touched only on its loop.
 */
public final class RaftEngine implements AutoCloseable {

    private final EngineConfig config;
    private final Transport transport;
    private final LongSupplier clockMs;
    private final EventLoop[] loops;
    private final ScheduledExecutorService detector;
    private final Map<Integer, Long> lastHeardMs = new ConcurrentHashMap<>();
    private final Map<Integer, Long> lastSentMs = new ConcurrentHashMap<>();
    private final Set<Integer> down = ConcurrentHashMap.newKeySet();
    /**
     * Held while {@link #down} changes and the change is handed to the loops, so the loops get the reports in the
     * order the set took them: two threads reporting the same peer gone and back (a node waking from a pause sees its
     * peers' silence and their messages at once) could otherwise hand "up" to a loop before "down" and leave the groups
     * believing a live peer down, with nothing to tell them otherwise (a leader then kept it out of the ISR).
     */
    private final Object liveness = new Object();
    private final Set<Integer> peers = ConcurrentHashMap.newKeySet();
    private volatile ReplicationThrottle throttle = ReplicationThrottle.UNLIMITED;

    public RaftEngine(EngineConfig config, Transport transport, GroupStorage storage) {
        this(config, transport, storage, GroupFailureListener.NONE);
    }

    /** @param failures told when a group stops on this node because its log, listener or storage failed */
    public RaftEngine(EngineConfig config, Transport transport, GroupStorage storage, GroupFailureListener failures) {
        this.config = config;
        this.clockMs = System::currentTimeMillis;
        this.transport = (toNode, batch) -> {
            lastSentMs.put(toNode, clockMs.getAsLong());
            transport.send(toNode, batch);
        };
        this.loops = new EventLoop[config.eventLoops()];
        for (int i = 0; i < loops.length; i++) {
            loops[i] = new EventLoop("raft-loop-" + config.nodeId() + "-" + i, config.nodeId(), storage,
                    this.transport, clockMs, failures);
        }
        this.detector = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "raft-failure-detector-" + config.nodeId());
            thread.setDaemon(true);
            return thread;
        });
    }

    public RaftEngine start() {
        for (EventLoop loop : loops) {
            loop.start();
        }
        detector.scheduleWithFixedDelay(this::watchPeers, config.nodeHeartbeatMs(), config.nodeHeartbeatMs() / 2,
                TimeUnit.MILLISECONDS);
        return this;
    }

    /** The engine's clock, in milliseconds (what its groups are ticked with). */
    public long nowMs() {
        return clockMs.getAsLong();
    }

    public int nodeId() {
        return config.nodeId();
    }

    private int loopIndex(long groupId) {
        return (int) Math.floorMod(Long.hashCode(groupId) * 0x9E3779B9L, (long) loops.length);
    }

    private EventLoop loop(long groupId) {
        return loops[loopIndex(groupId)];
    }

    /** Hosts a group on this node, starting from its durable log and hard state. */
    public CompletableFuture<Void> addGroup(long groupId, RaftConfig raftConfig, RaftLog log, HardState hardState,
                                            long commitOffset, CommitListener listener) {
        if (raftConfig.self() != config.nodeId()) {
            throw new IllegalArgumentException("group " + groupId + " is configured for member " + raftConfig.self()
                    + ", not node " + config.nodeId());
        }
        for (int voter : raftConfig.voters()) {
            watch(voter);
        }
        CompletableFuture<Void> added = new CompletableFuture<>();
        EventLoop loop = loop(groupId);
        loop.execute(() -> {
            try {
                RaftGroup raft = new RaftGroup(raftConfig, log, hardState, commitOffset,
                        new Random(groupId * 31 + config.nodeId()), clockMs.getAsLong());
                for (int peer : down) {
                    raft.peerDown(peer, clockMs.getAsLong());
                }
                loop.add(new GroupState(groupId, config.nodeId(), raft, listener));
                added.complete(null);
            } catch (RuntimeException e) {
                added.completeExceptionally(e); // a log that cannot be read: the group is not hosted
            }
        });
        return added;
    }

    public CompletableFuture<Void> removeGroup(long groupId) {
        CompletableFuture<Void> removed = new CompletableFuture<>();
        EventLoop loop = loop(groupId);
        // after a force in flight: the caller may close the log once this completes
        loop.execute(() -> loop.withGroup(groupId, group -> {
            loop.remove(groupId);
            group.failAll(new IllegalStateException("group " + groupId + " was removed from node " + config.nodeId()));
            removed.complete(null);
        }, () -> removed.complete(null)));
        return removed;
    }

    /**
     * Proposes data to a group this node leads; completes with the entry's base offset once it is committed, or with
     * {@link NotLeaderException} if this node does not lead it (or stops leading before the entry is committed: it
     * may still be committed by the next leader, as with any Raft or Kafka retry).
     */
    public CompletableFuture<Long> propose(long groupId, ByteBuffer data, int count) {
        return propose(groupId, new Proposal() {
            @Override
            public int count() {
                return count;
            }

            @Override
            public ByteBuffer prepare(long term, long baseOffset) {
                return data;
            }
        });
    }

    /**
     * An entry whose bytes are made on the group's loop, once the leader's term and the entry's base offset are known
     * (a partition checks producer state and assigns offsets there, in log order without a lock of its own).
     */
    public interface Proposal {
        /** The offsets the entry takes. */
        int count();

        /**
         * The entry's data, appended at {@code baseOffset} in {@code term} as soon as this returns. Runs on the loop
         * thread; must not block. Whatever it throws fails the proposal alone, and nothing is appended.
         */
        ByteBuffer prepare(long term, long baseOffset);
    }

    /** As {@link #propose(long, ByteBuffer, int)}, with the data made by {@code proposal} on the group's loop. */
    public CompletableFuture<Long> propose(long groupId, Proposal proposal) {
        return onGroup(groupId, (loop, group, result) -> {
            RaftGroup raft = group.raft;
            if (!raft.acceptsProposals()) {
                result.completeExceptionally(new NotLeaderException(config.nodeId(), raft.leader()));
                return;
            }
            long expected = raft.log().endOffset();
            ByteBuffer data;
            try {
                data = proposal.prepare(raft.term(), expected);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
                return;
            }
            try {
                long base = raft.propose(data, proposal.count(), clockMs.getAsLong());
                if (base != expected) {
                    throw new IllegalStateException("group " + groupId + " appended at " + base + ", not at its log end "
                            + expected);
                }
                group.awaitCommit(base, base + proposal.count(), result);
                loop.touch(group);
            } catch (NotLeaderException e) {
                result.completeExceptionally(e);
            } catch (RuntimeException e) {
                loop.fail(group, e); // the log refused an append: the group's storage is broken
                result.completeExceptionally(e);
            }
        });
    }

    /**
     * Starts handing the leadership of a group this node leads to {@code target} (see
     * {@link RaftGroup#transferLeadership}): completes once started, or with {@link NotLeaderException}. Proposals are
     * refused while it runs; it gives up after an election timeout.
     */
    public CompletableFuture<Void> transferLeadership(long groupId, int target) {
        return onGroup(groupId, (loop, group, result) -> {
            try {
                group.raft.transferLeadership(target, clockMs.getAsLong());
                loop.touch(group);
                result.complete(null);
            } catch (NotLeaderException | IllegalArgumentException e) {
                result.completeExceptionally(e);
            }
        });
    }

    /**
     * Proposes a new set of voters for a group this node leads (one member added or removed,
     * {@link RaftGroup#changeVoters}); completes with the configuration entry's offset once it is committed, or fails
     * with {@link NotLeaderException} (not the leader, or leadership lost before the commit) or
     * {@link IllegalArgumentException}/{@link IllegalStateException} (not a single change, or another one in flight).
     * A voter on a node this engine did not know yet is watched by its failure detector from now on.
     */
    public CompletableFuture<Long> changeVoters(long groupId, Set<Integer> newVoters) {
        for (int voter : newVoters) {
            watch(voter);
        }
        return onGroup(groupId, (loop, group, result) -> {
            try {
                long offset = group.raft.changeVoters(newVoters, clockMs.getAsLong());
                group.awaitCommit(offset, offset + 1, result);
                loop.touch(group);
            } catch (NotLeaderException | IllegalArgumentException | IllegalStateException e) {
                result.completeExceptionally(e);
            }
        });
    }

    /** Counts {@code node} among the peers the failure detector heartbeats and watches. */
    private void watch(int node) {
        if (node != config.nodeId() && peers.add(node)) {
            lastHeardMs.putIfAbsent(node, clockMs.getAsLong());
        }
    }

    /**
     * Sets the node's bound on appends to throttled followers (see {@link #throttleFollowers}); groups take it with
     * their next {@link #throttleFollowers}.
     */
    public void replicationThrottle(ReplicationThrottle throttle) {
        this.throttle = throttle;
    }

    /**
     * Holds this node's appends to {@code followers} of a group it leads (replicas a reassignment adds) to the node's
     * {@link ReplicationThrottle} while they catch up; an empty set lifts it ({@link RaftGroup#throttle}).
     */
    public CompletableFuture<Void> throttleFollowers(long groupId, Set<Integer> followers) {
        ReplicationThrottle bound = throttle;
        return onGroup(groupId, (loop, group, result) -> {
            group.raft.throttle(bound, followers);
            loop.touch(group);
            result.complete(null);
        });
    }

    /** Makes this node's member of a group campaign at once ({@link RaftGroup#campaignNow}); completes when asked. */
    public CompletableFuture<Void> campaign(long groupId) {
        return onGroup(groupId, (loop, group, result) -> {
            group.raft.campaignNow(clockMs.getAsLong());
            loop.touch(group);
            result.complete(null);
        });
    }

    /** What runs on a group's loop for a caller waiting on {@code result}. */
    private interface GroupTask<T> {
        void run(EventLoop loop, GroupState group, CompletableFuture<T> result);
    }

    /**
     * Runs {@code task} on the group's loop once no force of its log is in flight; the result fails at once if the
     * group is not hosted here.
     */
    private <T> CompletableFuture<T> onGroup(long groupId, GroupTask<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        EventLoop loop = loop(groupId);
        loop.execute(() -> loop.withGroup(groupId, group -> task.run(loop, group, result),
                () -> result.completeExceptionally(new IllegalStateException("no group " + groupId + " on node "
                        + config.nodeId()))));
        return result;
    }

    /**
     * Cuts a group's log below {@code offset} (retention; see {@link RaftGroup#compact}): {@code data} is the owner's
     * state as of {@code offset}, sent to followers that need entries from below it.
     */
    public CompletableFuture<Void> compact(long groupId, long offset, ByteBuffer data) {
        return onGroup(groupId, (loop, group, result) -> {
            try {
                group.raft.compact(offset, data);
                loop.touch(group);
                result.complete(null);
            } catch (IllegalArgumentException e) {
                result.completeExceptionally(e);
            }
        });
    }

    /** Runs {@code reader} on the group's loop with its Raft state (for status and tests). */
    public <T> CompletableFuture<T> inspect(long groupId, Function<RaftGroup, T> reader) {
        CompletableFuture<T> result = new CompletableFuture<>();
        EventLoop loop = loop(groupId);
        loop.execute(() -> {
            GroupState group = loop.group(groupId);
            try {
                result.complete(group == null ? null : reader.apply(group.raft));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /**
     * Runs {@code reader} on every group of this node, one task per loop; the map is by group id, without the groups
     * {@code reader} answered null for.
     */
    public <T> Map<Long, T> inspectAll(Function<RaftGroup, T> reader) {
        Map<Long, T> result = new ConcurrentHashMap<>();
        List<CompletableFuture<Void>> done = new ArrayList<>(loops.length);
        for (EventLoop loop : loops) {
            CompletableFuture<Void> pass = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    for (GroupState group : loop.groups()) {
                        T value = reader.apply(group.raft);
                        if (value != null) {
                            result.put(group.groupId, value);
                        }
                    }
                    pass.complete(null);
                } catch (RuntimeException e) {
                    pass.completeExceptionally(e);
                }
            });
            done.add(pass);
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).join();
        return result;
    }

    /** A batch from a peer node (called by the transport; an empty batch is the peer's node heartbeat). */
    public void receive(int fromNode, List<GroupMessage> batch) {
        long now = clockMs.getAsLong();
        lastHeardMs.put(fromNode, now);
        // a node that messages a group here is a peer of it (a joining member learns its voters from the log)
        peers.add(fromNode);
        if (down.contains(fromNode)) { // a peer seen down after this check is reported up by its next message
            synchronized (liveness) {
                if (down.remove(fromNode)) {
                    forEachGroup(raft -> raft.peerUp(fromNode, clockMs.getAsLong()));
                }
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        if (loops.length == 1) {
            deliver(loops[0], batch);
            return;
        }
        List<List<GroupMessage>> perLoop = new ArrayList<>(loops.length);
        for (int i = 0; i < loops.length; i++) {
            perLoop.add(null);
        }
        for (GroupMessage message : batch) {
            int index = loopIndex(message.groupId());
            if (perLoop.get(index) == null) {
                perLoop.set(index, new ArrayList<>());
            }
            perLoop.get(index).add(message);
        }
        for (int i = 0; i < loops.length; i++) {
            if (perLoop.get(i) != null) {
                deliver(loops[i], perLoop.get(i));
            }
        }
    }

    private void deliver(EventLoop loop, List<GroupMessage> messages) {
        loop.execute(() -> {
            for (GroupMessage message : messages) {
                loop.withGroup(message.groupId(), group -> {
                    if (loop.guard(group, () -> group.raft.receive(message.message(), loop.taskStartMs()))) {
                        loop.touch(group);
                    }
                }, () -> { });
            }
        });
    }

    private void forEachGroup(Consumer<RaftGroup> action) {
        for (EventLoop loop : loops) {
            loop.execute(() -> {
                for (GroupState each : loop.groups()) {
                    loop.withGroup(each.groupId, group -> {
                        if (loop.guard(group, () -> action.accept(group.raft))) {
                            loop.touch(group);
                        }
                    }, () -> { });
                }
            });
        }
    }

    /** The failure detector: node heartbeats to quiet links, peers silent for the node timeout reported down. */
    private void watchPeers() {
        long now = clockMs.getAsLong();
        for (int peer : peers) {
            if (now - lastSentMs.getOrDefault(peer, 0L) >= config.nodeHeartbeatMs()) {
                transport.send(peer, List.of());
            }
            if (now - lastHeardMs.getOrDefault(peer, now) >= config.nodeTimeoutMs()) {
                synchronized (liveness) {
                    if (down.add(peer)) {
                        forEachGroup(raft -> raft.peerDown(peer, clockMs.getAsLong()));
                    }
                }
            }
        }
    }

    /**
     * The transport saw {@code node} come back as a new incarnation (a restart quicker than the node timeout, which
     * the failure detector cannot see): every group hears of it as of a node that went down and came back at once.
     * So followers of the groups it led campaign at once (staggered) instead of waiting for it to time out its own
     * election, and quiet leaders of groups it follows wake and heartbeat, so it learns who leads and is caught up.
     */
    public void peerRestarted(int node) {
        if (node == config.nodeId()) {
            return;
        }
        synchronized (liveness) {
            forEachGroup(raft -> {
                raft.peerDown(node, clockMs.getAsLong());
                if (!down.contains(node)) {
                    raft.peerUp(node, clockMs.getAsLong());
                }
            });
        }
    }

    /**
     * The transport has evidence that {@code node}'s process is gone (a live connection to it was lost and a new one
     * refused: nothing listens on its port): it is reported down to every group at once, as the failure detector
     * would after the node timeout, so the groups it led elect without waiting that long. A message from it reports it
     * up again.
     */
    public void peerGone(int node) {
        if (node == config.nodeId()) {
            return;
        }
        synchronized (liveness) {
            if (down.add(node)) {
                forEachGroup(raft -> raft.peerDown(node, clockMs.getAsLong()));
            }
        }
    }

    /** Peers the failure detector reports down now. */
    public Set<Integer> peersDown() {
        return Set.copyOf(down);
    }

    @Override
    public void close() throws InterruptedException {
        detector.shutdownNow();
        for (EventLoop loop : loops) {
            loop.stop();
        }
        detector.awaitTermination(10, TimeUnit.SECONDS);
    }
}
