package io.fluxmq.raft.rpc;

import org.apache.ratis.conf.Parameters;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;

/**
 * The Raft RPC type FluxMQ configures: Ratis' Netty wire format, served and sent by {@link RaftTransport} instead of
 * Ratis' own Netty server. Set with {@code RaftConfigKeys.Rpc.setType(p, new FluxRpcType())}; Ratis instantiates it
 * by class name, hence the public no-argument constructor.
 */
public final class FluxRpcType implements RpcType {
    @Override
    public String name() {
        return FluxRpcType.class.getName();
    }

    @Override
    public RpcFactory newFactory(Parameters parameters) {
        return new FluxRpcFactory(parameters);
    }

    @Override
    public String toString() {
        return "FLUX_NETTY";
    }
}
