package io.fluxmq.node;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.TopicRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves this node toward the metadata: opens the Raft group of every partition assigned to it and removes groups of
 * partitions no longer assigned (deleted topics). Runs on one thread; metadata changes coalesce into one pass.
 */
final class Reconciler {
    private static final Logger LOGGER = LoggerFactory.getLogger(Reconciler.class);

    private final NodeConfig config;
    private final RaftNode raft;
    private final TopicConfigs topicConfigs;
    private final ExecutorService executor;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile ClusterState latest = ClusterState.EMPTY;

    Reconciler(NodeConfig config, RaftNode raft, TopicConfigs topicConfigs, ExecutorService executor) {
        this.config = config;
        this.raft = raft;
        this.topicConfigs = topicConfigs;
        this.executor = executor;
    }

    /** Metadata listener: schedules a pass (never blocks the apply thread). */
    void onMetadata(ClusterState state) {
        latest = state;
        if (scheduled.compareAndSet(false, true)) {
            executor.execute(() -> {
                scheduled.set(false);
                reconcile(latest);
            });
        }
    }

    private void reconcile(ClusterState state) {
        Set<TopicPartition> wanted = new HashSet<>();
        for (TopicRecord topic : state.topics().values()) {
            for (int p = 0; p < topic.partitions(); p++) {
                List<Integer> replicas = topic.replicas(p);
                if (!replicas.contains(config.nodeId())) {
                    continue;
                }
                TopicPartition tp = new TopicPartition(topic.name(), p);
                wanted.add(tp);
                if (raft.replica(tp) != null) {
                    continue;
                }
                try {
                    raft.openPartition(new RaftNode.PartitionSpec(tp, topic.topicId(),
                            topicConfigs.segmentConfig(topic.configs())), peers(replicas));
                } catch (Exception e) {
                    LOGGER.warn("Cannot open partition {}: {}; retrying at the next metadata change", tp, e.toString());
                }
            }
        }
        for (TopicPartition tp : raft.localPartitions()) {
            Uuid id = raft.topicIdOf(tp);
            boolean sameTopic = state.topic(tp.topic()).map(t -> t.topicId().equals(id)).orElse(false);
            if (!wanted.contains(tp) || !sameTopic) {
                try {
                    raft.removePartition(tp, id);
                    LOGGER.info("Removed partition {} (no longer assigned here)", tp);
                } catch (Exception e) {
                    LOGGER.warn("Cannot remove partition {}: {}", tp, e.toString());
                }
            }
        }
    }

    List<RaftPeer> peers(List<Integer> nodeIds) {
        List<RaftPeer> peers = new ArrayList<>();
        for (int id : nodeIds) {
            ClusterMember m = config.member(id);
            peers.add(RaftPeer.newBuilder().setId(RaftNode.peerId(id)).setAddress(m.host() + ":" + m.raftPort())
                    .build());
        }
        return peers;
    }
}
