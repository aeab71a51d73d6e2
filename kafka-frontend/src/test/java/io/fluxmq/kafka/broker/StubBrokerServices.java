package io.fluxmq.kafka.broker;

import io.fluxmq.raft.partition.Partition;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;

/**
 * The parts of {@link BrokerServices} most frontend tests do not care about: node 1 of cluster "c", its own
 * controller, one replica (itself) per partition, no local replicas, no topic administration (unsupported), empty
 * configs. Tests override what they exercise.
 */
public abstract class StubBrokerServices implements BrokerServices {
    @Override
    public int nodeId() {
        return 1;
    }

    @Override
    public String clusterId() {
        return "c";
    }

    @Override
    public int controllerId() {
        return 1;
    }

    @Override
    public List<BrokerEndpoint> brokers(String listener) {
        return List.of(new BrokerEndpoint(1, "127.0.0.1", 9092, null));
    }

    @Override
    public Optional<TopicInfo> topic(Uuid topicId) {
        return topics().stream().filter(t -> t.topicId().equals(topicId)).findFirst();
    }

    @Override
    public PartitionState partitionState(TopicPartition tp) {
        return new PartitionState(1, 1, List.of(1), List.of(1), List.of());
    }

    @Override
    public Partition replica(TopicPartition tp) {
        return null;
    }

    @Override
    public boolean autoCreateTopics() {
        return false;
    }

    @Override
    public CompletableFuture<TopicInfo> createTopic(String name, int partitions, short replicationFactor,
                                                    Map<String, String> configs, boolean validateOnly) {
        throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<Void> deleteTopic(String name) {
        throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<Void> createPartitions(String name, int totalCount, boolean validateOnly) {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<ConfigValue> describeConfigs(ConfigResource resource) {
        throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<Void> alterConfigs(ConfigResource resource, List<ConfigChange> changes,
                                                boolean incremental, boolean validateOnly) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Map<String, String> topicConfigDefaults() {
        return Map.of();
    }

    @Override
    public CompletableFuture<Long> nextProducerId() {
        return CompletableFuture.completedFuture(0L);
    }
}
