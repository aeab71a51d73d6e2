package io.fluxmq.node;

/** {@link ClusterTlsIT} with partitions on FluxMQ's own multi-Raft ({@code partition.engine=multiraft}). */
class ClusterTlsMultiRaftIT extends ClusterTlsIT {
    @Override
    String engine() {
        return NodeConfig.MULTIRAFT;
    }
}
