package io.fluxmq.node;

/** {@link ClusterTlsIT} with partitions on FluxMQ's own multi-Raft ({@code partition.engine=multiraft}). */
class ClusterTlsMultiRaftIT extends ClusterTlsIT {
    @Override
    String engine() {
        return NodeConfig.MULTIRAFT;
    }

    @Override
    String[] tlsLines() {
        return new String[] {"speaks mutual TLS", "(mutual TLS)", ", mutual TLS)"}; // the last: the engine's transport
    }
}
