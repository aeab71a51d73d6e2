package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.Reassignment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ReassignmentDriver} over a group that changes one voter at a time (as the multi-Raft engine's): the steps come
 * in Raft's single-server order, leadership moves off a leaving leader before it is removed, a leaving voter whose
 * node is down is removed before the new one is added, and {@code CompleteReassignment} is committed only once the
 * voters are the target.
 */
class ReassignmentDriverTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);

    private final List<ScheduledExecutorService> threads = new ArrayList<>();
    private final List<MetadataCommand> submitted = new CopyOnWriteArrayList<>();
    private final FakeGroup group = new FakeGroup();

    @AfterEach
    void stop() {
        threads.forEach(ScheduledExecutorService::shutdownNow);
    }

    /** One group of voters shared by every node's driver: a single-server change per call, as raft-core's. */
    private static final class FakeGroup {
        final List<Set<Integer>> history = new CopyOnWriteArrayList<>();
        volatile Set<Integer> voters = Set.of();
        volatile int leader;
        volatile Set<Integer> down = Set.of();

        synchronized CompletableFuture<Void> change(Set<Integer> next) {
            Set<Integer> diff = new HashSet<>(voters);
            diff.addAll(next);
            Set<Integer> both = new HashSet<>(voters);
            both.retainAll(next);
            diff.removeAll(both);
            if (diff.size() != 1) {
                return CompletableFuture.failedFuture(new IllegalArgumentException(voters + " -> " + next));
            }
            voters = Set.copyOf(next);
            history.add(new TreeSet<>(next));
            return CompletableFuture.completedFuture(null);
        }

        GroupMembership on(int node) {
            FakeGroup g = this;
            return new GroupMembership() {
                @Override
                public boolean leads(TopicPartition tp) {
                    return g.leader == node;
                }

                @Override
                public CompletableFuture<Voters> voters(TopicPartition tp) {
                    return CompletableFuture.completedFuture(new Voters(List.copyOf(new TreeSet<>(g.voters)), true));
                }

                @Override
                public CompletableFuture<Void> addVoter(TopicPartition tp, List<Integer> current, int added) {
                    Set<Integer> next = new TreeSet<>(current);
                    next.add(added);
                    return g.change(next);
                }

                @Override
                public CompletableFuture<Void> shrinkVoters(TopicPartition tp, List<Integer> current,
                                                            List<Integer> target) {
                    List<Integer> leaving = new ArrayList<>(current);
                    leaving.removeAll(target);
                    Set<Integer> next = new TreeSet<>(current);
                    next.remove(leaving.get(0));
                    return g.change(next);
                }

                @Override
                public CompletableFuture<Integer> caughtUpAmong(TopicPartition tp, List<Integer> candidates) {
                    return CompletableFuture.completedFuture(candidates.stream().filter(g.voters::contains)
                            .findFirst().orElse(-1));
                }

                @Override
                public Set<Integer> nodesDown() {
                    return g.down;
                }

                @Override
                public CompletableFuture<?> transferLeadership(TopicPartition tp, int to) {
                    g.leader = to;
                    return CompletableFuture.completedFuture(null);
                }
            };
        }
    }

    private void driver(int node, ClusterState state) {
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor();
        threads.add(thread);
        ReassignmentDriver driver = new ReassignmentDriver(node, group.on(node), () -> state, command -> {
            submitted.add(command);
            return CompletableFuture.completedFuture(MetadataReply.ok(0));
        }, thread);
        driver.start();
        driver.onMetadata(state);
    }

    private static ClusterState moving(List<Integer> original, List<Integer> target) {
        return new ClusterState(2, Map.of(), Map.of(), 0, Map.of(), Map.of(TP, new Reassignment(original, target)));
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    @Test
    void addsTheNewVoterMovesLeadershipOffTheLeavingLeaderThenRemovesIt() {
        group.voters = Set.of(1, 2, 3);
        group.leader = 1;
        ClusterState state = moving(List.of(1, 2, 3), List.of(2, 3, 4));
        for (int node = 1; node <= 4; node++) {
            driver(node, state);
        }
        await("the reassignment completed", () -> !submitted.isEmpty());
        assertThat(group.history).containsExactly(Set.of(1, 2, 3, 4), Set.of(2, 3, 4));
        assertThat(group.leader).as("a target replica leads").isIn(2, 3, 4);
        assertThat(submitted).containsExactly(new MetadataCommand.CompleteReassignment("t", 0, List.of(2, 3, 4)));
    }

    @Test
    void aLeavingVoterWhoseNodeIsDownIsRemovedBeforeTheNewOneIsAdded() {
        group.voters = Set.of(1, 2, 3);
        group.leader = 1;
        group.down = Set.of(3);
        driver(1, moving(List.of(1, 2, 3), List.of(1, 2, 4)));
        await("the reassignment completed", () -> !submitted.isEmpty());
        assertThat(group.history).containsExactly(Set.of(1, 2), Set.of(1, 2, 4));
        assertThat(submitted).containsExactly(new MetadataCommand.CompleteReassignment("t", 0, List.of(1, 2, 4)));
    }

    @Test
    void noVoterIsAddedThatWouldLeaveTheGroupWithoutALiveMajority() {
        group.voters = Set.of(1, 2);
        group.leader = 1;
        group.down = Set.of(2, 3);
        driver(1, moving(List.of(1, 2), List.of(1, 2, 3))); // 2 of 3 voters down: no quorum could commit the change
        ScheduledExecutorService probe = threads.get(0);
        CompletableFuture<Void> ticked = new CompletableFuture<>();
        probe.schedule(() -> ticked.complete(null), 2 * ReassignmentDriver.TICK_MS, TimeUnit.MILLISECONDS);
        ticked.join(); // a few ticks of the driver's own thread have run by now
        assertThat(group.history).isEmpty();
        assertThat(submitted).isEmpty();
        group.down = Set.of(2);
        await("the reassignment completed", () -> !submitted.isEmpty());
        assertThat(group.history).containsExactly(Set.of(1, 2, 3));
    }

    @Test
    void aCancelAfterTheNewVoterWasAddedRemovesItAgain() {
        group.voters = Set.of(1, 2, 3, 4); // moving [1,2,3] -> [2,3,4] had added 4 when it was cancelled
        group.leader = 1;
        driver(1, moving(List.of(1, 2, 3), List.of(1, 2, 3)));
        await("the cancel completed", () -> !submitted.isEmpty());
        assertThat(group.history).containsExactly(Set.of(1, 2, 3));
        assertThat(group.leader).isEqualTo(1);
        assertThat(submitted).containsExactly(new MetadataCommand.CompleteReassignment("t", 0, List.of(1, 2, 3)));
    }
}
