package io.fluxmq.raftcore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.NotLeaderException;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A group whose log force is slow holds back no other group of its event loop: with the forces of one group's new
 * entries held on every node, another group of the same (single) loop still commits proposals and moves its leadership;
 * the slow group's own input (a proposal, its followers' messages) waits until its force is done, and nothing touches
 * its log while a force of it is in flight.
 */
class SlowForceTest {

    private static final long SLOW = 1;
    private static final long FAST = 2;
    private static final Set<Integer> NODES = Set.of(1, 2, 3);

    private final InJvmNetwork network = new InJvmNetwork();
    private final Map<Integer, RaftEngine> engines = new ConcurrentHashMap<>();
    /** While closed, every force of the slow group's new entries waits in here until opened. */
    private final List<CompletableFuture<Void>> held = new CopyOnWriteArrayList<>();
    private volatile boolean gateClosed;
    private final List<String> touchedWhileForcing = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        open();
        for (RaftEngine engine : engines.values()) {
            engine.close();
        }
    }

    private synchronized void open() {
        gateClosed = false;
        held.forEach(force -> force.complete(null));
    }

    /** A node's storage: hard states and logs in memory; the slow group's forces held while the gate is closed. */
    private final class HeldStorage implements GroupStorage {
        private final Map<Long, Long> forcedEnd = new ConcurrentHashMap<>();
        private final Map<Long, AtomicBoolean> forcing;

        HeldStorage(Map<Long, AtomicBoolean> forcing) {
            this.forcing = forcing;
        }

        @Override
        public void persist(List<Persist> requests) {
            CompletableFuture.allOf(persistAsync(requests).toArray(CompletableFuture[]::new)).join();
        }

        @Override
        public List<CompletableFuture<Void>> persistAsync(List<Persist> requests) {
            List<CompletableFuture<Void>> durable = new ArrayList<>();
            for (Persist request : requests) {
                boolean newEntries = request.persistEnd() > forcedEnd.getOrDefault(request.groupId(), 0L);
                forcedEnd.merge(request.groupId(), request.persistEnd(), Math::max);
                synchronized (SlowForceTest.this) {
                    if (request.groupId() != SLOW || !newEntries || !gateClosed) {
                        durable.add(DURABLE);
                        continue;
                    }
                    AtomicBoolean flag = forcing.get(request.groupId());
                    flag.set(true);
                    CompletableFuture<Void> force = new CompletableFuture<>();
                    held.add(force);
                    // the loop hears of the force through the returned stage, after the flag is cleared
                    durable.add(force.thenRun(() -> flag.set(false)));
                }
            }
            return durable;
        }
    }

    /** A log that records any change made while a force of it is in flight. */
    private final class GuardedLog extends ForwardingRaftLog {
        private final String name;
        private final AtomicBoolean forcing;

        GuardedLog(String name, AtomicBoolean forcing) {
            this.name = name;
            this.forcing = forcing;
        }

        @Override
        void changing(String what) {
            if (forcing.get()) {
                touchedWhileForcing.add(name + ": " + what);
            }
        }
    }

    private void start() {
        for (int node : NODES) {
            Map<Long, AtomicBoolean> forcing = Map.of(SLOW, new AtomicBoolean(), FAST, new AtomicBoolean());
            RaftEngine engine = new RaftEngine(new EngineConfig(node, 1, 50, 300), network.transportOf(node),
                    new HeldStorage(forcing));
            network.register(engine);
            engines.put(node, engine.start());
            for (long group : List.of(SLOW, FAST)) {
                // a long election timeout: the groups change leaders only when the test asks (node 1 campaigns)
                engine.addGroup(group, new RaftConfig(node, NODES, 5_000, 50, 8, 1 << 20),
                        new GuardedLog("group " + group + " on node " + node, forcing.get(group)),
                        HardState.INITIAL, 0, CommitListener.NONE).join();
            }
        }
        engines.get(1).campaign(SLOW).join();
        engines.get(1).campaign(FAST).join();
    }

    /** The role of the group's member on {@code node}, asked of its loop (which must answer within 5 s). */
    private RaftGroup.Role role(int node, long group) throws Exception {
        return engines.get(node).inspect(group, RaftGroup::role).get(5, TimeUnit.SECONDS);
    }

    private int leaderOf(long group) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (int node : NODES) {
                if (role(node, group) == RaftGroup.Role.LEADER) {
                    return node;
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        throw new AssertionError("no leader of group " + group + " within 30 s");
    }

    /** Commits one entry of two records through the group's leader (a refusal right after an election retried). */
    private long commit(long group) throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            try {
                return engines.get(leaderOf(group)).propose(group, ByteBuffer.wrap(new byte[10]), 2)
                        .get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(NotLeaderException.class);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
        throw new AssertionError("group " + group + " refused 50 proposals");
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aGroupWhoseForceIsHeldStopsNoOtherGroupOfItsLoop() throws Exception {
        start();
        long slowBase = commit(SLOW);
        commit(FAST);

        synchronized (this) {
            gateClosed = true;
        }
        int slowLeader = leaderOf(SLOW);
        CompletableFuture<Long> first = engines.get(slowLeader).propose(SLOW, ByteBuffer.wrap(new byte[10]), 2);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (held.size() < 3 && System.nanoTime() < deadline) { // the leader's force and both followers'
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        assertThat(held).as("forces of the slow group's new entry held").hasSize(3);
        CompletableFuture<Long> second = engines.get(slowLeader).propose(SLOW, ByteBuffer.wrap(new byte[10]), 3);

        // The other group of the same loops goes on: it commits, hands its leadership over and commits again.
        List<Long> fastBases = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            fastBases.add(commit(FAST));
        }
        int fastLeader = leaderOf(FAST);
        int target = NODES.stream().filter(n -> n != fastLeader).findFirst().orElseThrow();
        engines.get(fastLeader).transferLeadership(FAST, target).get(10, TimeUnit.SECONDS);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (role(target, FAST) != RaftGroup.Role.LEADER && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertThat(role(target, FAST)).isEqualTo(RaftGroup.Role.LEADER);
        fastBases.add(commit(FAST));
        assertThat(fastBases).isSorted().doesNotHaveDuplicates();

        assertThat(first).as("a proposal whose force is held").isNotDone();
        assertThat(second).as("a proposal made while the group's force is held").isNotDone();
        assertThat(held).as("the slow group forced nothing more while its first force was held").hasSize(3);

        open();
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(slowBase + 2);
        assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(slowBase + 4);
        assertThat(commit(SLOW)).isEqualTo(slowBase + 7);
        assertThat(touchedWhileForcing).as("logs changed while a force of them was in flight").isEmpty();
    }
}
