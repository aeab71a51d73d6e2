package io.fluxmq.raftcore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

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

    /** Starts the three engines; every node's logs are kept in {@code logs} (by node, then group), for a restart. */
    private void start(int groups, Map<Integer, Map<Long, MemoryRaftLog>> logs) {
        start(groups, logs, 300);
    }

    private void start(int groups, Map<Integer, Map<Long, MemoryRaftLog>> logs, long nodeTimeoutMs) {
        for (int node : NODES) {
            RaftEngine engine = new RaftEngine(new EngineConfig(node, LOOPS, 50, nodeTimeoutMs), network.transportOf(node),
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
                logs.computeIfAbsent(engine.nodeId(), n -> new ConcurrentHashMap<>()).put(id, log);
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

    /**
     * The failure detector's verdicts reach every group in the order the engine reached them: a peer reported gone
     * by one thread while its messages arrive on another (a node waking from a pause sees both at once) must not
     * leave a group believing it down once the engine believes it up, since nothing would tell the group again (a
     * compose run saw a leader keep a live follower out of the ISR for minutes after such a moment).
     */
    @Test
    void groupsEndWithTheEnginesViewOfAPeerWhateverTheRaceOfItsReports() throws Exception {
        start(8);
        await("a leader in every group", Duration.ofSeconds(30), () -> allLed(8, NODES));
        RaftEngine node1 = engine(1);
        for (int round = 0; round < 20; round++) {
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(4);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                boolean reportsGone = t % 2 == 0;
                threads.add(new Thread(() -> {
                    await(start);
                    for (int i = 0; i < 5_000; i++) {
                        if (reportsGone == (i % 2 == 0)) {
                            node1.peerGone(2);
                        } else {
                            node1.receive(2, List.of());
                        }
                    }
                }));
            }
            threads.forEach(Thread::start);
            for (Thread thread : threads) {
                thread.join();
            }
            node1.receive(2, List.of()); // the peer is alive: the last word
            assertThat(node1.peersDown()).as("round %d", round).doesNotContain(2);
            // inspections queue behind every report already handed to the loops
            assertThat(node1.inspectAll(RaftGroup::peersReportedDown)).as("round %d", round)
                    .allSatisfy((group, down) -> assertThat(down).as("group %d", group).doesNotContain(2));
        }
    }

    private static void await(java.util.concurrent.CyclicBarrier barrier) {
        try {
            barrier.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
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
        Map<Integer, Map<Long, MemoryRaftLog>> logs = new ConcurrentHashMap<>();
        start(groups, logs);
        await("a leader in every group", Duration.ofSeconds(30), () -> allLed(groups, NODES));
        await("every group quiet", Duration.ofSeconds(10), () -> allQuiet(groups));
        // The node that leads the most groups restarts (which node leads what is up to the elections).
        int victim = NODES.stream().max(java.util.Comparator.comparingInt(n -> ledBy(Set.of(n)).size())).orElseThrow();
        List<Long> ledByVictim = new ArrayList<>(ledBy(Set.of(victim)));
        assertThat(ledByVictim).isNotEmpty();
        Map<Long, Long> terms = engine(victim).inspectAll(RaftGroup::term);

        engine(victim).close();
        RaftEngine restarted = new RaftEngine(new EngineConfig(victim, LOOPS, 50, 300), network.transportOf(victim),
                GroupStorage.VOLATILE);
        network.register(restarted);
        engines.set(victim - 1, restarted.start());
        long restartedAt = System.nanoTime();
        for (long group = 0; group < groups; group++) {
            // what its hard-state file would hold: a leader voted for itself in its term
            int vote = ledByVictim.contains(group) ? victim : HardState.NO_VOTE;
            restarted.addGroup(group, new RaftConfig(victim, NODES, 500, 50, 8, 1 << 20), logs.get(victim).get(group),
                    new HardState(terms.get(group), vote), 0, CommitListener.NONE).join();
        }
        for (int node : NODES) {
            if (node != victim) {
                engine(node).peerRestarted(victim);
            }
        }
        await("new leaders of the restarted node's groups", Duration.ofSeconds(10), () -> {
            Map<Long, Long> now = new java.util.HashMap<>();
            for (int node : NODES) {
                engine(node).inspectAll(r -> r.role() == RaftGroup.Role.LEADER ? r.term() : -1L)
                        .forEach((g, t) -> now.merge(g, t, Math::max));
            }
            return ledByVictim.stream().allMatch(g -> now.get(g) > terms.get(g));
        });
        long electedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt);
        for (int node : NODES) {
            assertThat(engine(node).peersDown()).as("the detector never saw it gone").doesNotContain(victim);
        }
        assertThat(electedMs).as("ms from the restart to new leaders of %d groups", ledByVictim.size())
                .isLessThan(400);
        for (long group : ledByVictim) {
            assertThat(proposeToLeader(group, NODES)).isPositive();
        }
        System.out.printf("restart of node %d within the node timeout: %d groups it led re-elected %d ms after it"
                + " was reported%n", victim, ledByVictim.size(), electedMs);
    }

    @Test
    void groupsLedByAKilledNodeElectNewLeadersSoonAfterItIsDetected() {
        int groups = 60;
        start(groups);
        await("a leader in every group", Duration.ofSeconds(30), () -> allLed(groups, NODES));
        await("every group quiet", Duration.ofSeconds(10), () -> allQuiet(groups));
        // The node that leads the most groups is cut off (which node leads what is up to the elections).
        int victim = NODES.stream().max(java.util.Comparator.comparingInt(n -> ledBy(Set.of(n)).size())).orElseThrow();
        List<Long> ledByVictim = new ArrayList<>(ledBy(Set.of(victim)));
        assertThat(ledByVictim).isNotEmpty();
        long killedAt = System.nanoTime();
        network.cutOff(victim);
        Set<Integer> survivors = new TreeSet<>(NODES);
        survivors.remove(victim);
        await("the cut node reported down", Duration.ofSeconds(10),
                () -> survivors.stream().allMatch(n -> engine(n).peersDown().contains(victim)));
        long detectedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        await("new leaders", Duration.ofSeconds(10), () -> ledByVictim.stream().allMatch(ledBy(survivors)::contains));
        long failoverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        // Check quorum: the cut-off node, hearing from no one, stops leading within two election timeouts.
        await("the cut node to step down", Duration.ofSeconds(10), () -> ledBy(Set.of(victim)).isEmpty());
        // Node timeout 300 ms, then a pre-vote and a vote round; the election timeout (500-1000 ms) is not waited.
        assertThat(failoverMs - detectedMs).as("ms from the detection to new leaders of %d groups", ledByVictim.size())
                .isLessThan(500);
        for (long group : ledByVictim) {
            assertThat(proposeToLeader(group, survivors)).isPositive();
        }
        System.out.printf("failover of %d quiet groups: detected by both survivors %d ms, new leaders %d ms after"
                + " the cut%n", ledByVictim.size(), detectedMs, failoverMs);
    }

    @Test
    void groupsLedByANodeReportedGoneElectWithoutWaitingForTheNodeTimeout() {
        int groups = 30;
        start(groups, new ConcurrentHashMap<>(), 60_000);
        await("a leader in every group", Duration.ofSeconds(30), () -> allLed(groups, NODES));
        await("every group quiet", Duration.ofSeconds(10), () -> allQuiet(groups));
        int victim = NODES.stream().max(java.util.Comparator.comparingInt(n -> ledBy(Set.of(n)).size())).orElseThrow();
        List<Long> ledByVictim = new ArrayList<>(ledBy(Set.of(victim)));
        assertThat(ledByVictim).isNotEmpty();
        network.cutOff(victim);
        Set<Integer> survivors = new TreeSet<>(NODES);
        survivors.remove(victim);
        long reportedAt = System.nanoTime();
        // what the transport reports when a lost connection's redial is refused (the node timeout is a minute here)
        survivors.forEach(n -> engine(n).peerGone(victim));
        await("new leaders", Duration.ofSeconds(10), () -> ledByVictim.stream().allMatch(ledBy(survivors)::contains));
        long electedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - reportedAt);
        for (int node : survivors) {
            assertThat(engine(node).peersDown()).contains(victim);
        }
        for (long group : ledByVictim) {
            assertThat(proposeToLeader(group, survivors)).isPositive();
        }
        System.out.printf("node %d reported gone: %d groups it led re-elected %d ms later%n", victim,
                ledByVictim.size(), electedMs);
    }

    /**
     * A group moves from nodes 1-3 to 2-4 one voter at a time through its leader, as a partition reassignment does:
     * node 4 opens the group empty with the old voters (not a voter, it follows), is added and catches up, leadership
     * moves off the leaving voter, which is then removed. Every member is told the committed voters, two changes at
     * once are refused, and the group commits with the new voters only.
     */
    @Test
    void aGroupMovesToANewNodeOneVoterAtATimeThroughItsLeader() throws Exception {
        start(1);
        long group = 0;
        await("a leader", Duration.ofSeconds(30), () -> allLed(1, NODES));
        for (int i = 0; i < 20; i++) {
            proposeToLeader(group, NODES);
        }
        RaftEngine joining = new RaftEngine(new EngineConfig(4, LOOPS, 50, 300), network.transportOf(4),
                GroupStorage.VOLATILE);
        network.register(joining);
        engines.add(joining.start());
        Map<Integer, Set<Integer>> told = new ConcurrentHashMap<>();
        MemoryRaftLog newLog = new MemoryRaftLog();
        joining.addGroup(group, new RaftConfig(4, NODES, 500, 50, 8, 1 << 20), newLog, HardState.INITIAL, 0,
                new CommitListener() {
                    @Override
                    public void committed(long g, io.fluxmq.raftcore.RaftLog log, long from, long to) {
                    }

                    @Override
                    public void votersCommitted(long g, Set<Integer> voters) {
                        told.put(4, voters);
                    }
                }).join();
        assertThat(joining.inspect(group, RaftGroup::voters).join()).as("a joining member is no voter yet")
                .doesNotContain(4);

        int leader = leaderOf(group, NODES);
        Set<Integer> four = new TreeSet<>(List.of(1, 2, 3, 4));
        long added = engine(leader).changeVoters(group, four).get(10, TimeUnit.SECONDS);
        assertThat(added).isPositive();
        long end = proposeToLeader(group, NODES) + 5;
        await("node 4 caught up", Duration.ofSeconds(10), () -> newLog.endOffset() >= end);
        await("node 4 told it is a voter", Duration.ofSeconds(10), () -> four.equals(told.get(4)));
        assertThat(engine(leader).inspect(group, g -> g.caughtUp(4)).join()).isTrue();
        assertThat(engine(leader).inspect(group, RaftGroup::configurationCommitted).join()).isTrue();
        CompletableFuture<Long> twoAtOnce = engine(leader).changeVoters(group, Set.of(2, 3));
        assertThat(catchThrowable(() -> twoAtOnce.get(10, TimeUnit.SECONDS)))
                .hasCauseInstanceOf(IllegalArgumentException.class);

        // node 1 leaves: if it leads, leadership moves to a caught-up voter first
        if (leader == 1) {
            engine(1).transferLeadership(group, 4).get(10, TimeUnit.SECONDS);
            await("node 4 leads", Duration.ofSeconds(10), () -> leaderOf(group, four) == 4);
            proposeToLeader(group, four); // the new leader's own entry, before it changes the configuration
            leader = 4;
        }
        Set<Integer> target = new TreeSet<>(List.of(2, 3, 4));
        int changer = leader;
        long removed = retry(() -> engine(changer).changeVoters(group, target).get(10, TimeUnit.SECONDS));
        assertThat(removed).isGreaterThan(added);
        await("node 4 told the new voters", Duration.ofSeconds(10), () -> target.equals(told.get(4)));
        network.cutOff(1); // the removed member is not needed for anything any more
        for (int i = 0; i < 5; i++) {
            assertThat(proposeToLeader(group, target)).isGreaterThan(removed);
        }
        for (int node : target) {
            assertThat(engine(node).inspect(group, RaftGroup::voters).join()).as("voters on node %d", node)
                    .isEqualTo(target);
        }
    }

    /** A change right after an election may be refused until the leader committed an entry of its term: retried. */
    private static long retry(java.util.concurrent.Callable<Long> change) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                return change.call();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof IllegalStateException) || attempt > 50) {
                    throw e;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
    }
}
