package io.fluxmq.node;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.engine.EnginePartitions;
import io.fluxmq.raft.partition.PartitionReplica;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Reconciler}'s view of this node's partitions on FluxMQ's own multi-Raft ({@code partition.engine=multiraft},
 * docs/adr/0003). A replica a reassignment adds opens with its group's former voters, among which it is not: it
 * follows and never campaigns until the group's leader adds it ({@link EngineGroupMembership}).
 */
record EngineLocalPartitions(EnginePartitions engine, CompletableFuture<?> foundOnDisk)
        implements Reconciler.LocalPartitions {
    private static final Logger LOGGER = LoggerFactory.getLogger(EngineLocalPartitions.class);

    /**
     * The reconciler's first pass waits until the replicas found on disk at start are registered
     * ({@link EnginePartitions#openFound}), so none of them is opened after a pass that meant to remove it.
     */
    private void awaitFound() {
        try {
            foundOnDisk.join();
        } catch (RuntimeException e) {
            // logged where it failed; the reconciler opens what metadata assigns
        }
    }

    @Override
    public Set<TopicPartition> hosted() {
        awaitFound();
        return engine.hostedOrOpening();
    }

    @Override
    public Uuid topicIdOf(TopicPartition tp) {
        return engine.topicIdOf(tp);
    }

    @Override
    public boolean isOpen(TopicPartition tp) {
        awaitFound();
        return engine.isHosted(tp);
    }

    @Override
    public void open(RaftNode.PartitionSpec spec, List<RaftPeer> members) throws IOException {
        if (members.isEmpty()) {
            throw new IOException("partition " + spec.topicPartition() + " has no replicas to open a group of");
        }
        // members come in the partition's replica order: the first is its preferred leader, which campaigns at once
        open(spec, members, PartitionReplica.nodeId(members.get(0).getId()));
    }

    @Override
    public void openJoining(RaftNode.PartitionSpec spec, List<RaftPeer> formerVoters) throws IOException {
        open(spec, formerVoters, -1); // not a voter: it campaigns for nothing
    }

    private void open(RaftNode.PartitionSpec spec, List<RaftPeer> members, int preferred) throws IOException {
        Set<Integer> voters = new TreeSet<>();
        for (RaftPeer peer : members) {
            voters.add(PartitionReplica.nodeId(peer.getId()));
        }
        // opened on the engine's opener threads, many side by side; a failure is retried at the next metadata change
        engine.open(spec.topicPartition(), spec.topicId(), spec.segment(), voters, preferred)
                .exceptionally(failure -> {
                    LOGGER.warn("Cannot open partition {}: {}; retrying at the next metadata change",
                            spec.topicPartition(), failure.toString());
                    return null;
                });
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
