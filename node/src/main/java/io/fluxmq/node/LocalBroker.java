package io.fluxmq.node;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.PartitionState;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.partition.PartitionReplica;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link BrokerServices} of a node that is its own cluster: topics live in the local {@link TopicCatalog}, every
 * partition is a Raft group whose only voter is this node. Admin operations run one at a time on {@code admin}.
 */
final class LocalBroker implements BrokerServices {
    private static final Logger LOGGER = LoggerFactory.getLogger(LocalBroker.class);
    private static final long LEADER_WAIT_MS = 30_000;

    private final NodeConfig config;
    private final String clusterId;
    private final TopicCatalog catalog;
    private final TopicConfigs topicConfigs;
    private final RaftNode raft;
    private final ProducerIdBlocks producerIds;
    private final ExecutorService admin;

    LocalBroker(NodeConfig config, String clusterId, TopicCatalog catalog, RaftNode raft, ProducerIdBlocks producerIds,
                ExecutorService admin) {
        this.config = config;
        this.clusterId = clusterId;
        this.catalog = catalog;
        this.topicConfigs = new TopicConfigs(config);
        this.raft = raft;
        this.producerIds = producerIds;
        this.admin = admin;
    }

    /** Registers every catalogued partition with Raft so groups on disk reopen at start. */
    void registerPartitions() {
        for (TopicInfo topic : catalog.topics()) {
            for (int p = 0; p < topic.partitions(); p++) {
                raft.register(spec(topic, p));
            }
        }
    }

    /** Opens any catalogued partition whose group is not on disk yet (e.g. a crash between catalog and group). */
    void openMissingPartitions() throws IOException {
        for (TopicInfo topic : catalog.topics()) {
            for (int p = 0; p < topic.partitions(); p++) {
                if (raft.replica(new TopicPartition(topic.name(), p)) == null) {
                    raft.openLocalPartition(spec(topic, p));
                }
            }
        }
    }

    private RaftNode.PartitionSpec spec(TopicInfo topic, int partition) {
        return new RaftNode.PartitionSpec(new TopicPartition(topic.name(), partition), topic.topicId(),
                topicConfigs.segmentConfig(topic.configs()));
    }

    @Override
    public int nodeId() {
        return config.nodeId();
    }

    @Override
    public String clusterId() {
        return clusterId;
    }

    @Override
    public int controllerId() {
        return config.nodeId();
    }

    @Override
    public List<BrokerEndpoint> brokers(String listener) {
        return List.of(new BrokerEndpoint(config.nodeId(), config.advertisedHost(), config.advertisedPort(), null));
    }

    @Override
    public Collection<TopicInfo> topics() {
        return catalog.topics();
    }

    @Override
    public Optional<TopicInfo> topic(String name) {
        return catalog.topic(name);
    }

    @Override
    public Optional<TopicInfo> topic(Uuid topicId) {
        return catalog.topic(topicId);
    }

    @Override
    public PartitionState partitionState(TopicPartition tp) {
        PartitionReplica replica = raft.replica(tp);
        List<Integer> self = List.of(config.nodeId());
        if (replica == null || !replica.isLeader()) {
            return new PartitionState(-1, replica == null ? -1 : replica.leaderEpoch(), self, List.of(), self);
        }
        return new PartitionState(config.nodeId(), replica.leaderEpoch(), self, self, List.of());
    }

    @Override
    public PartitionReplica replica(TopicPartition tp) {
        return raft.replica(tp);
    }

    @Override
    public boolean autoCreateTopics() {
        return config.autoCreateTopics();
    }

    @Override
    public CompletableFuture<TopicInfo> createTopic(String name, int partitions, short replicationFactor,
                                                    Map<String, String> configs, boolean validateOnly) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                Topic.validate(name);
            } catch (InvalidTopicException e) {
                throw new AdminException(Errors.INVALID_TOPIC_EXCEPTION, e.getMessage());
            }
            if (catalog.topic(name).isPresent()) {
                throw new AdminException(Errors.TOPIC_ALREADY_EXISTS, "topic '" + name + "' already exists");
            }
            if (Topic.hasCollisionChars(name) && catalog.topics().stream()
                    .anyMatch(t -> Topic.hasCollision(t.name(), name))) {
                throw new AdminException(Errors.INVALID_TOPIC_EXCEPTION, "topic '" + name
                        + "' collides with an existing topic ('.' and '_' are interchangeable in metric names)");
            }
            if (partitions <= 0) {
                throw new AdminException(Errors.INVALID_PARTITIONS, "number of partitions must be larger than 0");
            }
            if (replicationFactor <= 0 || replicationFactor > 1) {
                throw new AdminException(Errors.INVALID_REPLICATION_FACTOR, "replication factor " + replicationFactor
                        + " is not possible with 1 available node");
            }
            topicConfigs.validate(configs);
            TopicInfo topic = new TopicInfo(name, Uuid.randomUuid(), partitions, replicationFactor, Map.copyOf(configs),
                    Topic.isInternal(name));
            if (validateOnly) {
                return topic;
            }
            try {
                catalog.put(topic);
                List<PartitionReplica> replicas = new ArrayList<>();
                for (int p = 0; p < partitions; p++) {
                    replicas.add(raft.openLocalPartition(spec(topic, p)));
                }
                awaitLeaders(replicas);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
            LOGGER.info("Created topic {} ({}) with {} partitions", name, topic.topicId(), partitions);
            return topic;
        }, admin);
    }

    private static void awaitLeaders(List<PartitionReplica> replicas) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEADER_WAIT_MS);
        for (PartitionReplica replica : replicas) {
            while (!replica.isLeader()) {
                if (System.nanoTime() > deadline) {
                    throw new AdminException(Errors.REQUEST_TIMED_OUT, "no leader for " + replica.topicPartition());
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AdminException(Errors.REQUEST_TIMED_OUT, "interrupted");
                }
            }
        }
    }

    @Override
    public CompletableFuture<Void> deleteTopic(String name) {
        return CompletableFuture.runAsync(() -> {
            TopicInfo topic = catalog.topic(name).orElseThrow(() ->
                    new AdminException(Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + name + "' does not exist"));
            try {
                catalog.remove(name);
                for (int p = 0; p < topic.partitions(); p++) {
                    raft.removePartition(new TopicPartition(name, p), topic.topicId());
                }
            } catch (IOException e) {
                throw new CompletionException(e);
            }
            LOGGER.info("Deleted topic {} ({})", name, topic.topicId());
        }, admin);
    }

    @Override
    public CompletableFuture<Void> createPartitions(String name, int totalCount, boolean validateOnly) {
        return CompletableFuture.runAsync(() -> {
            TopicInfo topic = catalog.topic(name).orElseThrow(() ->
                    new AdminException(Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + name + "' does not exist"));
            if (totalCount <= topic.partitions()) {
                throw new AdminException(Errors.INVALID_PARTITIONS, "topic currently has " + topic.partitions()
                        + " partitions, which is higher than or equal to the requested " + totalCount);
            }
            if (validateOnly) {
                return;
            }
            TopicInfo grown = new TopicInfo(topic.name(), topic.topicId(), totalCount, topic.replicationFactor(),
                    topic.configs(), topic.internal());
            try {
                List<PartitionReplica> replicas = new ArrayList<>();
                for (int p = topic.partitions(); p < totalCount; p++) {
                    replicas.add(raft.openLocalPartition(spec(grown, p)));
                }
                awaitLeaders(replicas);
                catalog.put(grown);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
            LOGGER.info("Topic {} now has {} partitions", name, totalCount);
        }, admin);
    }

    @Override
    public Map<String, String> brokerConfigs() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("broker.id", Integer.toString(config.nodeId()));
        out.put("node.id", Integer.toString(config.nodeId()));
        out.put("auto.create.topics.enable", Boolean.toString(config.autoCreateTopics()));
        out.put("num.partitions", Integer.toString(config.defaultPartitions()));
        out.put("default.replication.factor", Short.toString(config.defaultReplicationFactor()));
        out.put("message.max.bytes", Integer.toString(config.maxMessageBytes()));
        out.put("socket.request.max.bytes", Integer.toString(config.maxRequestBytes()));
        out.put("log.segment.bytes", Integer.toString(config.segment().segmentBytes()));
        out.put("log.retention.ms", Long.toString(config.retentionMs()));
        out.put("log.retention.bytes", Long.toString(config.retentionBytes()));
        out.put("log.dirs", config.dataDir().toString());
        return out;
    }

    @Override
    public Map<String, String> topicConfigDefaults() {
        return topicConfigs.defaults();
    }

    @Override
    public long nextProducerId() {
        return producerIds.next();
    }

    /** Applies retention to every local partition; run periodically. */
    void enforceRetention() {
        for (TopicInfo topic : catalog.topics()) {
            long retentionMs = Long.parseLong(topicConfigs.value(topic.configs(), "retention.ms"));
            retentionMs = retentionMs < 0 ? Long.MAX_VALUE : retentionMs;
            long retentionBytes = Long.parseLong(topicConfigs.value(topic.configs(), "retention.bytes"));
            for (int p = 0; p < topic.partitions(); p++) {
                PartitionReplica replica = raft.replica(new TopicPartition(topic.name(), p));
                if (replica == null) {
                    continue;
                }
                try {
                    int deleted = replica.enforceRetention(retentionMs, retentionBytes);
                    if (deleted > 0) {
                        LOGGER.info("Retention deleted {} segments of {}", deleted, replica.topicPartition());
                    }
                } catch (IOException | RuntimeException e) {
                    LOGGER.warn("Retention of {} failed: {}", replica.topicPartition(), e.toString());
                }
            }
        }
    }
}
