package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.MemoryRaftLog;
import io.fluxmq.raftcore.NotLeaderException;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import io.fluxmq.raftcore.engine.CommitListener;
import io.fluxmq.raftcore.engine.EngineConfig;
import io.fluxmq.raftcore.engine.GroupStorage;
import io.fluxmq.raftcore.engine.RaftEngine;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Raft engines of several nodes in one JVM, each with its own {@link NettyTransport} on 127.0.0.1 (a port chosen by
 * the system). Every group has every node as a voter. A node's logs and hard states outlive its engine and
 * transport, so it can be restarted as a process would be (a new incarnation on a new port, peers told the new
 * address). The helpers follow raft-core's RaftEngineTest.
 */
final class TcpCluster implements AutoCloseable {

    static final String CLUSTER_ID = "tcp-cluster-test";
    static final int LOOPS = 2;
    static final int IO_THREADS = 1;

    /** Hard states as a disk would hold them: the last one each group persisted. */
    private static final class Disk implements GroupStorage {
        final Map<Long, HardState> hardStates = new ConcurrentHashMap<>();

        @Override
        public void persist(List<Persist> requests) {
            for (Persist request : requests) {
                if (request.hardState() != null) {
                    hardStates.put(request.groupId(), request.hardState());
                }
            }
        }
    }

    final Set<Integer> nodes;
    private final int groups;
    private final Map<Integer, InetSocketAddress> addresses = new ConcurrentHashMap<>();
    private final Map<Integer, RaftEngine> engines = new ConcurrentHashMap<>();
    private final Map<Integer, NettyTransport> transports = new ConcurrentHashMap<>();
    private final Map<Integer, Disk> disks = new ConcurrentHashMap<>();
    private final Map<Integer, Map<Long, MemoryRaftLog>> logs = new ConcurrentHashMap<>();
    /** Per node, the peers it was told restarted (onPeerRestart). */
    final Map<Integer, Set<Integer>> restartsSeen = new ConcurrentHashMap<>();
    /** Per group, the commit offset node 1's listener was last told of. */
    final Map<Long, AtomicLong> committedOnNode1 = new ConcurrentHashMap<>();

    private TcpCluster(int nodeCount, int groups) {
        this.nodes = new TreeSet<>();
        for (int node = 1; node <= nodeCount; node++) {
            nodes.add(node);
        }
        this.groups = groups;
    }

    static TcpCluster start(int nodeCount, int groups) {
        TcpCluster cluster = new TcpCluster(nodeCount, groups);
        for (long group = 0; group < groups; group++) {
            cluster.committedOnNode1.put(group, new AtomicLong());
        }
        for (int node : cluster.nodes) {
            cluster.disks.put(node, new Disk());
            Map<Long, MemoryRaftLog> nodeLogs = new ConcurrentHashMap<>();
            for (long group = 0; group < groups; group++) {
                nodeLogs.put(group, new MemoryRaftLog());
            }
            cluster.logs.put(node, nodeLogs);
            cluster.restartsSeen.put(node, ConcurrentHashMap.newKeySet());
            cluster.startNode(node);
        }
        return cluster;
    }

    private void startNode(int node) {
        NettyTransportConfig config = NettyTransportConfig.of(node, CLUSTER_ID, new InetSocketAddress("127.0.0.1", 0))
                .withIoThreads(IO_THREADS);
        NettyTransport transport = new NettyTransport(config, addresses::get, peer -> {
            restartsSeen.get(node).add(peer);
            RaftEngine engine = engines.get(node);
            if (engine != null) {
                engine.peerRestarted(peer); // as the node will wire it
            }
        });
        RaftEngine engine = new RaftEngine(new EngineConfig(node, LOOPS, 50, 300), transport, disks.get(node));
        transport.start(engine::receive);
        addresses.put(node, transport.localAddress());
        transports.put(node, transport);
        engines.put(node, engine.start());
        List<CompletableFuture<Void>> added = new ArrayList<>();
        for (long group = 0; group < groups; group++) {
            long id = group;
            CommitListener listener = node != 1 ? CommitListener.NONE
                    : (g, log, from, to) -> committedOnNode1.get(g).set(to);
            added.add(engine.addGroup(group, new RaftConfig(node, nodes, 500, 50, 8, 1 << 20), logs.get(node).get(id),
                    disks.get(node).hardStates.getOrDefault(id, HardState.INITIAL), 0, listener));
        }
        CompletableFuture.allOf(added.toArray(CompletableFuture[]::new)).join();
    }

    RaftEngine engine(int node) {
        return engines.get(node);
    }

    NettyTransport transport(int node) {
        return transports.get(node);
    }

    /** Closes the node's transport: its server and every connection, so it neither sends nor receives. */
    void cutOff(int node) {
        transports.get(node).close();
    }

    /** Stops the node's engine and transport and starts new ones over the same logs and hard states. */
    void restart(int node) throws InterruptedException {
        engines.remove(node).close();
        transports.remove(node).close();
        startNode(node);
    }

    /** The node leading the group as its own engine says, or -1. */
    int leaderOf(long group, Set<Integer> among) {
        for (int node : among) {
            if (engine(node).inspect(group, RaftGroup::role).join() == RaftGroup.Role.LEADER) {
                return node;
            }
        }
        return -1;
    }

    Set<Long> ledBy(Set<Integer> among) {
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

    boolean allQuiet() {
        for (int node : nodes) {
            Map<Long, Boolean> quiet = engine(node).inspectAll(RaftGroup::quiesced);
            if (quiet.size() != groups || quiet.containsValue(false)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Proposes five records to the group's leader and waits until they are committed; a refusal by a leader deposed
     * meanwhile is retried, a bounded number of times.
     */
    long proposeToLeader(long group, Set<Integer> among) {
        for (int attempt = 0; attempt < 50; attempt++) {
            int leader = leaderOf(group, among);
            if (leader > 0) {
                try {
                    return engine(leader).propose(group, ByteBuffer.wrap(new byte[100]), 5).get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof NotLeaderException)) {
                        throw new AssertionError("proposal to group " + group, e);
                    }
                } catch (InterruptedException | TimeoutException e) {
                    throw new AssertionError("proposal to group " + group, e);
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new AssertionError("no leader of group " + group + " took a proposal in 50 attempts");
    }

    TransportStats totalStats() {
        long[] sum = new long[10];
        for (NettyTransport transport : transports.values()) {
            TransportStats s = transport.stats();
            long[] values = {s.batchesSent(), s.messagesSent(), s.bytesSent(), s.batchesReceived(),
                    s.messagesReceived(), s.bytesReceived(), s.batchesDropped(), s.messagesDropped(),
                    s.connectionsRefused(), s.connectionsCorrupt()};
            for (int i = 0; i < sum.length; i++) {
                sum[i] += values[i];
            }
        }
        return new TransportStats(sum[0], sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7], sum[8], sum[9]);
    }

    @Override
    public void close() throws InterruptedException {
        for (RaftEngine engine : engines.values()) {
            engine.close();
        }
        for (NettyTransport transport : transports.values()) {
            transport.close();
        }
    }
}
