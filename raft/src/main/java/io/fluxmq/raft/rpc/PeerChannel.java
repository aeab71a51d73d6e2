package io.fluxmq.raft.rpc;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerReplyProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.thirdparty.io.netty.bootstrap.Bootstrap;
import org.apache.ratis.thirdparty.io.netty.channel.Channel;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelFuture;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelHandlerContext;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelInitializer;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelOption;
import org.apache.ratis.thirdparty.io.netty.channel.EventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.SimpleChannelInboundHandler;
import org.apache.ratis.thirdparty.io.netty.channel.socket.SocketChannel;
import org.apache.ratis.thirdparty.io.netty.channel.socket.nio.NioSocketChannel;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufDecoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufEncoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslHandler;
import io.fluxmq.raft.tls.PeerTls;
import io.fluxmq.raft.tls.TlsFailures;
import org.apache.ratis.util.NetUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outgoing Raft connection to one peer, shared by every group's appenders and elections. Requests are matched
 * to replies by call id (unique per JVM in Ratis). Nothing here blocks other callers for long:
 * <ul>
 *   <li>connecting is asynchronous with a timeout; callers wait at most their own request timeout for it;</li>
 *   <li>after a failed connect, requests fail at once for a backoff ({@value #RECONNECT_BACKOFF_MS} ms in the node)
 *       instead of queueing;</li>
 *   <li>when a request times out and the peer sent nothing since it was written, the connection is dropped, so a
 *       frozen peer does not find a backlog of stale requests when it resumes.</li>
 * </ul>
 * Thread-safe.
 */
final class PeerChannel {
    private static final Logger LOGGER = LoggerFactory.getLogger(PeerChannel.class);
    /** How long requests fail at once after a failed connect before the next attempt. */
    static final long RECONNECT_BACKOFF_MS = 200;

    private final RaftPeer peer;
    private final EventLoopGroup group;
    private final int connectTimeoutMs;
    private final long reconnectBackoffNanos;
    private final Map<Long, CompletableFuture<RaftNettyServerReplyProto>> pending = new ConcurrentHashMap<>();
    /** The connected or connecting channel, or null. */
    private ChannelFuture connection;
    private long connectFailedAtNanos;
    private String lastConnectError = "";
    private volatile long lastReadNanos = System.nanoTime();
    /** Mutual TLS on the connection (requests wait in the TLS handler until its handshake is done), or null. */
    private final PeerTls tls;
    private final TlsFailures tlsFailures;

    PeerChannel(RaftPeer peer, EventLoopGroup group, int connectTimeoutMs, long reconnectBackoffMs) {
        this(peer, group, connectTimeoutMs, reconnectBackoffMs, null, null);
    }

    /** {@code tls} null: plaintext; else {@code tlsFailures} reports handshakes that fail. */
    PeerChannel(RaftPeer peer, EventLoopGroup group, int connectTimeoutMs, long reconnectBackoffMs, PeerTls tls,
                TlsFailures tlsFailures) {
        this.peer = peer;
        this.group = group;
        this.connectTimeoutMs = connectTimeoutMs;
        this.reconnectBackoffNanos = TimeUnit.MILLISECONDS.toNanos(reconnectBackoffMs);
        this.tls = tls;
        this.tlsFailures = tlsFailures;
    }

    /** The peer's Raft address, {@code host:port}. */
    String address() {
        return peer.getAddress();
    }

    /** Sends a request and waits up to {@code timeoutMs} for its reply. */
    RaftNettyServerReplyProto call(long callId, RaftNettyServerRequestProto request, long timeoutMs)
            throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        ChannelFuture connecting = connection();
        Channel channel = awaitConnected(connecting, deadline);
        CompletableFuture<RaftNettyServerReplyProto> reply = new CompletableFuture<>();
        CompletableFuture<RaftNettyServerReplyProto> previous = pending.put(callId, reply);
        if (previous != null) {
            previous.completeExceptionally(new IOException("call id " + callId + " to " + peer.getId() + " reused"));
        }
        long sentAt = System.nanoTime();
        channel.writeAndFlush(request).addListener(f -> {
            if (!f.isSuccess()) {
                pending.remove(callId, reply);
                reply.completeExceptionally(new IOException("cannot send to " + peer.getId(), f.cause()));
                disconnect(channel, "write failed: " + f.cause());
            }
        });
        try {
            return reply.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for " + peer.getId());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IOException io ? io : new IOException(String.valueOf(cause), cause);
        } catch (TimeoutException e) {
            if (lastReadNanos - sentAt < 0) {
                disconnect(channel, "no reply within " + timeoutMs + " ms");
            }
            throw new TimeoutIOException(peer.getId() + " did not answer call " + callId + " within " + timeoutMs
                    + " ms", e);
        } finally {
            pending.remove(callId, reply);
        }
    }

    /**
     * Sends a request without waiting: the future completes with the reply, or exceptionally when the peer is
     * unreachable, the connection fails or no reply came within {@code timeoutMs} (then, as in {@link #call}, a
     * connection whose peer sent nothing since the request was written is dropped). Requests sent one after another
     * leave on the same connection in that order. Never blocks; completes on a Netty event loop thread.
     */
    CompletableFuture<RaftNettyServerReplyProto> callAsync(long callId, RaftNettyServerRequestProto request,
                                                          long timeoutMs) {
        CompletableFuture<RaftNettyServerReplyProto> reply = new CompletableFuture<>();
        ChannelFuture connecting;
        try {
            connecting = connection();
        } catch (IOException e) {
            reply.completeExceptionally(e);
            return reply;
        }
        CompletableFuture<RaftNettyServerReplyProto> previous = pending.put(callId, reply);
        if (previous != null) {
            previous.completeExceptionally(new IOException("call id " + callId + " to " + peer.getId() + " reused"));
        }
        long sentAt = System.nanoTime();
        var timeout = group.schedule(() -> {
            if (pending.remove(callId, reply)) {
                if (connecting.isDone() && connecting.isSuccess() && lastReadNanos - sentAt < 0) {
                    disconnect(connecting.channel(), "no reply within " + timeoutMs + " ms");
                }
                reply.completeExceptionally(new TimeoutIOException(peer.getId() + " did not answer call " + callId
                        + " within " + timeoutMs + " ms", null));
            }
        }, timeoutMs, TimeUnit.MILLISECONDS);
        reply.whenComplete((r, e) -> timeout.cancel(false));
        if (connecting.isDone()) {
            send(connecting, callId, request, reply);
        } else {
            connecting.addListener(done -> send(connecting, callId, request, reply));
        }
        return reply;
    }

    private void send(ChannelFuture connecting, long callId, RaftNettyServerRequestProto request,
                      CompletableFuture<RaftNettyServerReplyProto> reply) {
        if (!connecting.isSuccess()) {
            connectFailed(connecting);
            pending.remove(callId, reply);
            reply.completeExceptionally(new IOException("cannot connect to " + peer.getId() + " at "
                    + peer.getAddress(), connecting.cause()));
            return;
        }
        Channel channel = connecting.channel();
        channel.writeAndFlush(request).addListener(f -> {
            if (!f.isSuccess()) {
                pending.remove(callId, reply);
                reply.completeExceptionally(new IOException("cannot send to " + peer.getId(), f.cause()));
                disconnect(channel, "write failed: " + f.cause());
            }
        });
    }

    private synchronized ChannelFuture connection() throws IOException {
        if (connection != null) {
            return connection;
        }
        if (connectFailedAtNanos != 0 && System.nanoTime() - connectFailedAtNanos < reconnectBackoffNanos) {
            throw new IOException(peer.getId() + " at " + peer.getAddress() + " is unreachable: " + lastConnectError);
        }
        InetSocketAddress address = NetUtils.createSocketAddr(peer.getAddress());
        ChannelFuture f = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            SslHandler ssl = new SslHandler(tls.clientEngine(address.getHostString(),
                                    address.getPort()));
                            ssl.setHandshakeTimeoutMillis(tls.handshakeTimeoutMs());
                            ssl.handshakeFuture().addListener(done -> {
                                if (!done.isSuccess()) {
                                    handshakeFailed(ch, done.cause());
                                }
                            });
                            ch.pipeline().addLast("tls", ssl);
                        }
                        ch.pipeline().addLast(new ProtobufVarint32FrameDecoder());
                        ch.pipeline().addLast(new ProtobufDecoder(RaftNettyServerReplyProto.getDefaultInstance()));
                        ch.pipeline().addLast(new ProtobufVarint32LengthFieldPrepender());
                        ch.pipeline().addLast(new ProtobufEncoder());
                        ch.pipeline().addLast(new ReplyHandler());
                    }
                })
                .connect(address);
        connection = f;
        f.addListener(done -> {
            if (!done.isSuccess()) {
                connectFailed(f);
            } else {
                f.channel().closeFuture().addListener(closed -> onClosed(f));
            }
        });
        return f;
    }

    /**
     * Forgets a failed connect and starts the backoff. Called by the connect listener and by the caller that saw the
     * failure, whichever comes first, so the next call never reuses the failed attempt.
     */
    private synchronized void connectFailed(ChannelFuture f) {
        if (connection == f) {
            connection = null;
            connectFailedAtNanos = System.nanoTime();
            lastConnectError = String.valueOf(f.cause());
            LOGGER.debug("Cannot connect to Raft peer {}: {}", peer, lastConnectError);
        }
    }

    /**
     * The peer refused this node's certificate or presented one the cluster's CA did not sign: as after a failed
     * connect, requests fail at once for the backoff instead of redoing a handshake each.
     */
    private void handshakeFailed(Channel channel, Throwable cause) {
        synchronized (this) {
            if (connection != null && connection.channel() == channel) {
                connection = null;
                connectFailedAtNanos = System.nanoTime();
                lastConnectError = "TLS handshake failed: " + cause;
            }
        }
        tlsFailures.failed(channel.remoteAddress(), false, cause);
        channel.close();
    }

    private Channel awaitConnected(ChannelFuture f, long deadline) throws IOException {
        try {
            if (!f.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new TimeoutIOException("still connecting to " + peer.getId() + " at " + peer.getAddress(), null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted connecting to " + peer.getId());
        }
        if (!f.isSuccess()) {
            connectFailed(f);
            throw new IOException("cannot connect to " + peer.getId() + " at " + peer.getAddress(), f.cause());
        }
        return f.channel();
    }

    private void onClosed(ChannelFuture f) {
        synchronized (this) {
            if (connection == f) {
                connection = null;
            }
        }
        IOException closed = new IOException("connection to " + peer.getId() + " closed");
        pending.values().forEach(r -> r.completeExceptionally(closed));
        pending.clear();
    }

    /** Closes the current connection; the next request reconnects. */
    void disconnect(String reason) {
        ChannelFuture f;
        synchronized (this) {
            f = connection;
        }
        if (f != null && f.isDone() && f.isSuccess()) {
            disconnect(f.channel(), reason);
        }
    }

    private void disconnect(Channel channel, String reason) {
        if (channel.isOpen()) {
            LOGGER.debug("Dropping the Raft connection to {}: {}", peer, reason);
            channel.close();
        }
    }

    private final class ReplyHandler extends SimpleChannelInboundHandler<RaftNettyServerReplyProto> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RaftNettyServerReplyProto reply) {
            lastReadNanos = System.nanoTime();
            CompletableFuture<RaftNettyServerReplyProto> waiting = pending.remove(callId(reply));
            if (waiting != null) {
                waiting.complete(reply);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOGGER.debug("Raft connection to {} failed: {}", peer, cause.toString());
            ctx.close();
        }
    }

    private static long callId(RaftNettyServerReplyProto r) {
        return switch (r.getRaftNettyServerReplyCase()) {
            case REQUESTVOTEREPLY -> r.getRequestVoteReply().getServerReply().getCallId();
            case APPENDENTRIESREPLY -> r.getAppendEntriesReply().getServerReply().getCallId();
            case INSTALLSNAPSHOTREPLY -> r.getInstallSnapshotReply().getServerReply().getCallId();
            case STARTLEADERELECTIONREPLY -> r.getStartLeaderElectionReply().getServerReply().getCallId();
            case EXCEPTIONREPLY -> r.getExceptionReply().getRpcReply().getCallId();
            case RAFTCLIENTREPLY -> r.getRaftClientReply().getRpcReply().getCallId();
            case GROUPLISTREPLY -> r.getGroupListReply().getRpcReply().getCallId();
            case GROUPINFOREPLY -> r.getGroupInfoReply().getRpcReply().getCallId();
            default -> -1;
        };
    }
}
