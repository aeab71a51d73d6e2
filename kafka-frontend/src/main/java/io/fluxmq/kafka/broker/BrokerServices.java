package io.fluxmq.kafka.broker;

import io.fluxmq.raft.partition.AppendResult;
import io.fluxmq.raft.partition.PartitionError;
import io.fluxmq.raft.partition.PartitionException;
import io.fluxmq.raft.partition.PartitionReplica;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * What the Kafka frontend needs from the node: cluster metadata, local partition replicas and topic administration.
 * Implementations are thread-safe; futures may complete on any thread.
 */
public interface BrokerServices {
    int nodeId();

    String clusterId();

    int controllerId();

    /** Every live node, with the address of the listener named {@code listener}. */
    List<BrokerEndpoint> brokers(String listener);

    Collection<TopicInfo> topics();

    Optional<TopicInfo> topic(String name);

    Optional<TopicInfo> topic(Uuid topicId);

    PartitionState partitionState(TopicPartition tp);

    /** This node's replica of a partition, or null when it holds none. */
    PartitionReplica replica(TopicPartition tp);

    /** What Fetch reads from this node's replica of a partition, or null when it holds none. */
    default PartitionReads partitionReads(TopicPartition tp) {
        PartitionReplica replica = replica(tp);
        return replica == null ? null : new ReplicaReads(replica);
    }

    /**
     * Appends one record batch to this node's replica of {@code tp} (see {@link PartitionReplica#append}); fails with
     * NOT_LEADER when this node holds none. May block while Raft is busy: call it off the event loop.
     */
    default CompletableFuture<AppendResult> append(TopicPartition tp, MemoryRecords records) {
        PartitionReplica replica = replica(tp);
        if (replica == null) {
            return CompletableFuture.failedFuture(new PartitionException(PartitionError.NOT_LEADER,
                    "this node holds no replica of " + tp));
        }
        return replica.append(records);
    }

    /** Whether Metadata requests may create unknown topics (Kafka's {@code auto.create.topics.enable}). */
    boolean autoCreateTopics();

    /** Creates a topic; completes when every partition has a leader. Fails with an {@link AdminException}. */
    CompletableFuture<TopicInfo> createTopic(String name, int partitions, short replicationFactor,
                                             Map<String, String> configs, boolean validateOnly);

    CompletableFuture<Void> deleteTopic(String name);

    CompletableFuture<Void> createPartitions(String name, int totalCount, boolean validateOnly);

    /** Broker-level configs as (name → value) for DescribeConfigs. */
    Map<String, String> brokerConfigs();

    /** Topic config defaults, merged under a topic's own configs by DescribeConfigs. */
    Map<String, String> topicConfigDefaults();

    /** A producer id never handed out before in this cluster. */
    CompletableFuture<Long> nextProducerId();
}
