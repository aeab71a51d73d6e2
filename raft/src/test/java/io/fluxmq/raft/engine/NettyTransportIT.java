package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.Message.AppendRequest;
import io.fluxmq.raftcore.RaftGroup;
import io.fluxmq.raftcore.engine.GroupMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The Netty transport on 127.0.0.1: three Raft engines over it, and its handshake, frame checks and bounds. */
class NettyTransportIT {

    private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable closeable : closeables) {
            closeable.close();
        }
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private static long threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
    }

    @Test
    void threeEnginesElectCommitGoQuietFailOverAndCatchUpARestartedNode() throws InterruptedException {
        int groups = 150;
        TcpCluster cluster = TcpCluster.start(3, groups);
        closeables.add(cluster);
        Set<Integer> all = cluster.nodes;
        await("a leader in every group", Duration.ofSeconds(30), () -> cluster.ledBy(all).size() == groups);
        for (long group = 0; group < groups; group++) {
            cluster.proposeToLeader(group, all);
        }
        await("node 1 told of every commit", Duration.ofSeconds(10),
                () -> cluster.committedOnNode1.values().stream().allMatch(c -> c.get() >= 6));
        assertThat(threadsNamed("raft-net-")).as("transport threads of 3 nodes").isEqualTo(3L * TcpCluster.IO_THREADS);
        assertThat(threadsNamed("raft-loop-") + threadsNamed("raft-failure-detector-")).isEqualTo(3L * 3);

        await("every group quiet", Duration.ofSeconds(10), cluster::allQuiet);
        // Answers to the last quiescing heartbeats may still be on their way when the members say they are quiet.
        long[] lastCount = {-1};
        await("no group message for 300 ms", Duration.ofSeconds(10), () -> {
            long now = cluster.totalStats().messagesSent();
            boolean settled = now == lastCount[0];
            lastCount[0] = now;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300));
            return settled;
        });
        TransportStats before = cluster.totalStats();
        long idleStart = System.nanoTime();
        LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
        TransportStats after = cluster.totalStats();
        double idleSeconds = (System.nanoTime() - idleStart) / 1e9;
        assertThat(after.messagesSent() - before.messagesSent()).as("group messages in 2 s of idleness").isZero();
        // Only node heartbeats: 6 directed links, one every 50 ms, about 240 batches in 2 s whatever the groups.
        long heartbeats = after.batchesSent() - before.batchesSent();
        assertThat(heartbeats).isBetween(100L, 400L);
        assertThat(after.batchesReceived() - before.batchesReceived()).isBetween(100L, 400L);
        System.out.printf("idle: %d node heartbeats, %.0f bytes/s on the wire (3 nodes, frames without TCP/IP"
                + " headers)%n", heartbeats, (after.bytesSent() - before.bytesSent()) / idleSeconds);

        List<Long> ledByNode1 = new ArrayList<>(cluster.ledBy(Set.of(1)));
        assertThat(ledByNode1).isNotEmpty();
        long cutAt = System.nanoTime();
        cluster.cutOff(1);
        Set<Integer> survivors = Set.of(2, 3);
        await("node 1 reported down", Duration.ofSeconds(10), () -> cluster.engine(2).peersDown().contains(1)
                && cluster.engine(3).peersDown().contains(1));
        long detectedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt);
        await("new leaders", Duration.ofSeconds(10), () -> cluster.ledBy(survivors).containsAll(ledByNode1));
        long failoverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt);
        assertThat(failoverMs - detectedMs).as("ms from detection to new leaders of %d groups", ledByNode1.size())
                .isLessThan(500);
        for (long group = 0; group < groups; group++) {
            assertThat(cluster.proposeToLeader(group, survivors)).isPositive();
        }
        System.out.printf("node 1 cut off: detected by both survivors %d ms, its %d groups re-led %d ms after the"
                + " cut%n", detectedMs, ledByNode1.size(), failoverMs);
        assertThat(cluster.transport(2).stats().batchesDropped()).as("batches to the cut node dropped").isPositive();

        Map<Long, Long> commitsBefore = new ConcurrentHashMap<>(cluster.engine(2).inspectAll(RaftGroup::commitOffset));
        long restartAt = System.nanoTime();
        cluster.restart(1);
        await("both survivors told node 1 restarted", Duration.ofSeconds(10),
                () -> cluster.restartsSeen.get(2).contains(1) && cluster.restartsSeen.get(3).contains(1));
        assertThat(cluster.restartsSeen.get(1)).as("the restarted node saw its peers for the first time").isEmpty();
        await("node 1 caught up in every group", Duration.ofSeconds(30), () -> {
            Map<Long, Long> ends = cluster.engine(1).inspectAll(raft -> raft.log().endOffset());
            Map<Long, Long> commits = cluster.engine(1).inspectAll(RaftGroup::commitOffset);
            for (long group = 0; group < groups; group++) {
                long leaderCommit = commitsBefore.get(group);
                if (ends.get(group) < leaderCommit || commits.get(group) < leaderCommit) {
                    return false;
                }
            }
            return true;
        });
        System.out.printf("node 1 restarted: caught up in all %d groups %d ms later%n", groups,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartAt));
        // And it takes part again: a proposal to each group is committed and node 1's listener hears of it.
        Map<Long, Long> ends = new ConcurrentHashMap<>();
        for (long group = 0; group < groups; group++) {
            ends.put(group, cluster.proposeToLeader(group, all) + 5);
        }
        await("node 1 told of the new commit in every group", Duration.ofSeconds(30),
                () -> ends.entrySet().stream().allMatch(e -> cluster.committedOnNode1.get(e.getKey()).get()
                        >= e.getValue()));
    }

    private NettyTransport transport(NettyTransportConfig config, Map<Integer, InetSocketAddress> addresses,
                                     NettyTransport.Receiver receiver) {
        NettyTransport transport = new NettyTransport(config, addresses::get, peer -> { });
        closeables.add(transport);
        transport.start(receiver);
        addresses.put(config.nodeId(), transport.localAddress());
        return transport;
    }

    @Test
    void aPeerWhoseLiveConnectionIsLostAndWhoseRedialIsRefusedIsReportedGone() {
        Map<Integer, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        Set<Integer> gone = ConcurrentHashMap.newKeySet();
        AtomicLong received = new AtomicLong();
        NettyTransport a = new NettyTransport(NettyTransportConfig.of(1, "blue", ANY_PORT), addresses::get,
                peer -> { }, gone::add);
        closeables.add(a);
        a.start((n, b) -> { });
        addresses.put(1, a.localAddress());
        NettyTransport b = transport(NettyTransportConfig.of(2, "blue", ANY_PORT), addresses,
                (n, batch) -> received.incrementAndGet());
        a.send(2, List.of());
        await("a batch over the link", Duration.ofSeconds(10), () -> received.get() > 0);
        assertThat(gone).as("nothing gone while the peer answers").isEmpty();
        b.close(); // its listening socket closes with it: a redial is refused
        await("node 2 reported gone", Duration.ofSeconds(10), () -> gone.contains(2));
    }

    @Test
    void aPeerOfAnotherClusterOrAtTheWrongAddressIsRefused() {
        Map<Integer, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        AtomicLong received = new AtomicLong();
        NettyTransport a = transport(NettyTransportConfig.of(1, "blue", ANY_PORT), addresses, (n, b) -> { });
        NettyTransport b = transport(NettyTransportConfig.of(2, "green", ANY_PORT), addresses,
                (n, batch) -> received.incrementAndGet());
        await("the handshake refused on both sides", Duration.ofSeconds(10), () -> {
            a.send(2, List.of());
            return a.stats().connectionsRefused() > 0 && b.stats().connectionsRefused() > 0;
        });
        // Node 3's address is node 2's: node 2 refuses a connection meant for node 3.
        addresses.put(3, b.localAddress());
        long refusedBefore = b.stats().connectionsRefused();
        await("a misrouted connection refused", Duration.ofSeconds(10), () -> {
            a.send(3, List.of());
            return b.stats().connectionsRefused() > refusedBefore;
        });
        assertThat(received.get()).isZero();
        assertThat(a.stats().batchesSent()).isZero();
        assertThat(a.stats().batchesDropped()).isPositive();
    }

    @Test
    void garbageOrOversizedFramesCloseTheirConnectionAndTheNodeKeepsServing() throws IOException {
        Map<Integer, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        AtomicLong received = new AtomicLong();
        NettyTransport a = transport(NettyTransportConfig.of(1, "c", ANY_PORT), addresses, (n, b) -> { });
        NettyTransport b = transport(NettyTransportConfig.of(2, "c", ANY_PORT).withMaxFrameBytes(4096), addresses,
                (n, batch) -> received.incrementAndGet());
        await("a heartbeat delivered", Duration.ofSeconds(10), () -> {
            a.send(2, List.of());
            return received.get() > 0;
        });

        // Not our protocol at all (an HTTP probe: its first bytes read as a frame length of about 1.2 GB).
        assertClosedAfter(b.localAddress(), bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        // A good handshake, then a frame larger than the limit.
        ByteBuf oversized = helloFrom(7, "c", 2);
        oversized.writeInt(4097);
        oversized.writeByte(Frames.BATCH);
        oversized.writeZero(100);
        assertClosedAfter(b.localAddress(), bytes(oversized));
        // A good handshake, then a batch that does not decode (a count of messages the frame cannot hold).
        ByteBuf corrupt = helloFrom(8, "c", 2);
        corrupt.writeInt(3);
        corrupt.writeByte(Frames.BATCH);
        corrupt.writeShort(0x7F7F);
        assertClosedAfter(b.localAddress(), bytes(corrupt));
        assertThat(b.stats().connectionsCorrupt()).isEqualTo(3);

        long before = received.get();
        await("node 1's batches still delivered", Duration.ofSeconds(10), () -> {
            a.send(2, List.of());
            return received.get() > before + 3;
        });
    }

    private static ByteBuf helloFrom(int node, String cluster, int to) {
        ByteBuf out = Unpooled.buffer();
        Frames.writeHello(out, Frames.HELLO, new Hello(Hello.VERSION, cluster, node, 1, to));
        return out;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] bytes(ByteBuf buf) {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    /** Writes the bytes on a new connection and expects the node to close it (read returns end of stream). */
    private static void assertClosedAfter(InetSocketAddress address, byte[] bytes) throws IOException {
        try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            byte[] sink = new byte[1024];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                try {
                    if (in.read(sink) < 0) {
                        return;
                    }
                } catch (SocketTimeoutException e) {
                    break;
                } catch (IOException e) {
                    return; // reset: closed as well
                }
            }
            throw new AssertionError("the connection stayed open");
        }
    }

    /** A listening socket with a small receive buffer, for a peer that will never read. */
    private static ServerSocket silentServer() throws IOException {
        ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        silent.setReceiveBufferSize(4096);
        return silent;
    }

    /** Node 1's transport with node 2 at {@code silent}, already dialing it. */
    private NettyTransport transportTo(ServerSocket silent) throws Exception {
        Map<Integer, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        addresses.put(2, new InetSocketAddress(silent.getInetAddress(), silent.getLocalPort()));
        NettyTransport a = transport(NettyTransportConfig.of(1, "c", ANY_PORT), addresses, (n, b) -> { });
        a.send(2, List.of());
        return a;
    }

    /** Accepts node 1's link on {@code silent} as node 2: answers the handshake, then never reads again. */
    private static Socket silentPeer(ServerSocket silent, NettyTransport a) throws IOException {
        Socket peer = silent.accept();
        DataInputStream in = new DataInputStream(peer.getInputStream());
        in.readFully(new byte[in.readInt()]);
        ByteBuf welcome = Unpooled.buffer();
        Frames.writeHello(welcome, Frames.WELCOME, new Hello(Hello.VERSION, "c", 2, 5, 1));
        OutputStream out = peer.getOutputStream();
        out.write(bytes(welcome));
        out.flush();
        await("the link open", Duration.ofSeconds(10), () -> {
            a.send(2, List.of());
            return a.stats().batchesSent() > 0;
        });
        return peer;
    }

    @Test
    void sendNeverBlocksAndDropsWhenThePeerStopsReading() throws Exception {
        try (ServerSocket silent = silentServer()) {
            NettyTransport a = transportTo(silent);
            try (Socket peer = silentPeer(silent, a)) {
                List<GroupMessage> big = List.of(new GroupMessage(1, new AppendRequest(1, 2, 1, -1, 0,
                        List.of(Entry.data(0, 1, 1, ByteBuffer.allocate(64 << 10))), 0)));
                long start = System.nanoTime();
                for (int i = 0; i < 20_000; i++) {
                    a.send(2, big);
                }
                long sendMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                TransportStats stats = a.stats();
                // 1.3 GB offered to a peer that reads nothing: all but what the buffers hold is dropped.
                assertThat(stats.batchesDropped()).isGreaterThan(10_000);
                assertThat(stats.bytesSent()).isLessThan(200L << 20);
                assertThat(sendMs).as("20,000 sends took").isLessThan(10_000);
                System.out.printf("20,000 sends of 64 KiB to a peer that does not read: %d ms, %d dropped, %d MiB"
                        + " written%n", sendMs, stats.batchesDropped(), stats.bytesSent() >> 20);

            }
        }
    }

    @Test
    void aPassLargerThanALinkMayHoldIsCutNotEncodedWhole() throws Exception {
        try (ServerSocket silent = silentServer()) {
            NettyTransport a = transportTo(silent);
            try (Socket peer = silentPeer(silent, a)) {
                // One pass's batch of 4,000 appends of 64 KiB (250 MiB) to a peer that reads nothing: encoded up to
                // the link's bound, the rest dropped (an unbounded batch once failed a 240 MiB direct allocation and
                // stopped the event loop that encoded it)
                List<GroupMessage> pass = new ArrayList<>();
                for (int g = 0; g < 4_000; g++) {
                    pass.add(new GroupMessage(g, new AppendRequest(1, 2, 1, -1, 0,
                            List.of(Entry.data(0, 1, 1, ByteBuffer.allocate(64 << 10))), 0)));
                }
                a.send(2, pass);
                long dropped = a.stats().messagesDropped();
                assertThat(dropped).as("messages of the pass dropped")
                        .isBetween(4_000 - (PeerLink.MAX_QUEUED_BYTES >> 16), 4_000L);
                assertThat(PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory())
                        .as("direct memory the pooled allocator holds").isLessThan(2 * PeerLink.MAX_QUEUED_BYTES);
                System.out.printf("a pass of 4,000 appends of 64 KiB to a peer that does not read: %d dropped%n",
                        dropped);
            }
        }
    }
}
