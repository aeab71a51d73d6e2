package io.fluxmq.node;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.partition.PartitionReplica;
import java.io.IOException;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;

/** {@link NodeController.Leadership} read from this node's division of the metadata Raft group. */
final class MetadataLeadership implements NodeController.Leadership {
    private final RaftNode raft;

    MetadataLeadership(RaftNode raft) {
        this.raft = raft;
    }

    private DivisionInfo info() throws IOException {
        return raft.server().getDivision(RaftNode.METADATA_GROUP).getInfo();
    }

    @Override
    public long readyLeaderTerm() {
        try {
            DivisionInfo info = info();
            return info.isLeaderReady() ? info.getCurrentTerm() : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public int leaderId() {
        try {
            RaftPeerId leader = info().getLeaderId();
            return leader == null ? -1 : PartitionReplica.nodeId(leader);
        } catch (IOException e) {
            return -1;
        }
    }
}
