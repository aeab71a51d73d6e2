package io.fluxmq.raft.rpc;

import io.fluxmq.raft.tls.PeerTls;
import org.apache.ratis.client.ClientFactory;
import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.client.NettyClientRpc;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerRpc;
import org.apache.ratis.server.ServerFactory;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;

/**
 * Ratis' Netty client for {@code RaftClient}s; {@link RaftTransport} for server-to-server traffic; on leaders Ratis'
 * stop-and-wait appender (a thread per follower and group), or a {@link PipelinedLogAppender} (threadless, several
 * appendEntries in flight) when {@value #PIPELINED_APPENDER_KEY} is true: experimental, it ended in an election storm
 * at 300 partitions (docs/adr/0003-ratis-threads-per-raft-group.md). With a {@link PeerTls} in the parameters
 * ({@value #PEER_TLS_PARAMETER}), the transport and the clients speak mutual TLS; clients then use
 * {@link FluxClientRpc}, Ratis' Netty client having no TLS.
 */
public final class FluxRpcFactory implements ServerFactory, ClientFactory {
    /** Whether leaders use {@link PipelinedLogAppender} (true) or Ratis' {@code LogAppenderDefault} (false). */
    public static final String PIPELINED_APPENDER_KEY = "fluxmq.raft.appender.pipelined";
    public static final boolean PIPELINED_APPENDER_DEFAULT = false;

    /** The {@code Parameters} key of the {@link PeerTls} to use, absent for plaintext. */
    public static final String PEER_TLS_PARAMETER = "fluxmq.raft.peer.tls";

    private final PeerTls tls;

    public FluxRpcFactory(Parameters parameters) {
        this.tls = parameters == null ? null : parameters.get(PEER_TLS_PARAMETER, PeerTls.class);
    }

    /** Parameters carrying {@code tls} (null: plaintext) to Ratis' server and client builders. */
    public static Parameters parameters(PeerTls tls) {
        Parameters p = new Parameters();
        if (tls != null) {
            p.put(PEER_TLS_PARAMETER, tls, PeerTls.class);
        }
        return p;
    }

    @Override
    public RpcType getRpcType() {
        return new FluxRpcType();
    }

    @Override
    public RaftServerRpc newRaftServerRpc(RaftServer server) {
        return new RaftTransport(server, tls);
    }

    @Override
    public LogAppender newLogAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
        RaftProperties p = server.getRaftServer().getProperties();
        if (!p.getBoolean(PIPELINED_APPENDER_KEY, PIPELINED_APPENDER_DEFAULT)) {
            return ServerFactory.super.newLogAppender(server, state, follower);
        }
        return new PipelinedLogAppender(server, state, follower, (RaftTransport) server.getRaftServer().getServerRpc());
    }

    @Override
    public RaftClientRpc newRaftClientRpc(ClientId clientId, RaftProperties properties) {
        return tls == null ? new NettyClientRpc(clientId, properties) : new FluxClientRpc(properties, tls);
    }
}
