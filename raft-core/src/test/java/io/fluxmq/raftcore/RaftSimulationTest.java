package io.fluxmq.raftcore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded runs of a group under faults (delays, reordering, duplicates, drops, cut links, crashes that lose what was
 * not forced, restarts), with Raft's safety properties checked after every event by {@link SimulatedCluster}: one
 * leader per term, committed entries never change and are in every later leader's log, logs that share an entry agree
 * before it. After the faults stop, the group must elect a leader and commit on every member (liveness).
 * A failing seed replays alone: {@code -Dtest=RaftSimulationTest -Draft.sim.seed=N}.
 */
class RaftSimulationTest {

    private static final long FAULT_PHASE_MS = 20_000;
    private static final long CALM_PHASE_MS = 10_000;

    static LongStream seeds() {
        String one = System.getProperty("raft.sim.seed");
        if (one != null) {
            return LongStream.of(Long.parseLong(one));
        }
        return LongStream.range(1, 1 + Long.getLong("raft.sim.seeds", 60));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void threeMembersStaySafeUnderFaultsAndRecover(long seed) {
        runWithFaults(seed, 3);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void fiveMembersStaySafeUnderFaultsAndRecover(long seed) {
        runWithFaults(seed + 1_000_000, 5);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void membershipChangesStaySafeUnderFaults(long seed) {
        runWithFaults(seed + 2_000_000, 5, 3, true);
    }

    /**
     * Members also cut their logs at their commit offset now and then (retention), so members that were down or cut
     * off come back behind the leader's log start and must install its snapshot.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void compactionAndSnapshotsStaySafeUnderFaults(long seed) {
        SimulatedCluster cluster = runWithFaults(seed + 3_000_000, 3, 3, false, true);
        assertThat(cluster.compactions).isPositive();
    }

    /** The compaction runs do make members install snapshots (else the variant above would test little). */
    @org.junit.jupiter.api.Test
    void compactionRunsInstallSnapshots() {
        long installs = 0;
        for (long seed = 0; seed < 10; seed++) {
            installs += runWithFaults(seed + 3_000_000, 3, 3, false, true).installs;
        }
        assertThat(installs).as("snapshots installed in 10 runs").isPositive();
    }

    static SimulatedCluster runWithFaults(long seed, int size) {
        return runWithFaults(seed, size, size, false, false);
    }

    static SimulatedCluster runWithFaults(long seed, int size, int voters, boolean changes) {
        return runWithFaults(seed, size, voters, changes, false);
    }

    static SimulatedCluster runWithFaults(long seed, int size, int voters, boolean changes, boolean compaction) {
        SimulatedCluster cluster = new SimulatedCluster(seed, size, voters);
        cluster.dropRate = cluster.random.nextDouble() * 0.2;
        cluster.duplicateRate = cluster.random.nextDouble() * 0.05;
        cluster.maxDelayMs = 1 + cluster.random.nextInt(30);
        cluster.maxFsyncMs = 1 + cluster.random.nextInt(60);
        if (cluster.random.nextBoolean()) {
            cluster.maxAppendBytes = 64;
        }
        long end = FAULT_PHASE_MS;
        while (cluster.nowMs < end) {
            cluster.runUntil(cluster.nowMs + 1 + cluster.random.nextInt(20));
            if ((cluster.nowMs / 700) % 2 == 0) {
                // Busy and idle stretches, so groups also go quiet and wake under faults.
                cluster.propose();
            }
            int roll = cluster.random.nextInt(1000);
            int id = 1 + cluster.random.nextInt(size);
            if (roll < 10) {
                cluster.crash(id);
                long downMs = 1 + cluster.random.nextInt(cluster.random.nextBoolean() ? 100 : 2000);
                cluster.schedule(downMs, () -> cluster.restart(id));
            } else if (roll < 16) {
                cluster.isolate(id);
            } else if (roll < 20) {
                cluster.cut(id, 1 + cluster.random.nextInt(size));
            } else if (roll < 30) {
                cluster.heal();
            } else if (changes && roll < 45) {
                cluster.changeVoters();
            } else if (compaction && roll < 60) {
                cluster.compact(id);
            }
        }
        cluster.checkLogMatching();

        // Calm: every member up, every link whole, nothing lost.
        cluster.heal();
        cluster.dropRate = 0;
        cluster.duplicateRate = 0;
        for (SimulatedCluster.Member member : cluster.members()) {
            cluster.restart(member.id);
        }
        long calmEnd = cluster.nowMs + CALM_PHASE_MS;
        boolean committedEverywhere = false;
        while (cluster.nowMs < calmEnd && !committedEverywhere) {
            SimulatedCluster.Member leader = cluster.leader();
            long target = leader == null ? -1 : cluster.proposeTo(leader);
            if (target < 0) {
                cluster.runUntil(cluster.nowMs + 10);
                continue;
            }
            // A leader deposed meanwhile may lose its proposal (it was never committed): then try the next one.
            long attemptEnd = Math.min(calmEnd, cluster.nowMs + 2_000);
            while (cluster.nowMs < attemptEnd && !allCommitted(cluster, target)) {
                cluster.runUntil(cluster.nowMs + 10);
            }
            committedEverywhere = allCommitted(cluster, target);
        }
        assertThat(committedEverywhere)
                .as("within %d ms of calm every member commits a new proposal (seed %d): %s", CALM_PHASE_MS, seed,
                        states(cluster))
                .isTrue();
        // Then idle: the group goes quiet and sends nothing at all (members removed from it stopped, as the node's
        // reconciler stops them).
        SimulatedCluster.Member leader = cluster.leader();
        assertThat(leader).isNotNull();
        cluster.stopNonVoters(leader.group.voters());
        cluster.runUntil(cluster.nowMs + 1_000);
        long sentBefore = cluster.sent;
        cluster.runUntil(cluster.nowMs + 5_000);
        assertThat(cluster.sent - sentBefore).as("messages sent by an idle group in 5 s (seed %d): %s", seed,
                states(cluster)).isZero();
        cluster.checkLogMatching();
        SimulatedCluster.Member last = cluster.leader();
        for (SimulatedCluster.Member member : cluster.members()) {
            if (!last.group.voters().contains(member.id)) {
                continue;
            }
            assertThat(member.group.log().endOffset()).as("log end of member %d", member.id)
                    .isEqualTo(last.group.log().endOffset());
            assertThat(member.group.commitOffset()).as("commit of member %d", member.id)
                    .isEqualTo(last.group.commitOffset());
        }
        return cluster;
    }

    /** Every voter of the current leader's configuration is up and has committed {@code offset}. */
    private static boolean allCommitted(SimulatedCluster cluster, long offset) {
        SimulatedCluster.Member leader = cluster.leader();
        if (leader == null) {
            return false;
        }
        return cluster.members().stream().filter(m -> leader.group.voters().contains(m.id))
                .allMatch(m -> m.up() && m.group.commitOffset() >= offset);
    }

    private static List<String> states(SimulatedCluster cluster) {
        return cluster.members().stream()
                .map(m -> m.up() ? m.group + " voters=" + m.group.voters() + (m.group.quiesced() ? " quiet" : "") : "down")
                .toList();
    }
}
