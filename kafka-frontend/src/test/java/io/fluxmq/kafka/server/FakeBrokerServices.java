package io.fluxmq.kafka.server;

import io.fluxmq.kafka.api.SaslAuthenticateHandler;
import io.fluxmq.kafka.api.SaslHandshakeHandler;
import io.fluxmq.kafka.api.AlterConfigsHandler;
import io.fluxmq.kafka.api.ApiHandler;
import io.fluxmq.kafka.api.ApiRegistry;
import io.fluxmq.kafka.api.ApiVersionsHandler;
import io.fluxmq.kafka.api.CreateAclsHandler;
import io.fluxmq.kafka.api.CreatePartitionsHandler;
import io.fluxmq.kafka.api.DeleteAclsHandler;
import io.fluxmq.kafka.api.DescribeAclsHandler;
import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.api.CreateTopicsHandler;
import io.fluxmq.kafka.api.DeleteRecordsHandler;
import io.fluxmq.kafka.api.AlterPartitionReassignmentsHandler;
import io.fluxmq.kafka.api.ListPartitionReassignmentsHandler;
import io.fluxmq.kafka.api.DeleteTopicsHandler;
import io.fluxmq.kafka.api.DescribeClusterHandler;
import io.fluxmq.kafka.api.DescribeConfigsHandler;
import io.fluxmq.kafka.api.DescribeLogDirsHandler;
import io.fluxmq.kafka.api.ElectLeadersHandler;
import io.fluxmq.kafka.api.FetchHandler;
import io.fluxmq.kafka.api.IncrementalAlterConfigsHandler;
import io.fluxmq.kafka.api.InitProducerIdHandler;
import io.fluxmq.kafka.api.ListOffsetsHandler;
import io.fluxmq.kafka.api.MetadataHandler;
import io.fluxmq.kafka.api.OffsetForLeaderEpochHandler;
import io.fluxmq.kafka.api.ProduceHandler;
import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.ConfigChange;
import io.fluxmq.kafka.broker.ConfigValue;
import io.fluxmq.kafka.broker.PartitionState;
import io.fluxmq.kafka.broker.ScramCredentialChange;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.fetch.FetchSessionCache;
import io.fluxmq.kafka.group.GroupConfig;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.raft.partition.Partition;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;
import org.apache.kafka.common.security.scram.ScramCredential;

/**
 * An immutable, in-memory {@link BrokerServices}: node 1 of a one-node cluster that knows one topic, {@link #TOPIC},
 * with 3 partitions led by itself. It holds no replicas, so partition reads and writes answer with errors; admin
 * operations succeed without changing anything (so every test sees the same state).
 */
public final class FakeBrokerServices implements BrokerServices {
    public static final String TOPIC = "orders";
    public static final Uuid TOPIC_ID = new Uuid(0x1234_5678_9abcL, 0x0fed_cba9_8765L);
    public static final int PARTITIONS = 3;
    private static final TopicInfo INFO = new TopicInfo(TOPIC, TOPIC_ID, PARTITIONS, (short) 1,
            Map.of("retention.ms", "3600000"), false);

    private final Authorization authorization;
    /** SCRAM credentials by user, then mechanism: what AlterUserScramCredentials stored. */
    private final Map<String, Map<org.apache.kafka.clients.admin.ScramMechanism, ScramCredential>> scram =
            new java.util.TreeMap<>();

    /** Authorization off, as a node without {@code authorizer.class.name}. */
    /** Client quotas: what AlterClientQuotas stored, applied to {@link #quotas()} as the node does. */
    private volatile Map<org.apache.kafka.common.quota.ClientQuotaEntity, Map<String, Double>> clientQuotas = Map.of();
    private final io.fluxmq.kafka.quota.ClientQuotaManager quotaManager = new io.fluxmq.kafka.quota.ClientQuotaManager(
            io.fluxmq.kafka.quota.ClientQuotaConfig.DEFAULTS, org.apache.kafka.common.utils.Time.SYSTEM);

    @Override
    public synchronized CompletableFuture<Void> alterClientQuotas(
            List<org.apache.kafka.common.quota.ClientQuotaAlteration> alterations) {
        Map<org.apache.kafka.common.quota.ClientQuotaEntity, Map<String, Double>> next =
                new java.util.HashMap<>(clientQuotas);
        for (org.apache.kafka.common.quota.ClientQuotaAlteration a : alterations) {
            Map<String, Double> values = new java.util.HashMap<>(next.getOrDefault(a.entity(), Map.of()));
            a.ops().forEach(op -> {
                if (op.value() == null) {
                    values.remove(op.key());
                } else {
                    values.put(op.key(), op.value());
                }
            });
            if (values.isEmpty()) {
                next.remove(a.entity());
            } else {
                next.put(a.entity(), Map.copyOf(values));
            }
        }
        clientQuotas = Map.copyOf(next);
        quotaManager.update(clientQuotas);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public Map<org.apache.kafka.common.quota.ClientQuotaEntity, Map<String, Double>> clientQuotas() {
        return clientQuotas;
    }

    @Override
    public io.fluxmq.kafka.quota.ClientQuotaManager quotas() {
        return quotaManager;
    }

    public FakeBrokerServices() {
        this(Authorization.DISABLED);
    }

    /** The same broker with an access check (handler authorization tests). */
    public FakeBrokerServices(Authorization authorization) {
        this.authorization = authorization;
    }

    @Override
    public Authorization authorization() {
        return authorization;
    }

    @Override
    public synchronized CompletableFuture<java.util.Set<String>> alterScramCredentials(
            List<ScramCredentialChange> changes) {
        java.util.Set<String> missing = new java.util.HashSet<>();
        for (ScramCredentialChange c : changes) {
            Map<org.apache.kafka.clients.admin.ScramMechanism, ScramCredential> user = scram.computeIfAbsent(c.user(),
                    u -> new java.util.EnumMap<>(org.apache.kafka.clients.admin.ScramMechanism.class));
            if (!c.deletion()) {
                user.put(c.mechanism(), c.credential());
            } else if (user.remove(c.mechanism()) == null) {
                missing.add(c.user());
            }
            if (user.isEmpty()) {
                scram.remove(c.user());
            }
        }
        return CompletableFuture.completedFuture(missing);
    }

    @Override
    public synchronized Map<String, List<ScramCredentialInfo>> scramCredentials() {
        Map<String, List<ScramCredentialInfo>> out = new java.util.HashMap<>();
        scram.forEach((user, byMechanism) -> out.put(user, byMechanism.entrySet().stream()
                .map(e -> new ScramCredentialInfo(e.getKey(), e.getValue().iterations())).toList()));
        return out;
    }

    /** A registry of every handler in {@code io.fluxmq.kafka.api}, wired as FluxNode wires them. */
    public static ApiRegistry registry() {
        BrokerServices broker = new FakeBrokerServices();
        AtomicReference<ApiRegistry> self = new AtomicReference<>();
        List<ApiHandler<?>> handlers = List.of(
                new ApiVersionsHandler(self::get),
                new MetadataHandler(broker, 3, (short) 1),
                new ProduceHandler(broker, tp -> Runnable::run),
                new FetchHandler(broker, new FetchSessionCache(100, 120_000), Runnable::run),
                new ListOffsetsHandler(broker),
                new OffsetForLeaderEpochHandler(broker),
                new CreateTopicsHandler(broker, 3, (short) 1),
                new DeleteTopicsHandler(broker),
                new CreatePartitionsHandler(broker),
                new InitProducerIdHandler(broker, null),
                new DescribeClusterHandler(broker),
                new DescribeConfigsHandler(broker),
                new AlterConfigsHandler(broker),
                new IncrementalAlterConfigsHandler(broker),
                new DeleteRecordsHandler(broker),
                new ElectLeadersHandler(broker),
                new DescribeLogDirsHandler(broker),
                new AlterPartitionReassignmentsHandler(broker),
                new ListPartitionReassignmentsHandler(broker),
                new SaslHandshakeHandler(),
                new SaslAuthenticateHandler(),
                new CreateAclsHandler(broker),
                new DescribeAclsHandler(broker),
                new DeleteAclsHandler(broker),
                new io.fluxmq.kafka.api.AlterUserScramCredentialsHandler(broker),
                new io.fluxmq.kafka.api.DescribeUserScramCredentialsHandler(broker),
                new io.fluxmq.kafka.api.DescribeClientQuotasHandler(broker),
                new io.fluxmq.kafka.api.AlterClientQuotasHandler(broker));
        // Not started: no offsets topic exists here, so every group request is answered COORDINATOR_NOT_AVAILABLE.
        GroupCoordinator coordinator = new GroupCoordinator(broker, GroupConfig.defaults(), () -> 1_700_000_000_000L,
                tp -> Runnable::run);
        // Not started either: no transaction state topic, so transaction requests get COORDINATOR_NOT_AVAILABLE.
        io.fluxmq.kafka.txn.TxnCoordinator transactions = new io.fluxmq.kafka.txn.TxnCoordinator(broker,
                io.fluxmq.kafka.txn.TxnConfig.defaults(), () -> 1_700_000_000_000L, tp -> Runnable::run,
                (tp, pid, epoch, commit, coordinatorEpoch) -> java.util.concurrent.CompletableFuture.completedFuture(
                        org.apache.kafka.common.protocol.Errors.NONE));
        List<ApiHandler<?>> all = new ArrayList<>(handlers);
        all.addAll(io.fluxmq.kafka.api.GroupHandlers.of(coordinator, transactions));
        all.addAll(io.fluxmq.kafka.api.TxnHandlers.of(broker, transactions, coordinator));
        self.set(new ApiRegistry(all, List.of(coordinator, transactions)));
        return self.get();
    }

    @Override
    public int nodeId() {
        return 1;
    }

    @Override
    public String clusterId() {
        return "fake-cluster-id";
    }

    @Override
    public int controllerId() {
        return 1;
    }

    /** The leader and epoch {@link #partitionState} names for every partition: this node (1) in epoch 5 unless set. */
    private volatile int leader = 1;
    private volatile int leaderEpoch = 5;

    /** Makes {@link #partitionState} name node {@code node} (listed by {@link #brokers}, port 9091 + id) the leader. */
    public void leaderOn(int node, int epoch) {
        leader = node;
        leaderEpoch = epoch;
    }

    @Override
    public List<BrokerEndpoint> brokers(String listener) {
        return leader == 1 ? List.of(new BrokerEndpoint(1, "127.0.0.1", 9092, null))
                : List.of(new BrokerEndpoint(1, "127.0.0.1", 9092, null),
                        new BrokerEndpoint(leader, "127.0.0.1", 9091 + leader, "rack-" + leader));
    }

    @Override
    public Collection<TopicInfo> topics() {
        return List.of(INFO);
    }

    @Override
    public Optional<TopicInfo> topic(String name) {
        return TOPIC.equals(name) ? Optional.of(INFO) : Optional.empty();
    }

    @Override
    public Optional<TopicInfo> topic(Uuid topicId) {
        return TOPIC_ID.equals(topicId) ? Optional.of(INFO) : Optional.empty();
    }

    @Override
    public PartitionState partitionState(TopicPartition tp) {
        return new PartitionState(leader, leaderEpoch, List.of(1), List.of(1), List.of());
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
        if (topic(name).isPresent()) {
            return CompletableFuture.failedFuture(new AdminException(Errors.TOPIC_ALREADY_EXISTS, name + " exists"));
        }
        return CompletableFuture.completedFuture(new TopicInfo(name, Uuid.fromString("AAAAAAAAAAAAAAAAAAAAAQ"),
                partitions, replicationFactor, Map.copyOf(configs), false));
    }

    @Override
    public CompletableFuture<Void> deleteTopic(String name) {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> createPartitions(String name, int totalCount, boolean validateOnly) {
        if (topic(name).isEmpty()) {
            return CompletableFuture.failedFuture(new AdminException(Errors.UNKNOWN_TOPIC_OR_PARTITION, name));
        }
        return totalCount > PARTITIONS ? CompletableFuture.completedFuture(null) : CompletableFuture.failedFuture(
                new AdminException(Errors.INVALID_PARTITIONS, "topic already has " + PARTITIONS + " partitions"));
    }

    @Override
    public List<ConfigValue> describeConfigs(ConfigResource resource) {
        if (resource.type() == ConfigResource.Type.TOPIC && topic(resource.name()).isPresent()) {
            return List.of(new ConfigValue("retention.ms", "3600000", ConfigSource.TOPIC_CONFIG, false, List.of(
                    new ConfigValue.Synonym("retention.ms", "3600000", ConfigSource.TOPIC_CONFIG),
                    new ConfigValue.Synonym("log.retention.ms", "604800000", ConfigSource.DEFAULT_CONFIG)),
                    ConfigType.LONG, "How long to keep records."), new ConfigValue("cleanup.policy", "delete",
                    ConfigSource.DEFAULT_CONFIG, false, List.of(), ConfigType.LIST, null));
        }
        if (resource.type() == ConfigResource.Type.BROKER && resource.name().equals("1")) {
            return List.of(new ConfigValue("num.partitions", "3", ConfigSource.STATIC_BROKER_CONFIG, true, List.of(),
                    ConfigType.INT, "Partitions of a new topic."));
        }
        throw new AdminException(resource.type() == ConfigResource.Type.TOPIC ? Errors.UNKNOWN_TOPIC_OR_PARTITION
                : Errors.INVALID_REQUEST, "no configs for " + resource);
    }

    /** Changes nothing; refuses unknown topics, keys other than retention.ms and non-topic resources. */
    @Override
    public CompletableFuture<Void> alterConfigs(ConfigResource resource, List<ConfigChange> changes,
                                                boolean incremental, boolean validateOnly) {
        if (resource.type() != ConfigResource.Type.TOPIC) {
            return CompletableFuture.failedFuture(new AdminException(Errors.INVALID_REQUEST, "read-only"));
        }
        if (topic(resource.name()).isEmpty()) {
            return CompletableFuture.failedFuture(new AdminException(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                    resource.name()));
        }
        return changes.stream().allMatch(c -> c.name().equals("retention.ms")) ? CompletableFuture.completedFuture(null)
                : CompletableFuture.failedFuture(new AdminException(Errors.INVALID_CONFIG, "unknown key"));
    }

    @Override
    public Map<String, String> topicConfigDefaults() {
        return Map.of("retention.ms", "604800000", "cleanup.policy", "delete");
    }

    @Override
    public java.util.concurrent.CompletableFuture<Long> nextProducerId() {
        return java.util.concurrent.CompletableFuture.completedFuture(4242L);
    }
}
