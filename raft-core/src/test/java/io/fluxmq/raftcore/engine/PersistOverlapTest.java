package io.fluxmq.raftcore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.MemoryRaftLog;
import io.fluxmq.raftcore.Message;
import io.fluxmq.raftcore.NotLeaderException;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A leader's appends leave before its own force, so the followers' forces overlap the leader's and a commit waits for
 * one force, not two in a row. Each node's storage here holds every force of new entries until some follower has been
 * handed an append reaching them (at most 2 s): a leader that sent its appends only after forcing would wait the full
 * 2 s every time.
 */
class PersistOverlapTest {

    private static final long GROUP = 7;
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final Map<Integer, RaftEngine> engines = new ConcurrentHashMap<>();
    private final AtomicLong appendedEnd = new AtomicLong();
    private final AtomicInteger forcesWaitedOut = new AtomicInteger();
    private final AtomicInteger forcesOfNewEntries = new AtomicInteger();

    @AfterEach
    void stop() throws InterruptedException {
        for (RaftEngine engine : engines.values()) {
            engine.close();
        }
    }

    private Transport transportOf(int from) {
        return (to, batch) -> {
            for (GroupMessage m : batch) {
                if (m.message() instanceof Message.AppendRequest append && !append.entries().isEmpty()) {
                    appendedEnd.accumulateAndGet(append.endOffset(), Math::max);
                }
            }
            RaftEngine peer = engines.get(to);
            if (peer != null) {
                peer.receive(from, List.copyOf(batch));
            }
        };
    }

    private GroupStorage storage() {
        AtomicLong forcedEnd = new AtomicLong();
        return requests -> {
            for (GroupStorage.Persist request : requests) {
                if (request.persistEnd() <= forcedEnd.get()) {
                    continue;
                }
                forcesOfNewEntries.incrementAndGet();
                long deadline = System.nanoTime() + WAIT_NANOS;
                while (appendedEnd.get() < request.persistEnd() && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                }
                if (appendedEnd.get() < request.persistEnd()) {
                    forcesWaitedOut.incrementAndGet();
                }
                forcedEnd.set(request.persistEnd());
            }
        };
    }

    @Test
    void aLeadersAppendsLeaveBeforeItsOwnForce() throws Exception {
        Set<Integer> nodes = Set.of(1, 2, 3);
        for (int node : nodes) {
            engines.put(node, new RaftEngine(new EngineConfig(node, 1, 50, 300), transportOf(node), storage()));
        }
        for (RaftEngine engine : engines.values()) {
            engine.start();
            engine.addGroup(GROUP, new RaftConfig(engine.nodeId(), nodes, 200, 50, 8, 1 << 20), new MemoryRaftLog(),
                    HardState.INITIAL, 0, CommitListener.NONE).join();
        }
        List<Long> bases = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (bases.size() < 5 && System.nanoTime() < deadline) {
            for (RaftEngine engine : engines.values()) {
                if (engine.inspect(GROUP, RaftGroup::role).join() != RaftGroup.Role.LEADER) {
                    continue;
                }
                try {
                    bases.add(engine.propose(GROUP, ByteBuffer.wrap(new byte[10]), 2).get(10, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(NotLeaderException.class);
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertThat(bases).hasSize(5);
        assertThat(forcesOfNewEntries).as("forces of new entries on all nodes").hasValueGreaterThanOrEqualTo(15);
        assertThat(forcesWaitedOut).as("forces that waited 2 s for the leader's append to leave").hasValue(0);
    }
}
