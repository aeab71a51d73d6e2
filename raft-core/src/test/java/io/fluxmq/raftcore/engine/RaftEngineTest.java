package io.fluxmq.raftcore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.MemoryRaftLog;
import io.fluxmq.raftcore.NotLeaderException;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Three engines in one JVM hosting many groups on two event loops each, over {@link InJvmNetwork}. */
class RaftEngineTest {

    private static final Set<Integer> NODES = new TreeSet<>(List.of(1, 2, 3));
    private static final int LOOPS = 2;

    private final InJvmNetwork network = new InJvmNetwork();
    private final List<RaftEngine> engines = new ArrayList<>();
    private final Map<Long, AtomicLong> committedOnNode1 = new ConcurrentHashMap<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (RaftEngine engine : engines) {
            engine.close();
        }
    }

    private void start(int groups) {
        start(groups, new ConcurrentHashMap<>());
    }

    /** Starts the three engines; node 1's logs are kept in {@code logsOfNode1}, for a restart. */
    private void start(int groups, Map<Long, MemoryRaftLog> logsOfNode1) {
        for (int node : NODES) {
            RaftEngine engine = new RaftEngine(new EngineConfig(node, LOOPS, 50, 300), network.transportOf(node),
                    GroupStorage.VOLATILE);
            network.register(engine);
            engines.add(engine.start());
        }
        List<CompletableFuture<Void>> added = new ArrayList<>();
        for (long group = 0; group < groups; group++) {
            long id = group;
            committedOnNode1.put(id, new AtomicLong());
            for (RaftEngine engine : engines) {
                CommitListener listener = engine.nodeId() != 1 ? CommitListener.NONE
                        : (g, log, from, to) -> committedOnNode1.get(g).set(to);
                MemoryRaftLog log = new MemoryRaftLog();
                if (engine.nodeId() == 1) {
                    logsOfNode1.put(id, log);
                }
                added.add(engine.addGroup(id, new RaftConfig(engine.nodeId(), NODES, 500, 50, 8, 1 << 20),
                        log, HardState.INITIAL, 0, listener));
            }
        }
        CompletableFuture.allOf(added.toArray(CompletableFuture[]::new)).join();
    }

    private RaftEngine engine(int node) {
        return engines.get(node - 1);
    }

    /** The node leading the group as its own engine says, or -1. */
    private int leaderOf(long group, Set<Integer> among) {
        for (int node : among) {
            RaftGroup.Role role = engine(node).inspect(group, RaftGroup::role).join();
            if (role == RaftGroup.Role.LEADER) {
                return node;
            }
        }
        return -1;
    }

    /**
     * Proposes five records to the group's leader and waits until they are committed. Right after elections two
     * members may both think they lead (the deposed one has not heard yet): a refusal is retried, a bounded number
     * of times.
     */
    private long proposeToLeader(long group, Set<Integer> among) {
        for (int attempt = 0; attempt < 50; attempt++) {
            int leader = leaderOf(group, among);
            if (leader > 0) {
                try {
                    return engine(leader).propose(group, ByteBuffer.wrap(new byte[100]), 5)
                            .get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(NotLeaderException.class);
                } catch (InterruptedException | TimeoutException e) {
                    throw new AssertionError("proposal to group " + group, e);
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new AssertionError("no leader of group " + group + " took a proposal in 50 attempts");
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private boolean allLed(int groups, Set<Integer> among) {
        Set<Long> led = new HashSet<>();
        for (int node : among) {
            engine(node).inspectAll(RaftGroup::role).forEach((group, role) -> {
                if (role == RaftGroup.Role.LEADER) {
                    led.add(group);
                }
            });
        }
        return led.size() == groups;
    }

    private boolean allQuiet(int groups) {
        for (RaftEngine engine : engines) {
            Map<Long, Boolean> quiet = engine.inspectAll(RaftGroup::quiesced);
            if (quiet.size() != groups || quiet.containsValue(false)) {
                return false;
            }
        }
        return true;
    }

    private Set<Long> ledBy(Set<Integer> among) {
        Set<Long> led = new HashSet<>();
        for (int node : among) {
            engine(node).inspectAll(RaftGroup::role).forEach((group, role) -> {
                if (role == RaftGroup.Role.LEADER) {
                    led.add(group);
                }
            });
        }
        return led;
    }

    @Test
    void manyGroupsElectCommitAndGoQuietOnAFixedNumberOfThreads() {
        int groups = 150;
        start(groups);
        await("a leader in every group", Duration.ofSeconds(30), () -> allLed(groups, NODES));
        for (long group = 0; group < groups; group++) {
            proposeToLeader(group, NODES);
        }
        await("node 1 told of every commit", Duration.ofSeconds(10), () -> committedOnNode1.values().stream()
                .allMatch(c -> c.get() >= 6));
        long threads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("raft-loop-") || t.getName().startsWith("raft-failure-detector-"))
                .count();
        assertThat(threads).as("engine threads for %d groups on 3 nodes", groups).isEqualTo(3 * (LOOPS + 1));

        await("every group quiet", Duration.ofSeconds(10), () -> allQuiet(groups));
        long before = network.groupMessages.get();
        long batchesBefore = network.batches.get();
        LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
        assertThat(network.groupMessages.get() - before).as("group messages in 2 s of idleness").isZero();
        // Only node heartbeats: 6 directed links, one every 50 ms, so about 240 batches in 2 s whatever the groups.
        assertThat(network.batches.get() - batchesBefore).isLessThan(400);
    }

    /**
     * A node restarted faster than the node timeout (its peers' detectors never see it gone): its transport tells the
     * peers of a new incarnation, and the groups it led elect new leaders at once, well within one election timeout
     * (500 ms here; without the report they wait for the restarted member's own election timeout, 500-1000 ms).
     */
    @Test
    void groupsLedByANodeRestartedWithinTheNodeTimeoutElectAtOnceWhenTheRestartIsReported()
            throws InterruptedException {
        int groups = 30;
        Map<Long, MemoryRaftLog> logsOfNode1 = new ConcurrentHashMap<>();
        start(groups, logsOfNode1);
        await("a leader in every group", Duration.ofSeconds(30), () -> allLed(groups, NODES));
        await("every group quiet", Duration.ofSeconds(10), () -> allQuiet(groups));
        List<Long> ledByNode1 = new ArrayList<>(ledBy(Set.of(1)));
        assertThat(ledByNode1).isNotEmpty();
        Map<Long, Long> terms = engine(1).inspectAll(RaftGroup::term);
        Map<Long, Integer> votes = new java.util.HashMap<>();
        for (long group = 0; group < groups; group++) {
            // what its hard-state file would hold: a leader voted for itself in its term
            votes.put(group, ledByNode1.contains(group) ? 1 : HardState.NO_VOTE);
        }

        engine(1).close();
        RaftEngine restarted = new RaftEngine(new EngineConfig(1, LOOPS, 50, 300), network.transportOf(1),
                GroupStorage.VOLATILE);
        network.register(restarted);
        engines.set(0, restarted.start());
        long restartedAt = System.nanoTime();
        for (long group = 0; group < groups; group++) {
            restarted.addGroup(group, new RaftConfig(1, NODES, 500, 50, 8, 1 << 20), logsOfNode1.get(group),
                    new HardState(terms.get(group), votes.get(group)), 0, CommitListener.NONE).join();
        }
        engine(2).peerRestarted(1);
        engine(3).peerRestarted(1);
        await("new leaders of node 1's groups", Duration.ofSeconds(10), () -> {
            Map<Long, Long> now = new java.util.HashMap<>();
            for (int node : NODES) {
                engine(node).inspectAll(r -> r.role() == RaftGroup.Role.LEADER ? r.term() : -1L)
                        .forEach((g, t) -> now.merge(g, t, Math::max));
            }
            return ledByNode1.stream().allMatch(g -> now.get(g) > terms.get(g));
        });
        long electedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt);
        assertThat(engine(2).peersDown()).as("the detector never saw it gone").doesNotContain(1);
        assertThat(electedMs).as("ms from the restart to new leaders of %d groups", ledByNode1.size())
                .isLessThan(400);
        for (long group : ledByNode1) {
            assertThat(proposeToLeader(group, NODES)).isPositive();
        }
        System.out.printf("restart of a node within the node timeout: %d groups it led re-elected %d ms after it"
                + " was reported%n", ledByNode1.size(), electedMs);
    }

    @Test
    void groupsLedByAKilledNodeElectNewLeadersSoonAfterItIsDetected() {
        int groups = 60;
        start(groups);
        await("a leader in every group", Duration.ofSeconds(30), () -> allLed(groups, NODES));
        await("every group quiet", Duration.ofSeconds(10), () -> allQuiet(groups));
        List<Long> ledByNode1 = new ArrayList<>();
        for (long group = 0; group < groups; group++) {
            if (leaderOf(group, NODES) == 1) {
                ledByNode1.add(group);
            }
        }
        assertThat(ledByNode1).isNotEmpty();
        long killedAt = System.nanoTime();
        network.cutOff(1);
        Set<Integer> survivors = Set.of(2, 3);
        await("node 1 reported down", Duration.ofSeconds(10),
                () -> engine(2).peersDown().contains(1) && engine(3).peersDown().contains(1));
        long detectedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        await("new leaders", Duration.ofSeconds(10), () -> ledByNode1.stream().allMatch(ledBy(survivors)::contains));
        long failoverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        // Check quorum: the cut-off node, hearing from no one, stops leading within two election timeouts.
        await("the cut node to step down", Duration.ofSeconds(10), () -> ledBy(Set.of(1)).isEmpty());
        // Node timeout 300 ms, then a pre-vote and a vote round; the election timeout (500-1000 ms) is not waited.
        assertThat(failoverMs - detectedMs).as("ms from the detection to new leaders of %d groups", ledByNode1.size())
                .isLessThan(500);
        for (long group : ledByNode1) {
            assertThat(proposeToLeader(group, survivors)).isPositive();
        }
        System.out.printf("failover of %d quiet groups: detected by both survivors %d ms, new leaders %d ms after"
                + " the cut%n", ledByNode1.size(), detectedMs, failoverMs);
    }
}
