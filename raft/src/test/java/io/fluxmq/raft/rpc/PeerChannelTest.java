package io.fluxmq.raft.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.thirdparty.io.netty.channel.EventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The failure behaviour of the outgoing Raft connection, against real sockets on 127.0.0.1. */
class PeerChannelTest {
    private final EventLoopGroup group = new NioEventLoopGroup(1);

    @AfterEach
    void close() {
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
    }

    private static RaftNettyServerRequestProto vote(long callId) {
        return RaftNettyServerRequestProto.newBuilder().setRequestVoteRequest(RequestVoteRequestProto.newBuilder()
                .setServerRequest(RaftRpcRequestProto.newBuilder().setCallId(callId))).build();
    }

    private PeerChannel channel(int port, long backoffMs) {
        RaftPeer peer = RaftPeer.newBuilder().setId(RaftPeerId.valueOf("n9")).setAddress("127.0.0.1:" + port).build();
        return new PeerChannel(peer, group, 1000, backoffMs);
    }

    @Test
    void aPeerThatNeverAnswersTimesOutAndTheSilentConnectionIsDropped() throws Exception {
        try (ServerSocket frozen = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            PeerChannel channel = channel(frozen.getLocalPort(), 200);
            long start = System.nanoTime();
            assertThatThrownBy(() -> channel.call(1, vote(1), 300)).isInstanceOf(TimeoutIOException.class);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(ms).as("ms until the call to the silent peer failed").isBetween(250L, 2000L);
            try (Socket accepted = frozen.accept()) {
                accepted.setSoTimeout(2000);
                InputStream in = accepted.getInputStream();
                byte[] buffer = new byte[1024];
                int total = 0;
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    total += n;
                }
                assertThat(total).as("bytes of the one request the peer received before the drop").isPositive();
            }
        }
    }

    @Test
    void aClosedPortFailsAtOnceAndThenFastDuringTheBackoff() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        PeerChannel channel = channel(port, 10_000); // a backoff no slow machine outlasts between the two calls
        long start = System.nanoTime();
        assertThatThrownBy(() -> channel.call(1, vote(1), 5000)).isInstanceOf(IOException.class)
                .hasMessageContaining("cannot connect");
        assertThatThrownBy(() -> channel.call(2, vote(2), 5000)).isInstanceOf(IOException.class)
                .hasMessageContaining("unreachable");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                .as("ms for two calls to a closed port").isLessThan(2000L);
    }

    @Test
    void reconnectsOnceThePeerIsBack() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        PeerChannel channel = channel(port, 200);
        assertThatThrownBy(() -> channel.call(1, vote(1), 1000)).isInstanceOf(IOException.class);
        Thread.sleep(400); // past the reconnect backoff
        try (ServerSocket back = new ServerSocket()) {
            back.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            assertThatThrownBy(() -> channel.call(2, vote(2), 300))
                    .as("connected this time, so the silent peer makes it a timeout")
                    .isInstanceOf(TimeoutIOException.class);
        }
    }
}
