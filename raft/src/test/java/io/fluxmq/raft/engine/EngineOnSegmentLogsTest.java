package io.fluxmq.raft.engine;

import static io.fluxmq.raft.engine.TestEntries.batch;
import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.NotLeaderException;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import io.fluxmq.raftcore.engine.CommitListener;
import io.fluxmq.raftcore.engine.EngineConfig;
import io.fluxmq.raftcore.engine.RaftEngine;
import io.fluxmq.raftcore.engine.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@link RaftEngine}s in one JVM (two event loops each) whose groups run on {@link SegmentRaftLog}s with one
 * {@link FileGroupStorage} and {@link HardStateFile} per node, so loops persist concurrently into the shared file
 * (node 1 forces its logs on an I/O pool):
 * every group commits a real Kafka batch, then all three nodes stop and start again from their directories, every
 * group elects a leader in a later term, still holds what was committed and commits again.
 */
class EngineOnSegmentLogsTest {

    private static final Set<Integer> NODES = new TreeSet<>(List.of(1, 2, 3));
    private static final int GROUPS = 12;
    private static final SegmentLogConfig CONFIG = new SegmentLogConfig(64 * 1024, Long.MAX_VALUE, 4096, 4096);

    @TempDir
    Path dir;
    private final Map<Integer, RaftEngine> engines = new ConcurrentHashMap<>();
    private final List<SegmentRaftLog> logs = new ArrayList<>();
    private final List<ExecutorService> forcePools = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        stopAll();
    }

    private void stopAll() throws Exception {
        for (RaftEngine engine : engines.values()) {
            engine.close();
        }
        engines.clear();
        for (SegmentRaftLog log : logs) {
            log.close();
        }
        logs.clear();
        for (ExecutorService pool : forcePools) {
            pool.shutdownNow();
        }
        forcePools.clear();
    }

    private void startAll() throws Exception {
        List<CompletableFuture<Void>> added = new ArrayList<>();
        for (int node : NODES) {
            Transport transport = (to, batch) -> {
                RaftEngine peer = engines.get(to);
                if (peer != null) {
                    peer.receive(node, List.copyOf(batch));
                }
            };
            Path nodeDir = dir.resolve("node-" + node);
            // node 1 forces the logs of a pass side by side on two I/O threads, the others one after another
            ExecutorService pool = node == 1 ? Executors.newFixedThreadPool(2) : null;
            if (pool != null) {
                forcePools.add(pool);
            }
            FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(nodeDir.resolve("raft-hard-state")),
                pool);
            RaftEngine engine = new RaftEngine(new EngineConfig(node, 2, 50, 300), transport, storage);
            engines.put(node, engine);
            engine.start();
            for (long group = 0; group < GROUPS; group++) {
                SegmentRaftLog log = SegmentRaftLog.open(nodeDir.resolve("group-" + group), CONFIG, () -> 0L);
                logs.add(log);
                added.add(engine.addGroup(group, new RaftConfig(node, NODES, 500, 50, 8, 1 << 20), log,
                    storage.initialHardState(group, log), 0, CommitListener.NONE));
            }
        }
        CompletableFuture.allOf(added.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private int leaderOf(long group) {
        for (int node : NODES) {
            if (engines.get(node).inspect(group, RaftGroup::role).join() == RaftGroup.Role.LEADER) {
                return node;
            }
        }
        return -1;
    }

    /** Proposes a batch of three records to the group's leader until one takes it; returns its committed offset. */
    private long propose(long group) throws Exception {
        for (int attempt = 0; attempt < 100; attempt++) {
            int leader = leaderOf(group);
            if (leader > 0) {
                try {
                    return engines.get(leader).propose(group,
                        batch(0, 3, RecordBatch.NO_PARTITION_LEADER_EPOCH, 40), 3).get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(NotLeaderException.class);
                } catch (TimeoutException e) {
                    throw new AssertionError("proposal to group " + group, e);
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new AssertionError("no leader of group " + group + " took a proposal");
    }

    private long term(long group) {
        long term = 0;
        for (int node : NODES) {
            term = Math.max(term, engines.get(node).inspect(group, RaftGroup::term).join());
        }
        return term;
    }

    @Test
    void groupsCommitRestartFromDiskAndCommitAgain() throws Exception {
        startAll();
        Map<Long, Long> committedEnd = new TreeMap<>();
        Map<Long, Long> termBefore = new TreeMap<>();
        for (long group = 0; group < GROUPS; group++) {
            long base = propose(group);
            committedEnd.put(group, base + 3);
        }
        for (long group = 0; group < GROUPS; group++) {
            long g = group;
            await("group " + g + " committed on every node", Duration.ofSeconds(10), () -> NODES.stream()
                .allMatch(n -> engines.get(n).inspect(g, RaftGroup::commitOffset).join() >= committedEnd.get(g)));
            termBefore.put(group, term(group));
        }
        HardStateFile nodeOne = HardStateFile.open(dir.resolve("node-1").resolve("raft-hard-state"));
        assertThat(nodeOne.all()).hasSize(GROUPS);

        stopAll();
        startAll();
        for (long group = 0; group < GROUPS; group++) {
            // the log belongs to the group's loop thread: read it there
            List<Entry.Kind> kinds = engines.get(1).inspect(group, raft -> raft.log().read(0, Integer.MAX_VALUE)
                .stream().map(Entry::kind).toList()).join();
            assertThat(kinds).contains(Entry.Kind.LEADER_CHANGE, Entry.Kind.DATA);
            assertThat(engines.get(1).inspect(group, raft -> raft.log().endOffset()).join())
                .isGreaterThanOrEqualTo(committedEnd.get(group));
            long base = propose(group);
            assertThat(base).isGreaterThanOrEqualTo(committedEnd.get(group));
            assertThat(term(group)).isGreaterThan(termBefore.get(group));
        }
    }
}
