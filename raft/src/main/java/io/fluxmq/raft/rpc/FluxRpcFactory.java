package io.fluxmq.raft.rpc;

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

/** Ratis' Netty client for {@code RaftClient}s; {@link RaftTransport} for server-to-server traffic. */
public final class FluxRpcFactory implements ServerFactory, ClientFactory {
    public FluxRpcFactory(Parameters parameters) {
    }

    @Override
    public RpcType getRpcType() {
        return new FluxRpcType();
    }

    @Override
    public RaftServerRpc newRaftServerRpc(RaftServer server) {
        return new RaftTransport(server);
    }

    @Override
    public RaftClientRpc newRaftClientRpc(ClientId clientId, RaftProperties properties) {
        return new NettyClientRpc(clientId, properties);
    }
}
