package io.fluxmq.raft.rpc;

import io.fluxmq.raft.tls.PeerTls;
import io.fluxmq.raft.tls.TlsFailures;
import java.io.IOException;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerReplyProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.protocol.GroupInfoRequest;
import org.apache.ratis.protocol.GroupListRequest;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.LeaderElectionManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.thirdparty.io.netty.channel.EventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.nio.NioEventLoopGroup;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code RaftClient} side of {@link FluxRpcType} when the cluster's Raft traffic is mutual TLS: Ratis' Netty
 * client has no TLS, so requests go over a {@link PeerChannel} per server (the connection the transport's own
 * appenders use, with its TLS handshake, bounded connect and fail-fast backoff), in Ratis' Netty wire format, which
 * {@link RaftTransport} serves. Every request kind {@link RaftTransport} serves is converted; replies of other kinds
 * fail the call. Thread-safe.
 */
final class FluxClientRpc implements RaftClientRpc {
    private static final Logger LOGGER = LoggerFactory.getLogger(FluxClientRpc.class);
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    private final PeerTls tls;
    private final TlsFailures tlsFailures;
    private final EventLoopGroup group;
    private final long requestTimeoutMs;
    private final int connectTimeoutMs;
    private final Map<RaftPeerId, PeerChannel> peers = new ConcurrentHashMap<>();

    FluxClientRpc(RaftProperties properties, PeerTls tls) {
        this.tls = tls;
        this.tlsFailures = new TlsFailures(LOGGER, "Raft client");
        this.requestTimeoutMs = RaftClientConfigKeys.Rpc.requestTimeout(properties).toLong(TimeUnit.MILLISECONDS);
        this.connectTimeoutMs = (int) Math.min(Integer.MAX_VALUE, requestTimeoutMs);
        int id = CLIENTS.incrementAndGet();
        this.group = new NioEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "raft-client-" + id);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void addRaftPeers(Collection<RaftPeer> servers) {
        for (RaftPeer p : servers) {
            peers.computeIfAbsent(p.getId(), id -> new PeerChannel(p, group, connectTimeoutMs,
                    PeerChannel.RECONNECT_BACKOFF_MS, tls, tlsFailures));
        }
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsync(RaftClientRequest request) {
        PeerChannel peer = peers.get(request.getServerId());
        if (peer == null) {
            return CompletableFuture.failedFuture(new IOException("unknown Raft server " + request.getServerId()));
        }
        RaftNettyServerRequestProto wrapped;
        try {
            wrapped = wrap(request);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new IOException("cannot encode " + request, e));
        }
        return peer.callAsync(request.getCallId(), wrapped, requestTimeoutMs).thenApply(FluxClientRpc::unwrap);
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsyncUnordered(RaftClientRequest request) {
        return sendRequestAsync(request);
    }

    @Override
    public RaftClientReply sendRequest(RaftClientRequest request) throws IOException {
        try {
            return sendRequestAsync(request).get(requestTimeoutMs + connectTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted waiting for " + request.getServerId());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException && e.getCause().getCause() != null
                    ? e.getCause().getCause() : e.getCause();
            throw cause instanceof IOException io ? io : new IOException(String.valueOf(cause), cause);
        } catch (TimeoutException e) {
            throw new TimeoutIOException(request.getServerId() + " did not answer " + request.getCallId(), e);
        }
    }

    @Override
    public boolean handleException(RaftPeerId serverId, Throwable t, boolean reconnect) {
        PeerChannel peer = peers.get(serverId);
        if (peer != null && (reconnect || shouldReconnect(t))) {
            peer.disconnect("reconnect after " + t);
            return true;
        }
        return false;
    }

    private static RaftNettyServerRequestProto wrap(RaftClientRequest r) {
        RaftNettyServerRequestProto.Builder b = RaftNettyServerRequestProto.newBuilder();
        if (r instanceof SetConfigurationRequest s) {
            b.setSetConfigurationRequest(ClientProtoUtils.toSetConfigurationRequestProto(s));
        } else if (r instanceof GroupManagementRequest g) {
            b.setGroupManagementRequest(ClientProtoUtils.toGroupManagementRequestProto(g));
        } else if (r instanceof GroupListRequest g) {
            b.setGroupListRequest(ClientProtoUtils.toGroupListRequestProto(g));
        } else if (r instanceof GroupInfoRequest g) {
            b.setGroupInfoRequest(ClientProtoUtils.toGroupInfoRequestProto(g));
        } else if (r instanceof TransferLeadershipRequest t) {
            b.setTransferLeadershipRequest(ClientProtoUtils.toTransferLeadershipRequestProto(t));
        } else if (r instanceof SnapshotManagementRequest s) {
            b.setSnapshotManagementRequest(ClientProtoUtils.toSnapshotManagementRequestProto(s));
        } else if (r instanceof LeaderElectionManagementRequest l) {
            b.setLeaderElectionManagementRequest(ClientProtoUtils.toLeaderElectionManagementRequestProto(l));
        } else {
            b.setRaftClientRequest(ClientProtoUtils.toRaftClientRequestProto(r));
        }
        return b.build();
    }

    private static RaftClientReply unwrap(RaftNettyServerReplyProto reply) {
        switch (reply.getRaftNettyServerReplyCase()) {
            case RAFTCLIENTREPLY:
                RaftClientReply r = ClientProtoUtils.toRaftClientReply(reply.getRaftClientReply());
                // as Ratis' own clients do: the client retries on the leader it names, or later, only when these
                // fail the call rather than arrive in a reply
                if (r.getNotLeaderException() != null) {
                    throw new CompletionException(r.getNotLeaderException());
                }
                if (r.getLeaderNotReadyException() != null) {
                    throw new CompletionException(r.getLeaderNotReadyException());
                }
                return r;
            case GROUPLISTREPLY:
                return ClientProtoUtils.toGroupListReply(reply.getGroupListReply());
            case GROUPINFOREPLY:
                return ClientProtoUtils.toGroupInfoReply(reply.getGroupInfoReply());
            case EXCEPTIONREPLY:
                Object e = ProtoUtils.toObject(reply.getExceptionReply().getException());
                throw new CompletionException(e instanceof IOException io ? io : new IOException(String.valueOf(e)));
            default:
                throw new CompletionException(new IOException("unexpected Raft reply "
                        + reply.getRaftNettyServerReplyCase()));
        }
    }

    @Override
    public void close() {
        peers.values().forEach(p -> p.disconnect("client closing"));
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
    }
}
