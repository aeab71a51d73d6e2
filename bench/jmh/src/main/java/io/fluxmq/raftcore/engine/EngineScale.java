package io.fluxmq.raftcore.engine;

import com.sun.management.OperatingSystemMXBean;
import io.fluxmq.raft.engine.NettyTransport;
import io.fluxmq.raft.engine.NettyTransportConfig;
import io.fluxmq.raft.engine.TransportStats;
import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.MemoryRaftLog;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Partition scale of the multi-Raft engine alone (no storage, no network stack): three nodes in one JVM host N groups
 * of three members each, as 3 nodes with N partitions at RF 3 would. Prints the time until every group has a leader,
 * until a proposal to each is committed, the CPU the process burns while every group is idle, the engine's threads,
 * heap per group, and how long after one node is cut off its groups have new leaders.
 *
 * <p>The nodes talk through an in-process transport (calls into the peer engine), or with {@code TRANSPORT=tcp} through
 * {@link NettyTransport} on 127.0.0.1 ({@code IO_THREADS} Netty threads per node, default 1), where cutting a node off
 * closes its transport and the idle figures include the bytes on the wire.
 *
 * <p>Run: {@code [TRANSPORT=tcp] bench/engine-scale.sh [groups] [loops per node]} (see bench/README.md).
 */
public final class EngineScale {

    public static void main(String[] args) throws Exception {
        int groups = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        int loops = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        Set<Integer> nodes = new TreeSet<>(List.of(1, 2, 3));
        Map<Integer, RaftEngine> engines = new TreeMap<>();
        Set<Integer> cut = ConcurrentHashMap.newKeySet();
        boolean tcp = "tcp".equals(System.getenv("TRANSPORT"));
        int ioThreads = Integer.parseInt(System.getenv().getOrDefault("IO_THREADS", "1"));
        Map<Integer, NettyTransport> transports = new TreeMap<>();
        Map<Integer, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        for (int node : nodes) {
            Transport transport;
            if (tcp) {
                NettyTransport netty = new NettyTransport(NettyTransportConfig.of(node, "engine-scale",
                        new InetSocketAddress("127.0.0.1", 0)).withIoThreads(ioThreads), addresses::get, peer -> { });
                transports.put(node, netty);
                transport = netty;
            } else {
                transport = (to, batch) -> {
                    RaftEngine peer = engines.get(to);
                    if (peer != null && !cut.contains(node) && !cut.contains(to)) {
                        peer.receive(node, List.copyOf(batch));
                    }
                };
            }
            engines.put(node, new RaftEngine(new EngineConfig(node, loops, 100, Long.getLong("nodeTimeoutMs", 400)),
                    transport, GroupStorage.VOLATILE));
        }
        for (Map.Entry<Integer, NettyTransport> netty : transports.entrySet()) {
            netty.getValue().start(engines.get(netty.getKey())::receive);
            addresses.put(netty.getKey(), netty.getValue().localAddress());
        }
        long start = System.nanoTime();
        for (RaftEngine engine : engines.values()) {
            engine.start();
        }
        List<CompletableFuture<Void>> added = new ArrayList<>();
        for (long group = 0; group < groups; group++) {
            for (RaftEngine engine : engines.values()) {
                added.add(engine.addGroup(group, RaftConfig.of(engine.nodeId(), nodes), new MemoryRaftLog(),
                        HardState.INITIAL, 0, CommitListener.NONE));
            }
        }
        CompletableFuture.allOf(added.toArray(CompletableFuture[]::new)).join();
        awaitCount("led", groups, () -> ledBy(engines, nodes).size());
        System.out.printf("%d groups x 3 members, %d event loop(s) per node, %s: every group led %d ms after"
                + " start%n", groups, loops, tcp ? "TCP transport on 127.0.0.1 (" + ioThreads + " I/O thread(s) per"
                + " node)" : "in-JVM transport", ms(start));

        long proposed = System.nanoTime();
        // The leader of a group is the member leading in the greatest term: right after elections a deposed leader
        // may not have heard of its successor yet.
        Map<Long, Integer> leaders = new HashMap<>();
        Map<Long, Long> leaderTerms = new HashMap<>();
        int doubleLed = 0;
        long termsBefore = 0;
        for (int node : nodes) {
            for (Map.Entry<Long, long[]> e : engines.get(node).inspectAll(
                    r -> new long[] {r.role() == RaftGroup.Role.LEADER ? 1 : 0, r.term()}).entrySet()) {
                termsBefore += e.getValue()[1];
                if (e.getValue()[0] == 1) {
                    Long known = leaderTerms.get(e.getKey());
                    doubleLed += known == null ? 0 : 1;
                    if (known == null || known < e.getValue()[1]) {
                        leaderTerms.put(e.getKey(), e.getValue()[1]);
                        leaders.put(e.getKey(), node);
                    }
                }
            }
        }
        List<CompletableFuture<Long>> proposals = new ArrayList<>();
        for (long group = 0; group < groups; group++) {
            int leader = leaders.get(group);
            proposals.add(engines.get(leader).propose(group, ByteBuffer.wrap(new byte[100]), 10)
                    .exceptionally(e -> -1L));
        }
        long refused = proposals.stream().map(CompletableFuture::join).filter(b -> b < 0).count();
        long termsAfter = engines.values().stream()
                .mapToLong(e -> e.inspectAll(RaftGroup::term).values().stream().mapToLong(Long::longValue).sum()).sum();
        System.out.printf("one proposal of 10 records to each group committed in %d ms (%d refused by a leader"
                + " deposed meanwhile; %d groups had two members leading when the leaders were read; terms of all"
                + " members went up by %d meanwhile)%n", ms(proposed), refused, doubleLed, termsAfter - termsBefore);

        awaitCount("quiet", 3 * groups, () -> engines.values().stream()
                .mapToLong(e -> e.inspectAll(RaftGroup::quiesced).values().stream().filter(q -> q).count()).sum());
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpuBefore = os.getProcessCpuTime();
        long[] wireBefore = wire(transports);
        long idleStart = System.nanoTime();
        LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(10));
        double cpuShare = (os.getProcessCpuTime() - cpuBefore) / (double) (System.nanoTime() - idleStart);
        long[] wireAfter = wire(transports);
        double idleSeconds = (System.nanoTime() - idleStart) / 1e9;
        long threads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("raft-")).count();
        System.out.printf("idle, every group quiet: process CPU %.2f %% of one core over 10 s (3 nodes together);"
                + " engine threads %d (3 nodes); heap after GC %d MiB, %.1f KiB per group member%n",
                100 * cpuShare, threads, heap >> 20, heap / 1024.0 / (3.0 * groups));
        if (tcp) {
            System.out.printf("idle on the wire (3 nodes, frame bytes without TCP/IP headers): %.0f bytes/s in %.0f"
                    + " batches/s, %d group messages%n", (wireAfter[0] - wireBefore[0]) / idleSeconds,
                    (wireAfter[1] - wireBefore[1]) / idleSeconds, wireAfter[2] - wireBefore[2]);
        }

        List<Long> ledBy1 = new ArrayList<>(ledBy(engines, Set.of(1)));
        long cutAt = System.nanoTime();
        if (tcp) {
            transports.get(1).close();
        } else {
            cut.add(1);
        }
        Set<Integer> survivors = Set.of(2, 3);
        long lastMs = 0;
        List<Long> waiting = new ArrayList<>(ledBy1);
        while (!waiting.isEmpty() && ms(cutAt) < 30_000) {
            Set<Long> led = ledBy(engines, survivors);
            waiting.removeIf(led::contains);
            lastMs = ms(cutAt);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        System.out.printf("node 1 cut off: %d of the %d groups it led have a new leader, the last %d ms after the cut"
                + " (node timeout 400 ms)%n", ledBy1.size() - waiting.size(), ledBy1.size(), lastMs);
        for (RaftEngine engine : engines.values()) {
            engine.close();
        }
        for (NettyTransport transport : transports.values()) {
            System.out.printf("node transport stats: %s%n", transport.stats());
            transport.close();
        }
    }

    /** Bytes, batches and group messages sent by all transports so far. */
    private static long[] wire(Map<Integer, NettyTransport> transports) {
        long[] sum = new long[3];
        for (NettyTransport transport : transports.values()) {
            TransportStats stats = transport.stats();
            sum[0] += stats.bytesSent();
            sum[1] += stats.batchesSent();
            sum[2] += stats.messagesSent();
        }
        return sum;
    }

    private interface Count {
        long get();
    }

    private static void awaitCount(String what, long target, Count count) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        long now;
        while ((now = count.get()) < target) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + ": " + now + " of " + target + " after 5 minutes");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private static Set<Long> ledBy(Map<Integer, RaftEngine> engines, Set<Integer> among) {
        Set<Long> led = new HashSet<>();
        for (int node : among) {
            engines.get(node).inspectAll(RaftGroup::role).forEach((group, role) -> {
                if (role == RaftGroup.Role.LEADER) {
                    led.add(group);
                }
            });
        }
        return led;
    }

    private static long ms(long sinceNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
    }
}
