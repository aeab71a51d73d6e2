package io.fluxmq.node;

import io.fluxmq.control.v1.TransferLeaderReply;
import io.fluxmq.control.v1.TransferLeaderRequest;
import io.fluxmq.kafka.auth.AclAuthorizer;
import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.ConfigChange;
import io.fluxmq.kafka.broker.ConfigValue;
import io.fluxmq.kafka.broker.LeaderTransfer;
import io.fluxmq.kafka.broker.LogDirDescription;
import io.fluxmq.kafka.broker.PartitionState;
import io.fluxmq.kafka.broker.ReassignmentInfo;
import io.fluxmq.kafka.broker.ScramCredentialChange;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.quota.ClientQuotaManager;
import io.fluxmq.kafka.security.ScramCredentials;
import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.log.LogCleaner;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.LeaderRecord;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.ScramCredentialRecord;
import io.fluxmq.raft.metadata.TopicRecord;
import io.fluxmq.raft.engine.EnginePartition;
import io.fluxmq.raftcore.RaftGroup;
import io.fluxmq.raft.engine.EnginePartitions;
import io.fluxmq.raft.partition.Partition;
import io.fluxmq.raft.partition.PartitionReplica;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.ratis.protocol.RaftPeerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link BrokerServices} over the replicated cluster metadata: topics and placement come from the metadata group,
 * partition leaders and epochs from the partitions' own Raft groups (or, on nodes outside a group, from the leaders
 * the groups report to the metadata). Admin operations are metadata commands; each node's {@link Reconciler}
 * then creates or removes its replicas.
 */
final class ClusterBroker implements BrokerServices {
    private static final Logger LOGGER = LoggerFactory.getLogger(ClusterBroker.class);
    private static final long LEADER_WAIT_MS = 30_000;
    private static final int PRODUCER_ID_BLOCK = 1000;

    private final NodeConfig config;
    private final RaftNode raft;
    private final EnginePartitions engine;
    private final MetadataClient metadata;
    private final TopicConfigs topicConfigs;
    private final BrokerConfigs brokerConfigs;
    private final Executor admin;
    private final Reassignments reassignments;
    private final Members members;
    private long nextProducerId;
    private long producerIdBlockEnd;
    private volatile LeaderTransfers transfers;
    private final Authorization authorization;
    private final MetadataScramCredentials scramCredentials = new MetadataScramCredentials();
    private final ClientQuotaManager quotas;

    ClusterBroker(NodeConfig config, RaftNode raft, MetadataClient metadata, TopicConfigs topicConfigs,
                  Executor admin, Members members) {
        this(config, raft, null, metadata, topicConfigs, admin, members);
    }

    /** @param engine this node's partitions when they run on the own multi-Raft, else null (Ratis) */
    ClusterBroker(NodeConfig config, RaftNode raft, EnginePartitions engine, MetadataClient metadata,
                  TopicConfigs topicConfigs, Executor admin, Members members) {
        this.config = config;
        this.engine = engine;
        this.members = members;
        this.raft = raft;
        this.metadata = metadata;
        this.topicConfigs = topicConfigs;
        this.brokerConfigs = new BrokerConfigs(config, this::state);
        this.admin = admin;
        this.reassignments = new Reassignments(members, this::state, metadata::submit);
        if (config.authorizer().enabled()) {
            AclAuthorizer acls = new AclAuthorizer(config.authorizer());
            raft.metadata().addListener(s -> acls.update(s.acls())); // a new index only when the ACLs change
            this.authorization = acls;
            LOGGER.info("Authorization on: ACLs from cluster metadata, super users {}, "
                    + "allow.everyone.if.no.acl.found={}", config.authorizer().superUsers(),
                    config.authorizer().allowEveryoneIfNoAclFound());
        } else {
            this.authorization = Authorization.DISABLED;
        }
        raft.metadata().addListener(scramCredentials::onMetadata);
        this.quotas = new ClientQuotaManager(config.quotas(), Time.SYSTEM);
        raft.metadata().addListener(s -> quotas.update(s.clientQuotas())); // rebuilt only when the quotas change
    }

    /** Where this node's SCRAM authentication finds the credentials of the cluster metadata. */
    ScramCredentials scramCredentialLookup() {
        return scramCredentials;
    }

    private ClusterState state() {
        return raft.metadata().state();
    }

    @Override
    public int nodeId() {
        return config.nodeId();
    }

    @Override
    public String clusterId() {
        return config.clusterId();
    }

    @Override
    public int controllerId() {
        try {
            RaftPeerId leader = raft.server().getDivision(RaftNode.METADATA_GROUP).getInfo().getLeaderId();
            return leader == null ? -1 : PartitionReplica.nodeId(leader);
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * Every member ({@link Members}: registered in metadata or in cluster.nodes) except those the controller marked
     * DOWN (Kafka lists live brokers only), at the Kafka address it registered (its cluster.nodes entry until it
     * registers), or, for clients of another listener, at its address there (listener.name.*.nodes,
     * kafka.external.nodes); with the rack it registered ({@code broker.rack}).
     */
    @Override
    public List<BrokerEndpoint> brokers(String listener) {
        Set<Integer> down = state().downNodes();
        Map<Integer, InetSocketAddress> addresses = config.listenerNodes(listener);
        List<BrokerEndpoint> out = new ArrayList<>();
        for (int id : members.ids()) {
            ClusterMember m = members.member(id);
            if (m != null && !down.contains(id)) {
                InetSocketAddress a = addresses.get(id);
                String rack = members.rack(id);
                out.add(a == null ? new BrokerEndpoint(id, m.host(), m.kafkaPort(), rack)
                        : new BrokerEndpoint(id, a.getHostString(), a.getPort(), rack));
            }
        }
        return out;
    }

    private static TopicInfo info(TopicRecord t) {
        return new TopicInfo(t.name(), t.topicId(), t.partitions(), t.replicationFactor(), t.configs(), t.internal());
    }

    @Override
    public Collection<TopicInfo> topics() {
        return state().topics().values().stream().map(ClusterBroker::info).toList();
    }

    @Override
    public Optional<TopicInfo> topic(String name) {
        return state().topic(name).map(ClusterBroker::info);
    }

    @Override
    public Optional<TopicInfo> topic(Uuid topicId) {
        return state().topic(topicId).map(ClusterBroker::info);
    }

    /**
     * Leader and epoch from this node's replica of the partition's group (the leader the group reported to metadata
     * on a node without one). The ISR: on the partition's ready leader its own view ({@link PartitionReplica#status},
     * fresher than metadata); on every other node the ISR the leader published to metadata ({@link IsrPublisher}), or
     * every replica while none was published yet. Nodes the controller marked DOWN are left out of it either way.
     * Offline: on the leader, group members out of its ISR and replicas on DOWN nodes; elsewhere replicas on DOWN nodes.
     */
    @Override
    public PartitionState partitionState(TopicPartition tp) {
        ClusterState state = state();
        List<Integer> assigned = state.replicas(tp); // with the replicas a reassignment adds and removes
        Set<Integer> down = state.downNodes();
        if (engine != null) {
            return enginePartitionState(state, tp, assigned, down);
        }
        PartitionReplica replica = raft.replica(tp);
        PartitionReplica.Status s = replica == null ? null : replica.status(inSyncSilenceMs());
        if (s != null && s.leaderHere()) {
            List<Integer> replicas = assigned.isEmpty() ? s.replicas() : assigned;
            List<Integer> inSync = new ArrayList<>(s.inSync());
            inSync.removeAll(down);
            List<Integer> offline = replicas.stream()
                    .filter(r -> s.replicas().contains(r) ? !inSync.contains(r) : down.contains(r)).toList();
            return new PartitionState(liveLeader(s.leader()), s.epoch(), replicas, inSync, offline);
        }
        List<Integer> replicas = s != null && assigned.isEmpty() ? s.replicas() : assigned;
        List<Integer> inSync = publishedIsr(state, tp, replicas);
        inSync.removeAll(down);
        List<Integer> offline = replicas.stream().filter(down::contains).toList();
        if (s != null) {
            return new PartitionState(liveLeader(s.leader()), s.epoch(), replicas, inSync, offline);
        }
        LeaderRecord leader = state.leader(tp).orElse(new LeaderRecord(-1, -1));
        return new PartitionState(liveLeader(leader.leader()), leader.epoch(), replicas, inSync, offline);
    }

    /** The ISR the partition's leader published, limited to {@code replicas}; all of them while none was published. */
    private static List<Integer> publishedIsr(ClusterState state, TopicPartition tp, List<Integer> replicas) {
        return state.isr(tp).map(r -> new ArrayList<>(r.isr().stream().filter(replicas::contains).toList()))
                .orElseGet(() -> new ArrayList<>(replicas));
    }

    /**
     * On the multi-Raft engine: leader and epoch from this node's replica, or from metadata when it holds none (and the
     * record does not name this node). On the
     * leader the ISR is the engine's in-sync set (members holding every committed entry now or within the replica lag
     * time, not reported down) and offline the assigned replicas out of it; elsewhere the ISR the leader published to
     * metadata (every replica while none was) and offline the replicas on DOWN nodes.
     */
    private PartitionState enginePartitionState(ClusterState state, TopicPartition tp, List<Integer> assigned,
                                                Set<Integer> down) {
        EnginePartition replica = engine.partition(tp);
        if (replica != null && replica.failure() != null) {
            replica = null; // stopped here (its storage failed): what it last knew of the leader may name this node
        }
        LeaderRecord recorded = state.leader(tp).orElse(new LeaderRecord(-1, -1));
        // a new topic's record names its preferred replica; when that is this node, whose group is not running yet
        // (still opening), no leader is known: a client sent here now would be refused, then taken a moment later
        int leader = replica != null ? replica.leader()
                : recorded.leader() == config.nodeId() ? -1 : recorded.leader();
        int epoch = replica != null ? replica.leaderEpoch() : recorded.epoch();
        if (replica != null) {
            EnginePartition.LastLeader expected = expectedWinner(replica, assigned, down);
            if (expected != null) {
                leader = expected.id();
                epoch = expected.term();
            }
        }
        List<Integer> leaderView = replica == null ? List.of() : replica.inSync();
        List<Integer> inSync = leaderView.isEmpty() ? publishedIsr(state, tp, assigned) : new ArrayList<>(leaderView);
        inSync.removeAll(down);
        List<Integer> offline = leaderView.isEmpty() ? assigned.stream().filter(down::contains).toList()
                : assigned.stream().filter(r -> !inSync.contains(r)).toList();
        return new PartitionState(liveLeader(leader), epoch, assigned, inSync, offline);
    }

    /**
     * While the replicas of a partition whose leader's node is gone elect (leader unknown here, or still the dead
     * one), the survivor expected to win, with the dead leader's term: the first live replica by id, which campaigns
     * first ({@code RaftGroup.electionStagger}). A client told so sends its writes there at once; the replica holds
     * them until the election ends ({@code EnginePartition}: writes wait for a leader), takes them if it won, else
     * refuses them naming the winner in a newer epoch (KIP-951), where the client goes without a metadata refresh.
     * Without this, Metadata answers "no leader" and each refresh that still shows none doubles the client's wait.
     * Null when the leader is known and alive, or no survivor is known.
     */
    private EnginePartition.LastLeader expectedWinner(EnginePartition replica, List<Integer> assigned,
                                                     Set<Integer> down) {
        int current = replica.leader();
        EnginePartition.LastLeader last = replica.lastLeader();
        Set<Integer> gone = engine.peersDown();
        boolean electing = current == RaftGroup.NO_LEADER ? gone.contains(last.id())
                : current != config.nodeId() && gone.contains(current);
        if (!electing || last.term() < 0) {
            return null;
        }
        int dead = current == RaftGroup.NO_LEADER ? last.id() : current;
        return assigned.stream().filter(r -> r != dead && !down.contains(r) && !gone.contains(r)).min(Integer::compare)
                .map(r -> new EnginePartition.LastLeader(r, current == RaftGroup.NO_LEADER ? last.term()
                        : replica.leaderEpoch()))
                .orElse(null);
    }

    /**
     * {@code leader}, or -1 while the Raft transport knows that node's process is gone: its groups still name it
     * until they elect another leader (a few hundred milliseconds), and a client told "no leader" asks again soon,
     * where one sent to the dead node backs off its connection attempts for up to a second.
     */
    private int liveLeader(int leader) {
        if (engine != null) {
            return leader >= 0 && leader != config.nodeId() && engine.peersDown().contains(leader) ? -1 : leader;
        }
        return leader >= 0 && raft.peerGone(leader) ? -1 : leader;
    }

    @Override
    public Partition replica(TopicPartition tp) {
        return engine != null ? engine.partition(tp) : raft.replica(tp);
    }

    @Override
    public boolean autoCreateTopics() {
        return config.autoCreateTopics();
    }

    @Override
    public CompletableFuture<TopicInfo> createTopic(String name, int partitions, short replicationFactor,
                                                    Map<String, String> configs, boolean validateOnly) {
        try {
            Topic.validate(name);
        } catch (InvalidTopicException e) {
            return CompletableFuture.failedFuture(new AdminException(Errors.INVALID_TOPIC_EXCEPTION, e.getMessage()));
        }
        if (state().topic(name).isPresent()) {
            return CompletableFuture.failedFuture(new AdminException(Errors.TOPIC_ALREADY_EXISTS,
                    "topic '" + name + "' already exists"));
        }
        if (partitions <= 0) {
            return CompletableFuture.failedFuture(new AdminException(Errors.INVALID_PARTITIONS,
                    "number of partitions must be larger than 0"));
        }
        Map<Integer, String> placeable = members.placeable();
        int nodes = placeable.size();
        if (replicationFactor <= 0 || replicationFactor > nodes) {
            return CompletableFuture.failedFuture(new AdminException(Errors.INVALID_REPLICATION_FACTOR,
                    "replication factor " + replicationFactor + " is not possible with " + nodes
                            + " nodes that take replicas (decommissioned nodes do not)"));
        }
        try {
            topicConfigs.validate(configs, replicationFactor);
        } catch (AdminException e) {
            return CompletableFuture.failedFuture(e);
        }
        TopicRecord topic = new TopicRecord(name, Uuid.randomUuid(), replicationFactor, configs,
                Topic.isInternal(name), Placement.assign(name, 0, partitions, replicationFactor, placeable));
        if (validateOnly) {
            return CompletableFuture.completedFuture(info(topic));
        }
        // on the multi-Raft engine each new group's preferred replica (the first) campaigns at once for term 1
        return metadata.submit(new MetadataCommand.CreateTopic(topic, engine != null ? FIRST_TERM : 0))
                .thenComposeAsync(r -> awaitLeaders(r, name, 0, partitions), admin)
                .thenApply(v -> {
                    LOGGER.info("Created topic {} ({}) with {} partitions", name, topic.topicId(), partitions);
                    return info(topic);
                });
    }

    /** The Raft term a new multi-Raft group's first election is held in. */
    private static final int FIRST_TERM = 1;

    /** How often a waiting CreateTopics or CreatePartitions looks at the metadata again. */
    private static final long WAIT_POLL_MS = 20;

    /**
     * Completes once this node's metadata knows the topic and (on Ratis) every listed partition has a leader (then after the
     * leaders had a moment to move to their preferred replicas, see {@link #preferredLeadersPlaced}). Never blocks a
     * thread: each look is a short task on {@link #admin}, rescheduled every {@value #WAIT_POLL_MS} ms, so many
     * creations wait side by side (hundreds of CreateTopics at once used to wait one after another on the one admin
     * thread, and most timed out).
     */
    private CompletableFuture<Void> awaitLeaders(MetadataReply reply, String name, int from, int to) {
        if (engine != null) {
            // On the multi-Raft engine, as in Kafka, the topic exists once the metadata holds it: each new
            // partition's preferred replica campaigns at once, and clients asking meanwhile are told
            // LEADER_NOT_AVAILABLE and retry. Kafka's Admin client sends one request per node at a time, so the
            // answer goes out as soon as this node applied the change (the reply carries its index).
            return raft.metadata().awaitApplied(reply.value());
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        long now = System.nanoTime();
        pollLeaders(name, from, to, now + TimeUnit.MILLISECONDS.toNanos(LEADER_WAIT_MS), Long.MIN_VALUE, done);
        return done;
    }

    /** One look; {@code preferredDeadline} is {@code Long.MIN_VALUE} until every partition had a leader. */
    private void pollLeaders(String name, int from, int to, long deadline, long preferredDeadline,
                             CompletableFuture<Void> done) {
        long now = System.nanoTime();
        long nextPreferredDeadline = preferredDeadline;
        if (preferredDeadline == Long.MIN_VALUE) {
            boolean ready = state().topic(name).map(t -> t.partitions() >= to).orElse(false);
            for (int p = from; ready && p < to; p++) {
                ready = partitionState(new TopicPartition(name, p)).leader() >= 0;
            }
            if (ready) {
                nextPreferredDeadline = now + TimeUnit.MILLISECONDS.toNanos(PREFERRED_WAIT_MS);
            } else if (now >= deadline) {
                List<String> leaderless = new ArrayList<>();
                for (int p = from; p < to; p++) {
                    TopicPartition tp = new TopicPartition(name, p);
                    PartitionState ps = partitionState(tp);
                    if (ps.leader() < 0) {
                        PartitionReplica replica = raft.replica(tp);
                        leaderless.add(tp + " (replica here: " + (replica == null ? "none"
                                : replica.status(inSyncSilenceMs())) + ", down nodes " + state().downNodes() + ")");
                    }
                }
                LOGGER.warn("Creating {}: no leader within {} ms for {}", name, LEADER_WAIT_MS, leaderless);
                done.completeExceptionally(new AdminException(Errors.REQUEST_TIMED_OUT,
                        "partitions of " + name + " have no leader yet"));
                return;
            }
        }
        if (nextPreferredDeadline != Long.MIN_VALUE
                && (preferredLeadersPlaced(name, from, to) || now >= nextPreferredDeadline)) {
            done.complete(null);
            return;
        }
        long next = nextPreferredDeadline;
        CompletableFuture.runAsync(() -> {
            try {
                pollLeaders(name, from, to, deadline, next, done);
            } catch (RuntimeException e) {
                // a look that throws would otherwise leave the request unanswered until the client gives up
                LOGGER.warn("Creating {}: looking for the leaders failed", name, e);
                done.completeExceptionally(e);
            }
        }, CompletableFuture.delayedExecutor(WAIT_POLL_MS, TimeUnit.MILLISECONDS, admin));
    }

    /**
     * Whether every listed partition is led by its preferred replica: new leaders get a moment (at most
     * {@value #PREFERRED_WAIT_MS} ms) to hand over (see {@link #preferLeader}), so a new topic starts with its leaders
     * spread as placed, like in Kafka, and clients do not see them move right after CreateTopics.
     */
    private boolean preferredLeadersPlaced(String name, int from, int to) {
        Optional<TopicRecord> topic = state().topic(name);
        boolean preferred = topic.isPresent();
        for (int p = from; preferred && p < to; p++) {
            preferred = partitionState(new TopicPartition(name, p)).leader() == topic.get().replicas(p).get(0);
        }
        return preferred;
    }

    private static final long PREFERRED_WAIT_MS = 3_000;

    @Override
    public CompletableFuture<Void> deleteTopic(String name) {
        return metadata.submit(new MetadataCommand.DeleteTopic(name)).thenApply(r -> null);
    }

    @Override
    public CompletableFuture<Void> createPartitions(String name, int totalCount, boolean validateOnly) {
        Optional<TopicRecord> topic = state().topic(name);
        if (topic.isEmpty()) {
            return CompletableFuture.failedFuture(new AdminException(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                    "topic '" + name + "' does not exist"));
        }
        int current = topic.get().partitions();
        if (totalCount <= current) {
            return CompletableFuture.failedFuture(new AdminException(Errors.INVALID_PARTITIONS, "topic currently has "
                    + current + " partitions, which is higher than or equal to the requested " + totalCount));
        }
        if (validateOnly) {
            return CompletableFuture.completedFuture(null);
        }
        Map<Integer, String> placeable = members.placeable();
        if (topic.get().replicationFactor() > placeable.size()) {
            return CompletableFuture.failedFuture(new AdminException(Errors.INVALID_REPLICATION_FACTOR,
                    "replication factor " + topic.get().replicationFactor() + " of " + name + " is not possible with "
                            + placeable.size() + " nodes that take replicas"));
        }
        List<List<Integer>> added = Placement.assign(name, current, totalCount - current,
                topic.get().replicationFactor(), placeable);
        return metadata.submit(new MetadataCommand.AddPartitions(name, added))
                .thenComposeAsync(r -> awaitLeaders(r, name, current, totalCount), admin);
    }

    @Override
    public Map<String, String> topicConfigDefaults() {
        return topicConfigs.defaults();
    }

    @Override
    public List<ConfigValue> describeConfigs(ConfigResource resource) {
        return switch (resource.type()) {
            case TOPIC -> topicConfigs.describe(existing(resource.name()).configs());
            case BROKER -> {
                brokerConfigs.checkName(resource.name());
                yield brokerConfigs.describe(resource.name());
            }
            default -> throw new AdminException(Errors.INVALID_REQUEST, "FluxMQ has no configs for resource type "
                    + resource.type());
        };
    }

    private TopicRecord existing(String topic) {
        return state().topic(topic).orElseThrow(() -> new AdminException(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                "The topic '" + topic + "' does not exist."));
    }

    /**
     * Topic configs: once this node's metadata replica caught up with every change committed before (a metadata
     * barrier, so an alteration is never computed from a stale copy and undoes a change made through another node),
     * the whole resulting set is validated, as at CreateTopics, then written as one AlterTopicConfigs command; completes
     * once this node's metadata replica applied it. The change reaches every node through its metadata replica (produce
     * limits and retention read it on use; segment settings through the Reconciler). Broker configs: see
     * {@link #alterBrokerConfigs}.
     */
    @Override
    public CompletableFuture<Void> alterConfigs(ConfigResource resource, List<ConfigChange> changes,
                                                boolean incremental, boolean validateOnly) {
        try {
            if (resource.type() == ConfigResource.Type.BROKER) {
                brokerConfigs.checkName(resource.name());
                return metadata.submit(new MetadataCommand.Barrier())
                        .thenCompose(barrier -> raft.metadata().awaitApplied(barrier.value()))
                        .thenComposeAsync(caughtUp -> alterBrokerConfigs(resource.name(), changes, incremental,
                                validateOnly), admin);
            }
            if (resource.type() != ConfigResource.Type.TOPIC) {
                throw new AdminException(Errors.INVALID_REQUEST, "FluxMQ cannot alter configs of resource type "
                        + resource.type());
            }
        } catch (AdminException e) {
            return CompletableFuture.failedFuture(e);
        }
        return metadata.submit(new MetadataCommand.Barrier())
                .thenCompose(barrier -> raft.metadata().awaitApplied(barrier.value()))
                .thenComposeAsync(caughtUp -> alterTopicConfigs(resource.name(), changes, incremental, validateOnly),
                        admin);
    }

    /**
     * Dynamic broker configs ({@link BrokerConfigs}): validated against this node's caught-up metadata, then written
     * as one AlterBrokerConfigs command; completes once this node applied it. Every node reads them from its metadata
     * replica: topic defaults on use, the replication throttle through its metadata listener.
     */
    private CompletableFuture<Void> alterBrokerConfigs(String entity, List<ConfigChange> changes, boolean incremental,
                                                       boolean validateOnly) {
        BrokerConfigs.Change change = brokerConfigs.alter(entity, changes, incremental);
        if (validateOnly || (change.set().isEmpty() && change.delete().isEmpty())) {
            return CompletableFuture.completedFuture(null);
        }
        return metadata.submit(new MetadataCommand.AlterBrokerConfigs(entity, change.set(), change.delete()))
                .thenCompose(reply -> raft.metadata().awaitApplied(reply.value()))
                .thenRunAsync(() -> LOGGER.info("Dynamic configs of broker {} changed: set {}, deleted {}",
                        entity.isEmpty() ? "<default>" : entity, change.set(), change.delete()), admin);
    }

    /** The effective {@code leader.replication.throttled.rate} of this node (dynamic, else its setting). */
    long leaderReplicationThrottledRate() {
        return Long.parseLong(brokerConfigs.effective(BrokerConfigs.LEADER_THROTTLE, config.nodeId()));
    }

    private CompletableFuture<Void> alterTopicConfigs(String name, List<ConfigChange> changes, boolean incremental,
                                                      boolean validateOnly) {
        TopicRecord topic = existing(name);
        Map<String, String> next = topicConfigs.alter(topic.configs(), changes, incremental, topic.replicationFactor());
        if (validateOnly) {
            return CompletableFuture.completedFuture(null);
        }
        // only what changed, so concurrent changes of other keys are not undone
        Map<String, String> set = new HashMap<>(next);
        if (incremental) {
            set.entrySet().removeIf(e -> e.getValue().equals(topic.configs().get(e.getKey())));
        }
        List<String> removed = topic.configs().keySet().stream().filter(k -> !next.containsKey(k)).toList();
        return metadata.submit(new MetadataCommand.AlterTopicConfigs(topic.name(), !incremental, set, removed))
                .thenCompose(reply -> raft.metadata().awaitApplied(reply.value()))
                .thenRunAsync(() -> LOGGER.info("Configs of topic {} changed to {}", topic.name(), next), admin);
    }

    @Override
    public CompletableFuture<Void> reassignPartition(TopicPartition tp, List<Integer> target,
                                                     boolean allowReplicationFactorChange) {
        return reassignments.reassign(tp, target, allowReplicationFactorChange);
    }

    @Override
    public Map<TopicPartition, ReassignmentInfo> reassignments() {
        return reassignments.list();
    }

    @Override
    public Authorization authorization() {
        return authorization;
    }

    @Override
    public CompletableFuture<Void> createAcls(List<AclBinding> acls) {
        return metadata.submit(new MetadataCommand.CreateAcls(acls))
                .thenCompose(reply -> raft.metadata().awaitApplied(reply.value()));
    }

    @Override
    public List<AclBinding> acls(AclBindingFilter filter) {
        return state().acls(filter);
    }

    /**
     * Once this node's metadata caught up with every change committed before (a barrier, so a binding created through
     * another node just before is seen), the bindings each filter matches are removed with one DeleteAcls command;
     * completes once this node applied it.
     */
    @Override
    public CompletableFuture<List<List<AclBinding>>> deleteAcls(List<AclBindingFilter> filters) {
        return metadata.submit(new MetadataCommand.Barrier())
                .thenCompose(barrier -> raft.metadata().awaitApplied(barrier.value()))
                .thenComposeAsync(caughtUp -> {
                    ClusterState s = state();
                    List<List<AclBinding>> matched = filters.stream().map(s::acls).toList();
                    Set<AclBinding> all = new LinkedHashSet<>();
                    matched.forEach(all::addAll);
                    if (all.isEmpty()) {
                        return CompletableFuture.completedFuture(matched);
                    }
                    return metadata.submit(new MetadataCommand.DeleteAcls(List.copyOf(all)))
                            .thenCompose(reply -> raft.metadata().awaitApplied(reply.value()))
                            .thenApply(applied -> matched);
                }, admin);
    }

    /**
     * Once this node's metadata caught up with every change committed before (a barrier, as for DeleteAcls), the
     * deletions of credentials that exist and every upsertion are submitted as one AlterScramCredentials command;
     * completes with the users whose deletion found nothing once this node applied it.
     */
    @Override
    public CompletableFuture<Set<String>> alterScramCredentials(List<ScramCredentialChange> changes) {
        return metadata.submit(new MetadataCommand.Barrier())
                .thenCompose(barrier -> raft.metadata().awaitApplied(barrier.value()))
                .thenComposeAsync(caughtUp -> {
                    Map<ScramCredentialRecord.Key, ScramCredentialRecord> existing = state().scramCredentials();
                    Set<String> missing = new HashSet<>();
                    List<ScramCredentialRecord.Key> deletions = new ArrayList<>();
                    List<ScramCredentialRecord> upsertions = new ArrayList<>();
                    for (ScramCredentialChange c : changes) {
                        ScramCredentialRecord.Key key = new ScramCredentialRecord.Key(c.user(), c.mechanism());
                        if (!c.deletion()) {
                            upsertions.add(new ScramCredentialRecord(c.user(), c.mechanism(), c.credential().salt(),
                                    c.credential().storedKey(), c.credential().serverKey(),
                                    c.credential().iterations()));
                        } else if (existing.containsKey(key)) {
                            deletions.add(key);
                        } else {
                            missing.add(c.user());
                        }
                    }
                    if (deletions.isEmpty() && upsertions.isEmpty()) {
                        return CompletableFuture.completedFuture(Set.copyOf(missing));
                    }
                    return metadata.submit(new MetadataCommand.AlterScramCredentials(deletions, upsertions))
                            .thenCompose(reply -> raft.metadata().awaitApplied(reply.value()))
                            .thenApply(applied -> Set.copyOf(missing));
                }, admin);
    }

    @Override
    public Map<String, List<ScramCredentialInfo>> scramCredentials() {
        return MetadataScramCredentials.describe(state());
    }

    /** One AlterClientQuotas metadata command for every alteration; completes once this node applied it. */
    @Override
    public CompletableFuture<Void> alterClientQuotas(List<ClientQuotaAlteration> alterations) {
        List<MetadataCommand.QuotaAlteration> changes = new ArrayList<>();
        for (ClientQuotaAlteration a : alterations) {
            Map<String, Double> set = new HashMap<>();
            List<String> remove = new ArrayList<>();
            a.ops().forEach(op -> {
                if (op.value() == null) {
                    remove.add(op.key());
                } else {
                    set.put(op.key(), op.value());
                }
            });
            changes.add(new MetadataCommand.QuotaAlteration(a.entity(), set, remove));
        }
        return metadata.submit(new MetadataCommand.AlterClientQuotas(changes))
                .thenCompose(reply -> raft.metadata().awaitApplied(reply.value()));
    }

    @Override
    public Map<ClientQuotaEntity, Map<String, Double>> clientQuotas() {
        return state().clientQuotas();
    }

    @Override
    public ClientQuotaManager quotas() {
        return quotas;
    }

    @Override
    public CompletableFuture<Long> nextProducerId() {
        synchronized (this) {
            if (nextProducerId < producerIdBlockEnd) {
                return CompletableFuture.completedFuture(nextProducerId++);
            }
        }
        return metadata.submit(new MetadataCommand.AllocateProducerIds(PRODUCER_ID_BLOCK)).thenApply(reply -> {
            synchronized (this) {
                if (nextProducerId >= producerIdBlockEnd) {
                    nextProducerId = reply.value();
                    producerIdBlockEnd = reply.value() + PRODUCER_ID_BLOCK;
                }
                return nextProducerId++;
            }
        });
    }

    /**
     * Preferred-leader balancing: for each partition this node leads although another in-sync replica is its
     * preferred leader (the first assigned replica), hands leadership back with a Ratis leadership transfer. Run
     * periodically, so leaders spread out again after a node returns.
     */
    void balanceLeaders() {
        if (engine != null) {
            engine.hosted().forEach(this::preferLeader);
            return;
        }
        for (TopicPartition tp : raft.localPartitions()) {
            preferLeader(tp);
        }
    }

    /**
     * If this node leads {@code tp} and its preferred replica (the first assigned one) is another node that answered
     * within one election timeout and holds the leader's whole log, hands leadership over with a Ratis transfer.
     * Also run a few times right after this node becomes a leader (see FluxNode), so new partitions and partitions
     * whose preferred replica returns get their preferred leader within seconds.
     */
    void preferLeader(TopicPartition tp) {
        if (engine != null) {
            preferEngineLeader(tp);
            return;
        }
        PartitionReplica replica = raft.replica(tp);
        Optional<TopicRecord> topic = state().topic(tp.topic());
        if (replica == null || topic.isEmpty() || tp.partition() >= topic.get().partitions()
                || state().reassignment(tp).isPresent()) {
            return; // during a reassignment its driver decides where leadership goes
        }
        int preferred = topic.get().replicas(tp.partition()).get(0);
        if (preferred == config.nodeId() || !replica.isLeader()) {
            return;
        }
        LeaderTransfers pins = transfers;
        if (pins != null && pins.pinned(tp)) {
            return; // an operator chose this leader (partition transfer-leader)
        }
        // Only hand over to a follower that answered within one election timeout and has the whole log: Ratis
        // rejects writes while a transfer is pending, so a transfer to a frozen or cut-off node would stall the
        // partition for the whole transfer timeout.
        long electionMs = config.electionTimeoutMin().toMillis();
        if (!replica.isCaughtUpFollower(preferred, electionMs)) {
            return;
        }
        try {
            boolean moved = replica.transferLeadership(preferred, 2 * electionMs).get(10, TimeUnit.SECONDS);
            LOGGER.info("Leadership of {} {} to preferred leader {}", tp, moved ? "moved" : "did not move",
                    preferred);
        } catch (Exception e) {
            LOGGER.info("Leadership of {} could not move to preferred leader {}: {}", tp, preferred, e.toString());
        }
    }

    /**
     * {@link #preferLeader} on the multi-Raft engine: if this node leads {@code tp}, its preferred replica is another
     * node the failure detector counts as up and not out of the leader's in-sync set, and no reassignment runs, starts a transfer (the engine catches the
     * target up first and gives up after an election timeout).
     */
    private void preferEngineLeader(TopicPartition tp) {
        EnginePartition replica = engine.partition(tp);
        Optional<TopicRecord> topic = state().topic(tp.topic());
        if (replica == null || !replica.isLeader() || topic.isEmpty() || tp.partition() >= topic.get().partitions()
                || state().reassignment(tp).isPresent()) {
            return;
        }
        int preferred = topic.get().replicas(tp.partition()).get(0);
        if (preferred == config.nodeId() || engine.peersDown().contains(preferred)
                || state().downNodes().contains(preferred)) {
            return;
        }
        List<Integer> inSync = replica.inSync(); // empty until the new leader's first refresh
        if (!inSync.isEmpty() && !inSync.contains(preferred)) {
            return; // as Kafka: only to an in-sync replica (a replica stopped on its node, a full disk, never is)
        }
        LeaderTransfers pins = transfers;
        if (pins != null && pins.pinned(tp)) {
            return; // an operator chose this leader (partition transfer-leader)
        }
        replica.transferLeadership(preferred).whenComplete((v, e) -> LOGGER.info("Leadership of {} {} preferred "
                + "leader {}{}", tp, e == null ? "handed to" : "not handed to", preferred,
                e == null ? "" : ": " + e.getMessage()));
    }

    /** Wires the leader transfers, which are made with the control plane after this broker. */
    void leaderTransfers(LeaderTransfers transfers) {
        this.transfers = transfers;
    }

    /** ElectLeaders: through {@link LeaderTransfers}, forwarded to the partition's leader; never pins. */
    @Override
    public CompletableFuture<LeaderTransfer> transferLeader(TopicPartition tp, int target, long timeoutMs) {
        LeaderTransfers t = transfers;
        if (t == null) {
            return CompletableFuture.completedFuture(new LeaderTransfer(LeaderTransfer.Outcome.FAILED, -1,
                    "node " + config.nodeId() + " is starting"));
        }
        return t.transfer(TransferLeaderRequest.newBuilder().setTopic(tp.topic()).setPartition(tp.partition())
                        .setTargetNode(target).setTimeoutMs(timeoutMs).build())
                .thenApply(r -> new LeaderTransfer(outcome(r.getStatus()), r.getLeader(), r.getMessage()));
    }

    private static LeaderTransfer.Outcome outcome(TransferLeaderReply.Status status) {
        return switch (status) {
            case STATUS_TRANSFERRED -> LeaderTransfer.Outcome.TRANSFERRED;
            case STATUS_ALREADY_LEADER -> LeaderTransfer.Outcome.ALREADY_LEADER;
            case STATUS_TARGET_NOT_IN_SYNC -> LeaderTransfer.Outcome.TARGET_NOT_IN_SYNC;
            case STATUS_NOT_A_REPLICA -> LeaderTransfer.Outcome.NOT_A_REPLICA;
            case STATUS_UNKNOWN_PARTITION -> LeaderTransfer.Outcome.UNKNOWN_PARTITION;
            case STATUS_NO_LEADER -> LeaderTransfer.Outcome.NO_LEADER;
            default -> LeaderTransfer.Outcome.FAILED;
        };
    }

    /**
     * DescribeLogDirs: where the partition directories are ({@code <data-dir>/multiraft}, or {@code <data-dir>/topics}
     * on Ratis), its file system's total and usable bytes, and each open replica with the batch bytes of its segment
     * files. The offset lag is 0: on the
     * leader by definition, and a follower does not know the leader's log end (the leader reports each follower's lag
     * in Raft entries through {@code raft status} and the follower-lag metric).
     */
    @Override
    public LogDirDescription logDir() {
        Path dir = config.dataDir().resolve(engine != null ? "multiraft" : "topics").toAbsolutePath();
        long total = -1;
        long usable = -1;
        try {
            FileStore store = Files.getFileStore(Files.exists(dir) ? dir : config.dataDir());
            total = store.getTotalSpace();
            usable = store.getUsableSpace();
        } catch (IOException e) {
            LOGGER.debug("No file store for {}: {}", dir, e.toString());
        }
        List<LogDirDescription.Replica> replicas = new ArrayList<>();
        for (TopicPartition tp : engine != null ? engine.hosted() : raft.localPartitions()) {
            Partition replica = replica(tp);
            if (replica != null) {
                replicas.add(new LogDirDescription.Replica(tp, replica.logSizeBytes(), 0));
            }
        }
        replicas.sort(Comparator.comparing((LogDirDescription.Replica r) -> r.topicPartition().topic())
                .thenComparingInt(r -> r.topicPartition().partition()));
        return new LogDirDescription(dir.toString(), total, usable, replicas);
    }

    /**
     * How long a follower may go without answering its leader and still be listed in the ISR: twice the longest
     * election timeout, so a frozen or cut-off replica leaves the ISR about when the others would elect past it.
     */
    long inSyncSilenceMs() {
        return 2 * config.electionTimeoutMax().toMillis();
    }

    /**
     * One pass of the log cleaner over every local replica of a topic whose cleanup.policy includes compact; run
     * periodically on the node's cleaner thread. Each replica cleans its own segments (docs/storage.md, Compaction).
     */
    void compactLogs(LogCleaner cleaner) {
        for (TopicPartition tp : engine != null ? engine.hosted() : raft.localPartitions()) {
            Partition replica = replica(tp);
            Optional<TopicRecord> topic = state().topic(tp.topic());
            if (replica == null || topic.isEmpty() || !topicConfigs.compacted(topic.get().configs())) {
                continue;
            }
            try {
                replica.compact(cleaner, topicConfigs.compactionPolicy(topic.get().configs()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException | RuntimeException e) {
                LOGGER.warn("Log cleaning of {} failed: {}", tp, e.toString());
            }
        }
    }

    /** Applies retention to every local partition; run periodically. */
    void enforceRetention() {
        for (TopicPartition tp : engine != null ? engine.hosted() : raft.localPartitions()) {
            Partition replica = replica(tp);
            Optional<TopicRecord> topic = state().topic(tp.topic());
            if (replica == null || topic.isEmpty()) {
                continue;
            }
            if (!topicConfigs.deletes(topic.get().configs())) {
                continue; // cleanup.policy=compact: no time or size retention, as in Kafka
            }
            long retentionMs = Long.parseLong(topicConfigs.value(topic.get().configs(), "retention.ms"));
            long retentionBytes = Long.parseLong(topicConfigs.value(topic.get().configs(), "retention.bytes"));
            long before = replica.logStartOffset();
            replica.enforceRetention(retentionMs < 0 ? Long.MAX_VALUE : retentionMs, retentionBytes)
                    .whenComplete((start, e) -> {
                        if (e != null) {
                            LOGGER.warn("Retention of {} failed: {}", tp, e.toString());
                        } else if (start > before) {
                            LOGGER.info("Retention moved the log start of {} from {} to {}", tp, before, start);
                        }
                    });
        }
    }
}
