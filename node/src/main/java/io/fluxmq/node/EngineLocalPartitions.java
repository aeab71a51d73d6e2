package io.fluxmq.node;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.engine.EnginePartitions;
import io.fluxmq.raft.partition.PartitionReplica;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The {@link Reconciler}'s view of this node's partitions on FluxMQ's own multi-Raft ({@code partition.engine=multiraft},
 * docs/adr/0003). A replica a reassignment adds (opened without members) is refused: membership changes do not run
 * on this engine yet.
 */
record EngineLocalPartitions(EnginePartitions engine) implements Reconciler.LocalPartitions {
    @Override
    public Set<TopicPartition> hosted() {
        return engine.hosted();
    }

    @Override
    public Uuid topicIdOf(TopicPartition tp) {
        return engine.topicIdOf(tp);
    }

    @Override
    public boolean isOpen(TopicPartition tp) {
        return engine.partition(tp) != null;
    }

    @Override
    public void open(RaftNode.PartitionSpec spec, List<RaftPeer> members) throws IOException {
        if (members.isEmpty()) {
            throw new IOException("partition " + spec.topicPartition() + " is being reassigned to this node; "
                    + "reassignment does not run on partition.engine=multiraft yet");
        }
        Set<Integer> voters = new TreeSet<>();
        for (RaftPeer peer : members) {
            voters.add(PartitionReplica.nodeId(peer.getId()));
        }
        // members come in the partition's replica order: the first is its preferred leader, which campaigns at once
        int preferred = PartitionReplica.nodeId(members.get(0).getId());
        try {
            engine.open(spec.topicPartition(), spec.topicId(), spec.segment(), voters, preferred)
                    .get(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("could not open the Raft group of " + spec.topicPartition(), e);
        }
    }

    @Override
    public void reconfigure(RaftNode.PartitionSpec spec) {
        engine.reconfigure(spec.topicPartition(), spec.segment());
    }

    @Override
    public void remove(TopicPartition tp, Uuid topicId) throws IOException {
        engine.remove(tp);
    }
}
