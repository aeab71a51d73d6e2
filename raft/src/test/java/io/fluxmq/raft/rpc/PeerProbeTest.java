package io.fluxmq.raft.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.thirdparty.io.netty.channel.EventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the peer-gone probe ({@link PeerProbe}) concludes from real sockets on 127.0.0.1. */
class PeerProbeTest {
    private static final long HOLD_MS = 300;
    private static final int ATTEMPTS = 3;
    private final EventLoopGroup group = new NioEventLoopGroup(1);
    private final PeerProbe probe = new PeerProbe(group, 1000, HOLD_MS, ATTEMPTS);

    @AfterEach
    void close() {
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
    }

    private static String address(int port) {
        return "127.0.0.1:" + port;
    }

    @Test
    void aPortNothingListensOnRefusesSoThePeerIsGone() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        assertThat(probe.refusedAt(address(port)).get(5, TimeUnit.SECONDS)).as("refused at the first connect")
                .isEqualTo(1);
    }

    @Test
    void aPeerThatKeepsTheConnectionOpenIsAlive() throws Exception {
        try (ServerSocket live = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            long start = System.nanoTime();
            assertThat(probe.refusedAt(address(live.getLocalPort())).get(5, TimeUnit.SECONDS)).isZero();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                    .as("ms until the probe took the peer for alive (it holds the connection first)")
                    .isGreaterThanOrEqualTo(HOLD_MS);
        }
    }

    /** A process being killed: its listener still completes the probe's connection, then closes and resets it. */
    @Test
    void aPeerWhoseListenerClosesAndResetsTheProbeConnectionIsGone() throws Exception {
        ServerSocket dying = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        CompletableFuture<Integer> gone;
        try (dying) {
            gone = probe.refusedAt(address(dying.getLocalPort()));
            dying.setSoTimeout(5000);
            Socket accepted = dying.accept(); // the probe connected
            dying.close(); // the listener goes first, then the connection is reset
            accepted.setSoLinger(true, 0);
            accepted.close();
        }
        assertThat(gone.get(5, TimeUnit.SECONDS)).as("refused at the second connect").isEqualTo(2);
    }

    @Test
    void aLivePeerThatClosesEachProbeConnectionIsNotGoneAndIsAskedABoundedNumberOfTimes() throws Exception {
        try (ServerSocket live = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            AtomicInteger accepted = new AtomicInteger();
            Thread closer = new Thread(() -> {
                while (!live.isClosed()) {
                    try (Socket s = live.accept()) {
                        accepted.incrementAndGet();
                    } catch (Exception e) {
                        return; // the listener closed at the end of the test
                    }
                }
            });
            closer.setDaemon(true);
            closer.start();
            assertThat(probe.refusedAt(address(live.getLocalPort())).get(5, TimeUnit.SECONDS)).isZero();
            assertThat(accepted.get()).as("probe connections").isEqualTo(ATTEMPTS);
        }
    }
}
