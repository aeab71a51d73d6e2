package io.fluxmq.raftcore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.MemoryRaftLog;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A group that stops on its leader's node while that node stays up (its state machine or storage failed there) is led
 * from another node at once: the stopping leader tells its most complete follower to campaign. Without that, its
 * followers wait out their election timeout (10 s here), or forever when the group was quiet, since the node's
 * failure detector still hears the node.
 */
class StoppedLeaderTest {

    private static final long GROUP = 4;
    private static final Set<Integer> NODES = Set.of(1, 2, 3);

    private final InJvmNetwork network = new InJvmNetwork();
    private final Map<Integer, RaftEngine> engines = new ConcurrentHashMap<>();
    private final Map<Long, Throwable> failedOnNode1 = new ConcurrentHashMap<>();
    private final AtomicBoolean breakNode1 = new AtomicBoolean();

    @AfterEach
    void stop() throws InterruptedException {
        for (RaftEngine engine : engines.values()) {
            engine.close();
        }
    }

    private RaftGroup.Role role(int node) throws Exception {
        return engines.get(node).inspect(GROUP, RaftGroup::role).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aLeaderWhoseGroupStopsHandsOverAtOnce() throws Exception {
        for (int node : NODES) {
            GroupFailureListener failures = node == 1 ? failedOnNode1::put : (group, cause) -> { };
            RaftEngine engine = new RaftEngine(new EngineConfig(node, 1, 50, 300), network.transportOf(node),
                    GroupStorage.VOLATILE, failures);
            network.register(engine);
            engines.put(node, engine.start());
            CommitListener listener = node != 1 ? CommitListener.NONE : (group, log, from, to) -> {
                if (breakNode1.get()) {
                    throw new IllegalStateException("state machine bug");
                }
            };
            engine.addGroup(GROUP, new RaftConfig(node, NODES, 10_000, 50, 8, 1 << 20), new MemoryRaftLog(),
                    HardState.INITIAL, 0, listener).get(5, TimeUnit.SECONDS);
        }
        engines.get(1).campaign(GROUP).get(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (role(1) != RaftGroup.Role.LEADER && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        long base = engines.get(1).propose(GROUP, ByteBuffer.wrap(new byte[10]), 2).get(5, TimeUnit.SECONDS);

        breakNode1.set(true);
        long stoppedAt = System.nanoTime();
        assertThatThrownBy(() -> engines.get(1).propose(GROUP, ByteBuffer.wrap(new byte[10]), 3)
                .get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class).hasRootCauseMessage("state machine bug");
        assertThat(failedOnNode1).containsOnlyKeys(GROUP);

        int newLeader = -1;
        deadline = stoppedAt + TimeUnit.SECONDS.toNanos(3);
        while (newLeader < 0 && System.nanoTime() < deadline) {
            for (int node : Set.of(2, 3)) {
                if (role(node) == RaftGroup.Role.LEADER) {
                    newLeader = node;
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        assertThat(newLeader).as("a node that leads the group within 3 s (election timeout 10 s)").isPositive();
        // the entry node 1 appended before it stopped is the new leader's too (it was replicated before the commit)
        assertThat(engines.get(newLeader).propose(GROUP, ByteBuffer.wrap(new byte[10]), 1).get(5, TimeUnit.SECONDS))
                .isGreaterThanOrEqualTo(base + 2);
    }
}
