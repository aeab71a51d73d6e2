package io.fluxmq.raftcore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a failure inside one group does to the engine: it stops that group alone, the loop thread and every other group
 * of it go on, and the owner is told. One node, one event loop, single-member groups (they elect themselves).
 */
class EngineFailureTest {

    private static final int GROUPS = 10;

    private final Map<Long, Throwable> failed = new ConcurrentHashMap<>();
    private final AtomicBoolean storageBroken = new AtomicBoolean();
    private final Map<Long, FaultyLog> logs = new ConcurrentHashMap<>();
    private RaftEngine engine;

    @AfterEach
    void stop() throws InterruptedException {
        if (engine != null) {
            engine.close();
        }
    }

    /** A log whose appends fail once {@link #broken} is set, as a full or failed disk would make them. */
    private static final class FaultyLog extends ForwardingRaftLog {
        volatile boolean broken;

        @Override
        void changing(String what) {
            if (broken && what.equals("append")) {
                throw new UncheckedIOException(new java.io.IOException("No space left on device"));
            }
        }
    }

    private void start(CommitListener listener) {
        GroupStorage storage = requests -> {
            if (storageBroken.get()) {
                throw new UncheckedIOException(new java.io.IOException("fsync failed"));
            }
        };
        engine = new RaftEngine(new EngineConfig(1, 1, 50, 300), (toNode, batch) -> { }, storage, failed::put)
                .start();
        for (long group = 0; group < GROUPS; group++) {
            add(group, listener);
        }
        for (long group = 0; group < GROUPS; group++) {
            awaitLed(group);
        }
    }

    private void add(long group, CommitListener listener) {
        FaultyLog log = new FaultyLog();
        logs.put(group, log);
        engine.addGroup(group, new RaftConfig(1, Set.of(1), 200, 50, 8, 1 << 20), log, HardState.INITIAL, 0,
                listener).orTimeout(10, TimeUnit.SECONDS).join();
    }

    private void awaitLed(long group) {
        await("group " + group + " led", Duration.ofSeconds(10),
                () -> engine.inspect(group, RaftGroup::role).join() == RaftGroup.Role.LEADER);
    }

    private long propose(long group) throws Exception {
        return engine.propose(group, ByteBuffer.wrap(new byte[10]), 1).get(10, TimeUnit.SECONDS);
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    private void assertOthersCommit(long stopped) throws Exception {
        for (long group = 0; group < GROUPS; group++) {
            if (group != stopped) {
                propose(group);
            }
        }
    }

    @Test
    void aGroupWhoseLogFailsStopsAloneAndTheLoopGoesOn() throws Exception {
        start(CommitListener.NONE);
        assertOthersCommit(-1);
        logs.get(5L).broken = true;

        assertThatThrownBy(() -> propose(5)).isInstanceOf(ExecutionException.class)
                .hasRootCauseMessage("No space left on device");
        assertThat(failed).containsOnlyKeys(5L);
        assertThat(engine.inspect(5, RaftGroup::role).join()).as("no longer hosted").isNull();
        assertOthersCommit(5);
        assertThat(failed).containsOnlyKeys(5L);
    }

    @Test
    void aListenerThatThrowsStopsItsGroupOnly() throws Exception {
        start((groupId, log, from, to) -> {
            if (groupId == 3 && to > 1) { // the leader's own first entry ends at 1; the first proposal after it
                throw new IllegalStateException("state machine bug");
            }
        });
        assertThatThrownBy(() -> propose(3)).isInstanceOf(ExecutionException.class)
                .hasRootCauseMessage("state machine bug");
        assertThat(failed).containsOnlyKeys(3L);
        assertOthersCommit(3);
    }

    @Test
    void anErrorStopsTheLoopsGroupsAndTheLoopRunsGroupsAddedLater() throws Exception {
        start((groupId, log, from, to) -> {
            if (groupId == 4 && to > 1) {
                throw new StackOverflowError("deep state machine");
            }
        });
        assertThatThrownBy(() -> propose(4)).isInstanceOf(ExecutionException.class)
                .hasRootCauseMessage("deep state machine");
        // one loop: every group of it stopped, not only the one whose listener threw
        await("every group stopped", Duration.ofSeconds(10), () -> failed.size() == GROUPS);
        for (long group = 0; group < GROUPS; group++) {
            assertThat(engine.inspect(group, RaftGroup::role).get(10, TimeUnit.SECONDS)).as("group %d hosted", group)
                    .isNull();
        }

        add(100, CommitListener.NONE);
        awaitLed(100);
        assertThat(propose(100)).as("the loop thread survived and runs a group added after the error").isPositive();
    }

    @Test
    void aStorageFailureStopsTheGroupsOfThatPassWithoutAdvancingThem() throws Exception {
        AtomicBoolean committedWhileBroken = new AtomicBoolean();
        start((groupId, log, from, to) -> {
            if (storageBroken.get()) {
                committedWhileBroken.set(true);
            }
        });
        storageBroken.set(true);
        assertThatThrownBy(() -> propose(7)).isInstanceOf(ExecutionException.class).hasRootCauseMessage("fsync failed");
        assertThat(failed).containsKey(7L);
        assertThat(committedWhileBroken).as("nothing committed that was not durable").isFalse();

        storageBroken.set(false);
        add(100, CommitListener.NONE);
        awaitLed(100);
        assertThat(propose(100)).as("the loop survived and runs new groups").isPositive();
        for (long group = 0; group < GROUPS; group++) {
            if (!failed.containsKey(group)) {
                propose(group);
            }
        }
    }
}
