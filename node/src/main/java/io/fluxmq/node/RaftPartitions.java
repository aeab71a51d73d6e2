package io.fluxmq.node;

import io.fluxmq.raft.RaftNode;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.ratis.protocol.RaftPeer;

/** The {@link Reconciler}'s view of this node's Raft partition groups. */
record RaftPartitions(RaftNode raft) implements Reconciler.LocalPartitions {
    @Override
    public Set<TopicPartition> hosted() {
        return raft.hostedPartitions();
    }

    @Override
    public Uuid topicIdOf(TopicPartition tp) {
        return raft.topicIdOf(tp);
    }

    @Override
    public boolean isOpen(TopicPartition tp) {
        return raft.replica(tp) != null;
    }

    @Override
    public void open(RaftNode.PartitionSpec spec, List<RaftPeer> members) throws IOException {
        raft.openPartition(spec, members);
    }

    @Override
    public void reconfigure(RaftNode.PartitionSpec spec) throws IOException {
        raft.reconfigure(spec);
    }

    @Override
    public void remove(TopicPartition tp, Uuid topicId) throws IOException {
        raft.removePartition(tp, topicId);
    }
}
