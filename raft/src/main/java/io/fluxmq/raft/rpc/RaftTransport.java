package io.fluxmq.raft.rpc;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotRequestProto;
import org.apache.ratis.proto.RaftProtos.LogInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcReplyProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.proto.RaftProtos.RequestVoteRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionReplyProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyExceptionReplyProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerReplyProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupInfoRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.RaftServerRpc;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.io.netty.bootstrap.ServerBootstrap;
import org.apache.ratis.thirdparty.io.netty.channel.Channel;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelHandler;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelHandlerContext;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelInitializer;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelPipeline;
import org.apache.ratis.thirdparty.io.netty.channel.EventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.SimpleChannelInboundHandler;
import org.apache.ratis.thirdparty.io.netty.channel.nio.NioEventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.socket.SocketChannel;
import org.apache.ratis.thirdparty.io.netty.channel.socket.nio.NioServerSocketChannel;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufDecoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufEncoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslHandler;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslHandshakeCompletionEvent;
import org.apache.ratis.thirdparty.io.netty.util.AttributeKey;
import org.apache.ratis.util.ProtoUtils;
import io.fluxmq.raft.tls.PeerTls;
import io.fluxmq.raft.tls.TlsFailures;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server-to-server Raft RPC over Netty, speaking Ratis' Netty wire format (varint-framed
 * {@code RaftNettyServerRequestProto}/{@code RaftNettyServerReplyProto}), so Ratis' Netty {@code RaftClient}s talk to
 * it unchanged.
 *
 * <p>It exists because Ratis' own Netty server answers every request on the Netty event loop that read it, blocking:
 * a leader stepping down inside an appendEntries or requestVote call waits there for its log appenders to stop, and
 * an appender connecting to an unreachable peer holds the connection lock for Netty's 30 s connect timeout. One such
 * wait froze every other Raft group whose traffic shared the event loop, so elections elsewhere timed out and
 * partitions went leaderless for minutes after a node was frozen or cut off. Here:
 * <ul>
 *   <li>incoming requests run on a {@link SerialExecutor} per Raft group (in arrival order within the group), so a
 *       group that blocks delays only itself, and the event loop only decodes and encodes;</li>
 *   <li>outgoing requests go through a {@link PeerChannel} per peer that connects with a bounded timeout, fails fast
 *       while a peer is unreachable and drops a connection whose peer stopped answering.</li>
 * </ul>
 * With a {@link PeerTls} (the node's {@code cluster.security.protocol=SSL}) every connection, accepted or dialed, is
 * mutual TLS first: a peer without a certificate the cluster's CA signed completes no handshake and is never read.
 * Thread-safe.
 */
final class RaftTransport implements RaftServerRpc, PeerDownNotifier {
    private static final Logger LOGGER = LoggerFactory.getLogger(RaftTransport.class);

    private final RaftServer server;
    private final InetSocketAddress bindAddress;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final EventLoopGroup clientGroup;
    private final ExecutorService requestPool;
    /** Threads of {@link #appenderPool()}: appender passes only build requests and hand them to Netty. */
    private static final int APPENDER_THREADS = 2;
    private final ScheduledExecutorService appenderPool;
    private final Map<ByteString, SerialExecutor> groupExecutors = new ConcurrentHashMap<>();
    private final Map<RaftPeerId, PeerChannel> peers = new ConcurrentHashMap<>();
    private final long requestTimeoutMs;
    private final int connectTimeoutMs;
    private final PeerProbe prober;
    /** Mutual TLS on every connection, or null for plaintext. */
    private final PeerTls tls;
    private final TlsFailures tlsFailures;
    private volatile Channel serverChannel;
    private volatile boolean closing;
    private final List<Consumer<RaftPeerId>> peerDownListeners = new CopyOnWriteArrayList<>();
    /** Peers found gone (see {@link #probe}) that have not connected to this node since. */
    private final Set<RaftPeerId> gone = ConcurrentHashMap.newKeySet();
    /** Call ids of this transport's own GroupInfo requests: a range Ratis' call ids do not reach. */
    private static final AtomicLong INFO_CALL_IDS = new AtomicLong(1L << 42);
    /** The peer whose requests an incoming connection carries (set on its first request). */
    private static final AttributeKey<RaftPeerId> REQUESTOR = AttributeKey.valueOf("fluxmq.raft.requestor");

    RaftTransport(RaftServer server, PeerTls tls) {
        this.server = server;
        this.tls = tls;
        String host = NettyConfigKeys.Server.host(server.getProperties());
        int port = NettyConfigKeys.Server.port(server.getProperties());
        this.bindAddress = host == null || host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
        this.tlsFailures = new TlsFailures(LOGGER, "Raft transport on " + bindAddress);
        this.requestTimeoutMs = RaftServerConfigKeys.Rpc.requestTimeout(server.getProperties()).toLong(
                java.util.concurrent.TimeUnit.MILLISECONDS);
        // A peer on the same network accepts a connection within milliseconds; one that does not within the shortest
        // election timeout is treated as unreachable until the next attempt.
        this.connectTimeoutMs = (int) RaftServerConfigKeys.Rpc.timeoutMin(server.getProperties()).toLong(
                java.util.concurrent.TimeUnit.MILLISECONDS);
        this.bossGroup = new NioEventLoopGroup(1, daemonThreads(server.getId() + "-raft-accept"));
        this.workerGroup = new NioEventLoopGroup(2, daemonThreads(server.getId() + "-raft-io"));
        this.clientGroup = new NioEventLoopGroup(2, daemonThreads(server.getId() + "-raft-out"));
        this.prober = new PeerProbe(clientGroup, connectTimeoutMs);
        this.requestPool = Executors.newCachedThreadPool(daemonThreads(server.getId() + "-raft-request"));
        this.appenderPool = Executors.newScheduledThreadPool(APPENDER_THREADS,
                daemonThreads(server.getId() + "-raft-append"));
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public RpcType getRpcType() {
        return new FluxRpcType();
    }

    @Override
    public void start() throws IOException {
        try {
            serverChannel = new ServerBootstrap()
                    .group(bossGroup, workerGroup)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ChannelPipeline p = ch.pipeline();
                            if (tls != null) {
                                SslHandler ssl = new SslHandler(tls.serverEngine(ch.remoteAddress()));
                                ssl.setHandshakeTimeoutMillis(tls.handshakeTimeoutMs());
                                p.addLast("tls", ssl);
                            }
                            p.addLast(new ProtobufVarint32FrameDecoder());
                            p.addLast(new ProtobufDecoder(RaftNettyServerRequestProto.getDefaultInstance()));
                            p.addLast(new ProtobufVarint32LengthFieldPrepender());
                            p.addLast(new ProtobufEncoder());
                            p.addLast(new InboundHandler());
                        }
                    })
                    .bind(bindAddress).sync().channel();
            if (tls != null) {
                LOGGER.info("Raft transport on {} speaks mutual TLS (clients and peers need a cluster certificate)",
                        serverChannel.localAddress());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding the Raft port " + bindAddress, e);
        } catch (RuntimeException e) {
            throw new IOException("cannot bind the Raft port " + bindAddress + ": " + e.getMessage(), e);
        }
    }

    @Override
    public InetSocketAddress getInetSocketAddress() {
        Channel ch = serverChannel;
        return ch == null ? bindAddress : (InetSocketAddress) ch.localAddress();
    }

    @Override
    public void addRaftPeers(Collection<RaftPeer> newPeers) {
        for (RaftPeer p : newPeers) {
            peers.computeIfAbsent(p.getId(), id -> new PeerChannel(p, clientGroup, connectTimeoutMs,
                    PeerChannel.RECONNECT_BACKOFF_MS, tls, tlsFailures));
        }
    }

    @Override
    public void handleException(RaftPeerId peerId, Exception e, boolean reconnect) {
        PeerChannel peer = peers.get(peerId);
        if (peer != null && reconnect) {
            peer.disconnect("reconnect requested after " + e);
        }
    }

    @Override
    public void onPeerDown(Consumer<RaftPeerId> listener) {
        peerDownListeners.add(listener);
    }

    @Override
    public boolean isGone(RaftPeerId peer) {
        return gone.contains(peer);
    }

    @Override
    public CompletableFuture<TermIndex> lastEntry(RaftPeerId peer, RaftGroupId group, long timeoutMs) {
        PeerChannel channel = peers.get(peer);
        if (channel == null) {
            return CompletableFuture.failedFuture(new IOException(server.getId() + ": unknown Raft peer " + peer));
        }
        long callId = INFO_CALL_IDS.incrementAndGet();
        GroupInfoRequest request = new GroupInfoRequest(ClientId.emptyClientId(), peer, group, callId);
        RaftNettyServerRequestProto wrapped = RaftNettyServerRequestProto.newBuilder()
                .setGroupInfoRequest(ClientProtoUtils.toGroupInfoRequestProto(request)).build();
        return channel.callAsync(callId, wrapped, timeoutMs).thenApply(reply -> {
            if (!reply.hasGroupInfoReply()) {
                throw new CompletionException(new IOException(peer + " answered GroupInfo of " + group + " with "
                        + reply.getRaftNettyServerReplyCase()));
            }
            LogInfoProto log = reply.getGroupInfoReply().getLogInfo();
            return log.hasLastEntry() ? TermIndex.valueOf(log.getLastEntry()) : null;
        });
    }

    /**
     * A peer's connection to this node closed: if its Raft port now refuses connections ({@link PeerProbe}), its
     * process is gone and the listeners hear of it.
     */
    private void probe(RaftPeerId suspect) {
        PeerChannel peer = peers.get(suspect);
        if (closing || peer == null || peerDownListeners.isEmpty()) {
            return;
        }
        prober.refusedAt(peer.address()).thenAccept(attempt -> {
            if (attempt > 0 && !closing) {
                LOGGER.info("{}: Raft peer {} closed its connection and refuses new ones (probe connection {}): its"
                        + " process is gone", server.getId(), suspect, attempt);
                gone.add(suspect);
                requestPool.execute(() -> peerDownListeners.forEach(l -> l.accept(suspect)));
                recheckLater(suspect, peer.address());
            }
        });
    }

    /** How often a peer found gone is probed again until its port accepts connections (ms). */
    static final long GONE_RECHECK_MS = 500;

    /**
     * Probes a peer found gone again every {@value #GONE_RECHECK_MS} ms until its Raft port accepts (and keeps) a
     * connection, then no longer reports it gone. A restarted peer clears the mark itself with its first request to
     * this node, but only a peer that shares a group with this node sends one: a peer that leads a group this node
     * holds no replica of would otherwise be reported gone for good (and its partitions leaderless to clients asking
     * this node).
     */
    private void recheckLater(RaftPeerId suspect, String address) {
        if (closing) {
            return;
        }
        try {
            clientGroup.schedule(() -> {
                if (closing || !gone.contains(suspect)) {
                    return;
                }
                prober.refusedAt(address).thenAccept(attempt -> {
                    if (attempt == 0) {
                        if (gone.remove(suspect)) {
                            LOGGER.info("{}: Raft peer {} accepts connections again: no longer reported gone",
                                    server.getId(), suspect);
                        }
                    } else {
                        recheckLater(suspect, address);
                    }
                });
            }, GONE_RECHECK_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // shutting down
        }
    }

    // ---- outgoing ----

    @Override
    public RequestVoteReplyProto requestVote(RequestVoteRequestProto request) throws IOException {
        return call(request.getServerRequest(), RaftNettyServerRequestProto.newBuilder()
                .setRequestVoteRequest(request).build()).getRequestVoteReply();
    }

    @Override
    public AppendEntriesReplyProto appendEntries(AppendEntriesRequestProto request) throws IOException {
        return call(request.getServerRequest(), RaftNettyServerRequestProto.newBuilder()
                .setAppendEntriesRequest(request).build()).getAppendEntriesReply();
    }

    @Override
    public InstallSnapshotReplyProto installSnapshot(InstallSnapshotRequestProto request) throws IOException {
        return call(request.getServerRequest(), RaftNettyServerRequestProto.newBuilder()
                .setInstallSnapshotRequest(request).build()).getInstallSnapshotReply();
    }

    @Override
    public StartLeaderElectionReplyProto startLeaderElection(StartLeaderElectionRequestProto request)
            throws IOException {
        return call(request.getServerRequest(), RaftNettyServerRequestProto.newBuilder()
                .setStartLeaderElectionRequest(request).build()).getStartLeaderElectionReply();
    }

    /**
     * Sends an appendEntries without waiting for the reply (the pipelined appender's path); completes on a Netty event
     * loop thread, exceptionally for an exception reply, an unreachable peer or a timeout.
     */
    CompletableFuture<AppendEntriesReplyProto> appendEntriesAsync(AppendEntriesRequestProto request) {
        RaftRpcRequestProto header = request.getServerRequest();
        PeerChannel peer = peers.get(RaftPeerId.valueOf(header.getReplyId()));
        if (peer == null) {
            return CompletableFuture.failedFuture(new IOException(server.getId() + ": unknown Raft peer "
                    + RaftPeerId.valueOf(header.getReplyId())));
        }
        RaftNettyServerRequestProto wrapped = RaftNettyServerRequestProto.newBuilder()
                .setAppendEntriesRequest(request).build();
        return peer.callAsync(header.getCallId(), wrapped, requestTimeoutMs + header.getTimeoutMs())
                .thenApply(reply -> {
                    if (reply.hasExceptionReply()) {
                        Object e = ProtoUtils.toObject(reply.getExceptionReply().getException());
                        throw new CompletionException(e instanceof IOException io ? io
                                : new IOException(String.valueOf(e)));
                    }
                    return reply.getAppendEntriesReply();
                });
    }

    /** Where log appenders run their passes and reply handling: a few threads for every group of this server. */
    ScheduledExecutorService appenderPool() {
        return appenderPool;
    }

    /** Where log appenders send snapshots (blocking calls, rare). */
    ExecutorService snapshotPool() {
        return requestPool;
    }

    private RaftNettyServerReplyProto call(RaftRpcRequestProto header, RaftNettyServerRequestProto request)
            throws IOException {
        RaftPeerId to = RaftPeerId.valueOf(header.getReplyId());
        PeerChannel peer = peers.get(to);
        if (peer == null) {
            throw new IOException(server.getId() + ": unknown Raft peer " + to);
        }
        RaftNettyServerReplyProto reply = peer.call(header.getCallId(), request, requestTimeoutMs + header.getTimeoutMs());
        if (reply.hasExceptionReply()) {
            Object e = ProtoUtils.toObject(reply.getExceptionReply().getException());
            throw e instanceof IOException io ? io : new IOException(String.valueOf(e));
        }
        return reply;
    }

    // ---- incoming ----

    @ChannelHandler.Sharable
    private final class InboundHandler extends SimpleChannelInboundHandler<RaftNettyServerRequestProto> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RaftNettyServerRequestProto request) {
            Channel channel = ctx.channel();
            RaftRpcRequestProto header;
            try {
                header = header(request);
            } catch (RuntimeException e) {
                LOGGER.warn("{}: dropping a Raft connection from {} after an unusable request: {}", server.getId(),
                        channel.remoteAddress(), e.toString());
                channel.close();
                return;
            }
            if (channel.attr(REQUESTOR).get() == null && fromPeer(request) && !header.getRequestorId().isEmpty()) {
                RaftPeerId requestor = RaftPeerId.valueOf(header.getRequestorId());
                channel.attr(REQUESTOR).set(requestor);
                if (gone.remove(requestor)) { // it is back: a new connection from it
                    LOGGER.info("{}: Raft peer {} connected again: no longer reported gone", server.getId(),
                            requestor);
                }
            }
            SerialExecutor executor = groupExecutors.computeIfAbsent(header.getRaftGroupId().getId(),
                    g -> new SerialExecutor(requestPool));
            try {
                executor.execute(() -> handle(request, header).whenComplete((reply, error) -> channel.writeAndFlush(
                        error == null ? reply : exceptionReply(header, error))));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                channel.writeAndFlush(exceptionReply(header, new IOException(server.getId() + " is closing")));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            RaftPeerId requestor = ctx.channel().attr(REQUESTOR).get();
            if (requestor != null) {
                probe(requestor);
            }
            super.channelInactive(ctx);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
                tlsFailures.failed(ctx.channel().remoteAddress(), true, done.cause());
            }
            super.userEventTriggered(ctx, event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOGGER.debug("{}: Raft connection from {} failed: {}", server.getId(), ctx.channel().remoteAddress(),
                    cause.toString());
            ctx.close();
        }
    }

    /**
     * Whether the request is one Raft server sends another, whose requestor id is the sending peer's id. Client-style
     * requests a peer also sends (GroupInfo from {@code lastEntry}, leadership transfer, client requests) name a client
     * id instead: taking that as the connection's requestor kept a restarted peer "gone" for good when such a request
     * came first on its new connection (a leader it then became was reported as none, and CreateTopics timed out).
     */
    private static boolean fromPeer(RaftNettyServerRequestProto r) {
        return switch (r.getRaftNettyServerRequestCase()) {
            case REQUESTVOTEREQUEST, APPENDENTRIESREQUEST, INSTALLSNAPSHOTREQUEST, STARTLEADERELECTIONREQUEST -> true;
            default -> false;
        };
    }

    private static RaftRpcRequestProto header(RaftNettyServerRequestProto r) {
        return switch (r.getRaftNettyServerRequestCase()) {
            case REQUESTVOTEREQUEST -> r.getRequestVoteRequest().getServerRequest();
            case APPENDENTRIESREQUEST -> r.getAppendEntriesRequest().getServerRequest();
            case INSTALLSNAPSHOTREQUEST -> r.getInstallSnapshotRequest().getServerRequest();
            case STARTLEADERELECTIONREQUEST -> r.getStartLeaderElectionRequest().getServerRequest();
            case RAFTCLIENTREQUEST -> r.getRaftClientRequest().getRpcRequest();
            case SETCONFIGURATIONREQUEST -> r.getSetConfigurationRequest().getRpcRequest();
            case GROUPMANAGEMENTREQUEST -> r.getGroupManagementRequest().getRpcRequest();
            case GROUPLISTREQUEST -> r.getGroupListRequest().getRpcRequest();
            case GROUPINFOREQUEST -> r.getGroupInfoRequest().getRpcRequest();
            case TRANSFERLEADERSHIPREQUEST -> r.getTransferLeadershipRequest().getRpcRequest();
            case SNAPSHOTMANAGEMENTREQUEST -> r.getSnapshotManagementRequest().getRpcRequest();
            case LEADERELECTIONMANAGEMENTREQUEST -> r.getLeaderElectionManagementRequest().getRpcRequest();
            default -> throw new IllegalArgumentException("unsupported Raft request " + r.getRaftNettyServerRequestCase());
        };
    }

    /** Serves one request; runs on its group's serial executor. */
    private CompletableFuture<RaftNettyServerReplyProto> handle(RaftNettyServerRequestProto r, RaftRpcRequestProto header) {
        RaftNettyServerReplyProto.Builder reply = RaftNettyServerReplyProto.newBuilder();
        try {
            switch (r.getRaftNettyServerRequestCase()) {
                case APPENDENTRIESREQUEST:
                    return server.appendEntriesAsync(r.getAppendEntriesRequest())
                            .thenApply(a -> reply.setAppendEntriesReply(a).build());
                case REQUESTVOTEREQUEST:
                    return done(reply.setRequestVoteReply(server.requestVote(r.getRequestVoteRequest())));
                case INSTALLSNAPSHOTREQUEST:
                    return done(reply.setInstallSnapshotReply(server.installSnapshot(r.getInstallSnapshotRequest())));
                case STARTLEADERELECTIONREQUEST:
                    return done(reply.setStartLeaderElectionReply(
                            server.startLeaderElection(r.getStartLeaderElectionRequest())));
                case RAFTCLIENTREQUEST:
                    return clientReply(reply, server.submitClientRequestAsync(
                            ClientProtoUtils.toRaftClientRequest(r.getRaftClientRequest())));
                case SETCONFIGURATIONREQUEST:
                    return clientReply(reply, server.setConfigurationAsync(
                            ClientProtoUtils.toSetConfigurationRequest(r.getSetConfigurationRequest())));
                case GROUPMANAGEMENTREQUEST:
                    return clientReply(reply, server.groupManagementAsync(
                            ClientProtoUtils.toGroupManagementRequest(r.getGroupManagementRequest())));
                case TRANSFERLEADERSHIPREQUEST:
                    return clientReply(reply, server.transferLeadershipAsync(
                            ClientProtoUtils.toTransferLeadershipRequest(r.getTransferLeadershipRequest())));
                case SNAPSHOTMANAGEMENTREQUEST:
                    return clientReply(reply, server.snapshotManagementAsync(
                            ClientProtoUtils.toSnapshotManagementRequest(r.getSnapshotManagementRequest())));
                case LEADERELECTIONMANAGEMENTREQUEST:
                    return clientReply(reply, server.leaderElectionManagementAsync(
                            ClientProtoUtils.toLeaderElectionManagementRequest(
                                    r.getLeaderElectionManagementRequest())));
                case GROUPLISTREQUEST:
                    return server.getGroupListAsync(ClientProtoUtils.toGroupListRequest(r.getGroupListRequest()))
                            .thenApply(g -> reply.setGroupListReply(ClientProtoUtils.toGroupListReplyProto(g)).build());
                case GROUPINFOREQUEST:
                    return server.getGroupInfoAsync(ClientProtoUtils.toGroupInfoRequest(r.getGroupInfoRequest()))
                            .thenApply(g -> reply.setGroupInfoReply(ClientProtoUtils.toGroupInfoReplyProto(g)).build());
                default:
                    return done(exceptionReply(header, new IOException("unsupported Raft request "
                            + r.getRaftNettyServerRequestCase())).toBuilder());
            }
        } catch (IOException | RuntimeException e) {
            return done(exceptionReply(header, e).toBuilder());
        }
    }

    private static CompletableFuture<RaftNettyServerReplyProto> done(RaftNettyServerReplyProto.Builder reply) {
        return CompletableFuture.completedFuture(reply.build());
    }

    private static CompletableFuture<RaftNettyServerReplyProto> clientReply(RaftNettyServerReplyProto.Builder reply,
                                                                          CompletableFuture<RaftClientReply> future) {
        return future.thenApply(c -> reply.setRaftClientReply(ClientProtoUtils.toRaftClientReplyProto(c)).build());
    }

    private static RaftNettyServerReplyProto exceptionReply(RaftRpcRequestProto header, Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        IOException io = cause instanceof IOException e ? e : new IOException(cause.toString(), cause);
        RaftRpcReplyProto rpcReply = RaftRpcReplyProto.newBuilder()
                .setRequestorId(header.getRequestorId())
                .setReplyId(header.getReplyId())
                .setCallId(header.getCallId())
                .setSuccess(false)
                .build();
        return RaftNettyServerReplyProto.newBuilder().setExceptionReply(RaftNettyExceptionReplyProto.newBuilder()
                .setRpcReply(rpcReply).setException(ProtoUtils.writeObject2ByteString(io))).build();
    }

    @Override
    public void close() throws IOException {
        closing = true;
        Channel ch = serverChannel;
        if (ch != null) {
            ch.close().awaitUninterruptibly(1000);
        }
        peers.values().forEach(p -> p.disconnect("closing"));
        requestPool.shutdownNow();
        appenderPool.shutdownNow();
        bossGroup.shutdownGracefully(0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
        workerGroup.shutdownGracefully(0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
        clientGroup.shutdownGracefully(0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
}
