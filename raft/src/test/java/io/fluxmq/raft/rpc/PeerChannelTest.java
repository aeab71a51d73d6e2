package io.fluxmq.raft.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RaftRpcReplyProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerReplyProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.thirdparty.io.netty.bootstrap.ServerBootstrap;
import org.apache.ratis.thirdparty.io.netty.channel.Channel;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelHandlerContext;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelInitializer;
import org.apache.ratis.thirdparty.io.netty.channel.EventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.SimpleChannelInboundHandler;
import org.apache.ratis.thirdparty.io.netty.channel.nio.NioEventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.socket.SocketChannel;
import org.apache.ratis.thirdparty.io.netty.channel.socket.nio.NioServerSocketChannel;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufDecoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufEncoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
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

    @Test
    void anAsyncCallToASilentPeerTimesOutWithoutBlockingTheCaller() throws Exception {
        try (ServerSocket frozen = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            PeerChannel channel = channel(frozen.getLocalPort(), 200);
            long start = System.nanoTime();
            CompletableFuture<RaftNettyServerReplyProto> reply = channel.callAsync(1, vote(1), 300);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("ms the caller was held")
                    .isLessThan(250L);
            assertThatThrownBy(() -> reply.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(TimeoutIOException.class);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                    .as("ms until the call to the silent peer failed").isBetween(250L, 2000L);
        }
    }

    @Test
    void anAsyncCallToAClosedPortFails() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        PeerChannel channel = channel(port, 10_000);
        assertThatThrownBy(() -> channel.callAsync(1, vote(1), 5000).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasMessageContaining("cannot connect");
        assertThatThrownBy(() -> channel.callAsync(2, vote(2), 5000).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasMessageContaining("unreachable");
    }

    @Test
    void severalAsyncCallsInFlightAreAnsweredByCallId() throws Exception {
        EchoPeer peer = new EchoPeer(group);
        try {
            PeerChannel channel = channel(peer.port(), 200);
            List<CompletableFuture<RaftNettyServerReplyProto>> replies = new ArrayList<>();
            for (long id = 100; id < 108; id++) {
                replies.add(channel.callAsync(id, vote(id), 5000));
            }
            for (int i = 0; i < replies.size(); i++) {
                assertThat(replies.get(i).get(5, TimeUnit.SECONDS).getRequestVoteReply().getServerReply().getCallId())
                        .isEqualTo(100 + i);
            }
            assertThat(peer.received()).as("call ids in the order the peer received them")
                    .containsExactly(100L, 101L, 102L, 103L, 104L, 105L, 106L, 107L);
        } finally {
            peer.close();
        }
    }

    /** A Raft peer that answers every requestVote at once with a reply carrying its call id. */
    private static final class EchoPeer {
        private final Channel server;
        private final List<Long> received = new CopyOnWriteArrayList<>();

        EchoPeer(EventLoopGroup group) throws InterruptedException {
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new ProtobufVarint32FrameDecoder(),
                                    new ProtobufDecoder(RaftNettyServerRequestProto.getDefaultInstance()),
                                    new ProtobufVarint32LengthFieldPrepender(), new ProtobufEncoder(),
                                    new SimpleChannelInboundHandler<RaftNettyServerRequestProto>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx,
                                                                    RaftNettyServerRequestProto request) {
                                            long id = request.getRequestVoteRequest().getServerRequest().getCallId();
                                            received.add(id);
                                            ctx.writeAndFlush(RaftNettyServerReplyProto.newBuilder()
                                                    .setRequestVoteReply(RequestVoteReplyProto.newBuilder()
                                                            .setServerReply(RaftRpcReplyProto.newBuilder()
                                                                    .setCallId(id))).build());
                                        }
                                    });
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        }

        int port() {
            return ((InetSocketAddress) server.localAddress()).getPort();
        }

        List<Long> received() {
            return received;
        }

        void close() {
            server.close().awaitUninterruptibly(1000);
        }
    }
}
