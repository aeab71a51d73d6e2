package io.fluxmq.node;

import io.fluxmq.kafka.api.SaslAuthenticateHandler;
import io.fluxmq.kafka.api.SaslHandshakeHandler;
import io.fluxmq.kafka.api.AlterConfigsHandler;
import io.fluxmq.kafka.api.AlterUserScramCredentialsHandler;
import io.fluxmq.kafka.api.DescribeUserScramCredentialsHandler;
import io.fluxmq.kafka.api.DescribeClientQuotasHandler;
import io.fluxmq.kafka.api.AlterClientQuotasHandler;
import io.fluxmq.kafka.api.ApiHandler;
import io.fluxmq.kafka.api.ApiRegistry;
import io.fluxmq.kafka.api.ApiVersionsHandler;
import io.fluxmq.kafka.api.GroupHandlers;
import io.fluxmq.kafka.api.CreateAclsHandler;
import io.fluxmq.kafka.api.CreatePartitionsHandler;
import io.fluxmq.kafka.api.CreateTopicsHandler;
import io.fluxmq.kafka.api.DeleteAclsHandler;
import io.fluxmq.kafka.api.DeleteRecordsHandler;
import io.fluxmq.kafka.api.AlterPartitionReassignmentsHandler;
import io.fluxmq.kafka.api.ListPartitionReassignmentsHandler;
import io.fluxmq.kafka.api.DeleteTopicsHandler;
import io.fluxmq.kafka.api.DescribeAclsHandler;
import io.fluxmq.kafka.api.DescribeClusterHandler;
import io.fluxmq.kafka.api.DescribeConfigsHandler;
import io.fluxmq.kafka.api.DescribeLogDirsHandler;
import io.fluxmq.kafka.api.ElectLeadersHandler;
import io.fluxmq.kafka.api.FetchHandler;
import io.fluxmq.kafka.fetch.FetchSessionCache;
import io.fluxmq.kafka.api.IncrementalAlterConfigsHandler;
import io.fluxmq.kafka.api.InitProducerIdHandler;
import io.fluxmq.kafka.api.ListOffsetsHandler;
import io.fluxmq.kafka.api.MetadataHandler;
import io.fluxmq.kafka.api.OffsetForLeaderEpochHandler;
import io.fluxmq.kafka.api.ProduceHandler;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.txn.TxnCoordinator;
import io.fluxmq.kafka.api.TxnHandlers;
import io.fluxmq.kafka.server.KafkaFrontend;
import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.log.CleanerThrottle;
import io.fluxmq.raft.log.LogCleaner;
import io.fluxmq.raft.engine.EnginePartitions;
import java.net.InetSocketAddress;
import org.apache.kafka.common.TopicPartition;
import io.fluxmq.raft.metadata.LeaderRecord;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.storage.DurableFiles;
import io.fluxmq.raftcore.ReplicationThrottle;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.ArrayList;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of one FluxMQ node: data directory, Raft server, broker services, Kafka listener and
 * background duties. {@link #start()} brings them up in dependency order; {@link #close()} takes them down in
 * reverse, so a node stopped with SIGTERM finishes in-flight writes to disk.
 *
 * <p>A node whose Raft server closed underneath it (Ratis does so after a JVM pause longer than
 * {@code raft.pause.close.threshold.ms}) can neither replicate nor learn metadata any more: a watchdog then fences it
 * ({@code /ready} answers 503, heartbeats stop, so the controller marks it DOWN) and calls the {@code lost} handler
 * given at construction ({@link Main}: exit with {@link #EXIT_RAFT_SERVER_LOST}; by default: {@link #close()}).
 */
public final class FluxNode implements Closeable {
    private static final Logger LOGGER = LoggerFactory.getLogger(FluxNode.class);
    /** Exit code of {@code fluxmq-node} after its Raft server closed underneath it; restarting it is the remedy. */
    public static final int EXIT_RAFT_SERVER_LOST = 3;
    /** The data dir's identity file: node id, cluster id, partition engine (and controllers of a node given its id). */
    static final String META_FILE = "meta.properties";
    private static final long WATCHDOG_INTERVAL_MS = 500;

    private final NodeConfig config;
    private final Consumer<String> lost;
    private volatile boolean closing;
    /** Why the node stopped serving while still running (its Raft server closed underneath it), or null. */
    private volatile String fenced;
    private RaftNode raft;
    /** This node's partitions on the own multi-Raft ({@code partition.engine=multiraft}), else null. */
    private EnginePartitions engine;
    /** Completes once the replicas found on disk at start are registered with {@link #engine}. */
    private CompletableFuture<?> foundOnDisk = CompletableFuture.completedFuture(null);
    private KafkaFrontend kafka;
    private ExecutorService admin;
    private ExecutorService fetchWakeups;
    /** Single-thread executors that submit appends to Raft; a partition always uses the same one (order). */
    private final ExecutorService[] appends = new ExecutorService[4];
    private ScheduledExecutorService duties;
    /** Runs the log cleaner's passes ({@code log.cleaner.enable}); null when off. */
    private ScheduledExecutorService cleanerThread;
    private static final long[] PREFER_LEADER_DELAYS_MS = {100, 300, 700, 1500};
    private ClusterBroker broker;
    private MetadataClient metadataClient;
    private NodeHttpServer http;
    private NodeMetrics metrics;
    private ControlChannels controlChannels;
    /** Writes transaction markers for this node's transaction coordinator; made with the control plane. */
    private TxnMarkers txnMarkers;
    private TxnRouting txnRouting;
    /** The multi-Raft engine's replication throttle (null on Ratis). */
    private volatile ReplicationThrottle replicationThrottle;
    private ControlServer control;
    private ScheduledExecutorService liveness;
    /** Registers this node and heartbeats (set once the control plane starts). */
    private volatile HeartbeatAgent heartbeatAgent;
    /** What /ready answers besides fencing: listener up, registered, caught up with metadata. */
    private final Readiness readiness;
    private ScheduledExecutorService reconcilerThread;
    private Reconciler reconciler;
    private ScheduledExecutorService reassignmentThread;
    /** Runs the {@link IsrPublisher}'s passes (each may wait for a metadata commit). */
    private ScheduledExecutorService isrThread;
    private IsrPublisher isrPublisher;
    /** How soon after a leadership change its ISR is published (changes of many partitions share the command). */
    private static final long ISR_AFTER_LEADER_CHANGE_MS = 100;
    private Members members;
    private static final long DECOMMISSION_TICK_MS = 1_000;

    /** A node that closes itself if its Raft server closes underneath it. */
    public FluxNode(NodeConfig config) {
        this(config, null);
    }

    /**
     * @param lost called once, on a watchdog thread, with the reason when the Raft server closed underneath the running
     *             node (after it was fenced); null: close the node
     */
    public FluxNode(NodeConfig config, Consumer<String> lost) {
        this.config = config;
        this.lost = lost != null ? lost : reason -> new Thread(this::close, "fluxmq-fenced-close").start();
        this.readiness = new Readiness(config.nodeId(), () -> {
            HeartbeatAgent agent = heartbeatAgent;
            return agent != null && agent.registered();
        });
    }

    public void start() throws IOException, InterruptedException {
        Files.createDirectories(config.dataDir());
        loadMeta();
        admin = Executors.newSingleThreadExecutor(named("fluxmq-admin"));
        fetchWakeups = Executors.newFixedThreadPool(2, named("fluxmq-fetch-wakeup"));
        for (int i = 0; i < appends.length; i++) {
            appends[i] = Executors.newSingleThreadExecutor(named("fluxmq-append-" + i));
        }
        duties = Executors.newSingleThreadScheduledExecutor(named("fluxmq-duties"));
        TopicConfigs topicConfigs = new TopicConfigs(config,
                () -> BrokerConfigs.topicDefaults(raft.metadata().state()));
        metrics = new NodeMetrics(config.nodeId());
        raft = new RaftNode(config.raft());
        members = new Members(config, () -> raft.metadata().state());
        raft.setPeerTls(config.clusterTls());
        raft.setSnapshotSource(new HttpSnapshotSource(members, config.clusterTls()));
        raft.setCommitLatencyRecorder(metrics.commitLatency());
        http = new NodeHttpServer(config.httpHost(), config.httpPort(), config.clusterTls(), raft,
                () -> fenced != null ? fenced : readiness.notReady(), metrics);
        raft.start();
        if (config.multiRaft()) {
            engine = startEngine();
            // the replicas on disk rejoin their groups now, as Ratis' do: metadata may take a while to catch up, and
            // the reconciler opens or removes nothing before it has (their topic settings apply then too)
            foundOnDisk = engine.openFound(topicConfigs.segmentConfig(Map.of())).whenComplete((found, e) -> {
                if (e != null) {
                    LOGGER.warn("Node {} could not look for the partition replicas on its disk: {}", config.nodeId(),
                            e.toString());
                } else {
                    LOGGER.info("Node {} opens the {} partition replicas found on disk", config.nodeId(),
                            found.size());
                }
            });
        }
        List<RaftPeer> metadataMembers = new ArrayList<>();
        List<RaftPeer> voters = new ArrayList<>();
        for (ClusterMember m : config.members()) {
            boolean voter = config.controllerIds().contains(m.id());
            RaftPeer peer = RaftPeer.newBuilder().setId(RaftNode.peerId(m.id()))
                    .setAddress(m.host() + ":" + m.raftPort())
                    .setStartupRole(voter ? RaftPeerRole.FOLLOWER : RaftPeerRole.LISTENER).build();
            metadataMembers.add(peer);
            if (voter) {
                voters.add(peer);
            }
        }
        raft.openMetadata(metadataMembers);
        metadataClient = new MetadataClient(RaftGroup.valueOf(RaftNode.METADATA_GROUP, voters),
                raft.clientProperties(), raft.clientParameters());
        reconcilerThread = Executors.newSingleThreadScheduledExecutor(named("fluxmq-reconciler"));
        reconciler = new Reconciler(config.nodeId(),
                engine != null ? new EngineLocalPartitions(engine, foundOnDisk) : new RaftPartitions(raft),
                ids -> Reconciler.peers(members, ids),
                topicConfigs::segmentConfig,
                () -> metadataClient.submit(new MetadataCommand.Barrier()).thenApply(MetadataReply::value),
                raft.metadata()::awaitApplied, reconcilerThread, Reconciler.Delayer.of(reconcilerThread));
        raft.metadata().addListener(reconciler::onMetadata);
        reconciler.start();
        broker = new ClusterBroker(config, raft, engine, metadataClient, topicConfigs, admin, members);
        if (replicationThrottle != null) {
            raft.metadata().addListener(s -> applyReplicationThrottle());
            applyReplicationThrottle();
        }
        reassignmentThread = Executors.newSingleThreadScheduledExecutor(named("fluxmq-reassign"));
        GroupMembership groups = engine != null ? new EngineGroupMembership(engine)
                : new RatisGroupMembership(raft, ids -> Reconciler.peers(members, ids),
                        config.electionTimeoutMin().toMillis());
        ReassignmentDriver reassignments = new ReassignmentDriver(config.nodeId(), groups, raft.metadata()::state,
                metadataClient::submit, reassignmentThread);
        raft.metadata().addListener(reassignments::onMetadata);
        reassignments.start();
        startIsrPublisher();
        MetadataLeadership metadataLeadership = new MetadataLeadership(raft);
        metrics.bindReplicas(replicaGroups(), broker, raft.metadata()::state, () -> metadataLeadership.readyLeaderTerm() >= 0);
        raft.metadata().addListener(metrics::onMetadata);
        LeaderReports leaderReports = new LeaderReports(config.nodeId(), metadataClient::submit,
                Reconciler.Delayer.of(duties));
        java.util.function.BiConsumer<TopicPartition, Integer> leaderReady = (tp, term) -> {
            metrics.leaderElected();
            if (!raft.metadata().state().leader(tp).equals(Optional.of(new LeaderRecord(config.nodeId(), term)))) {
                // not the leader metadata named when it created the partition: report it, and its ISR soon (a new
                // partition's named leader has no ISR to publish unless a replica lags, which the periodic pass sees)
                leaderReports.report(tp, term);
                publishIsrSoon();
            }
            // a new leader that is not the preferred replica hands over as soon as that replica has caught up
            for (long delayMs : PREFER_LEADER_DELAYS_MS) {
                duties.schedule(() -> broker.preferLeader(tp), delayMs, TimeUnit.MILLISECONDS);
            }
        };
        raft.setLeaderReadyListener(leaderReady::accept);
        if (engine != null) {
            engine.setLeaderReadyListener(leaderReady);
        }
        startControlPlane();
        kafka = new KafkaFrontend(config.kafkaListeners(), registry(broker), metrics.frontend(),
                config.connectionLimits(), broker.scramCredentialLookup(), broker.quotas());
        kafka.start();
        readiness.listening();
        readiness.catchUp(() -> metadataClient.submit(new MetadataCommand.Barrier()).thenApply(MetadataReply::value),
                raft.metadata()::awaitApplied, duties);
        long retentionMs = config.retentionCheckInterval().toMillis();
        duties.scheduleWithFixedDelay(broker::enforceRetention, retentionMs, retentionMs, TimeUnit.MILLISECONDS);
        if (config.cleaner().enable()) {
            // one thread per node, like Kafka's log.cleaner.threads=1; its bytes/s budget bounds the disk it takes
            LogCleaner cleaner = new LogCleaner(CleanerThrottle.of(config.cleaner().ioMaxBytesPerSecond()),
                    config.cleaner().dedupeBufferBytes(), System::currentTimeMillis);
            cleanerThread = Executors.newSingleThreadScheduledExecutor(named("fluxmq-log-cleaner"));
            long backoffMs = config.cleaner().backoff().toMillis();
            cleanerThread.scheduleWithFixedDelay(() -> broker.compactLogs(cleaner), backoffMs, backoffMs,
                    TimeUnit.MILLISECONDS);
        }
        long balanceMs = config.leaderBalanceInterval().toMillis();
        duties.scheduleWithFixedDelay(broker::balanceLeaders, balanceMs, balanceMs, TimeUnit.MILLISECONDS);
        liveness.scheduleWithFixedDelay(this::checkRaftServer, WATCHDOG_INTERVAL_MS, WATCHDOG_INTERVAL_MS,
                TimeUnit.MILLISECONDS);
        LOGGER.info("FluxMQ node {} of cluster {} ready; bootstrap {}:{}", config.nodeId(), config.clusterId(),
                config.advertisedHost(), kafkaPort());
    }

    /**
     * Publishes the ISR of the partitions this node leads to cluster metadata ({@link IsrPublisher}): a pass every
     * quarter of the in-sync silence limit (1 s by default) and one soon after a leadership change.
     */
    private void startIsrPublisher() {
        long silenceMs = broker.inSyncSilenceMs();
        EnginePartitions partitions = engine;
        isrPublisher = new IsrPublisher(config.nodeId(),
                () -> partitions != null ? IsrPublisher.ledBy(partitions) : IsrPublisher.ledBy(raft, silenceMs),
                raft.metadata()::state, metadataClient::submit, raft.metadata()::awaitApplied,
                () -> System.nanoTime() / 1_000_000);
        isrThread = Executors.newSingleThreadScheduledExecutor(named("fluxmq-isr"));
        long intervalMs = Math.max(100, silenceMs / 4);
        isrThread.scheduleWithFixedDelay(this::publishIsr, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    private void publishIsrSoon() {
        if (isrPublisher.leadershipChanged()) {
            try {
                isrThread.schedule(this::publishIsr, ISR_AFTER_LEADER_CHANGE_MS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                // the node is closing
            }
        }
    }

    private void publishIsr() {
        try {
            isrPublisher.publish();
        } catch (RuntimeException e) {
            LOGGER.warn("Publishing the ISR failed", e);
        }
    }

    /**
     * The watchdog: a Raft server that closed while the node was not closing means the node is a zombie (its
     * partitions elect leaders elsewhere, its metadata goes stale, yet its listener and heartbeats would carry on).
     * Fence it and hand over to the {@code lost} handler, once.
     */
    private void checkRaftServer() {
        if (closing || fenced != null || !raft.serverClosed()) {
            return;
        }
        String reason = "Raft server closed underneath node " + config.nodeId() + " (Ratis closes it after a JVM pause"
                + " longer than raft.pause.close.threshold.ms=" + config.raftPauseCloseThreshold().toMillis()
                + "; see its log line before this one)";
        fenced = reason;
        LOGGER.error("{}: the node can no longer replicate or serve; fenced (/ready 503, no heartbeats) and stopping",
                reason);
        lost.accept(reason);
    }

    /** Why the node no longer serves although it runs (its Raft server closed underneath it), or null. */
    public String fenced() {
        return fenced;
    }

    /**
     * The gRPC control service, the controller's liveness check (acting only while this node is the metadata leader)
     * and this node's registration and heartbeats, each on its own thread so slow duties never delay a heartbeat.
     */
    private void startControlPlane() throws IOException {
        MetadataLeadership leadership = new MetadataLeadership(raft);
        NodeController.MetadataGroup metadataGroup = new NodeController.MetadataGroup() {
            @Override
            public CompletableFuture<Void> ensureMember(ClusterMember node) {
                return raft.metadataListeners().ensureMember(RaftPeer.newBuilder().setId(RaftNode.peerId(node.id()))
                        .setAddress(node.host() + ":" + node.raftPort()).build());
            }

            @Override
            public CompletableFuture<Void> removeListener(int nodeId) {
                return raft.metadataListeners().removeListener(RaftNode.peerId(nodeId));
            }
        };
        NodeController controller = new NodeController(config, members, metadataGroup, leadership,
                () -> raft.metadata().state(), metadataClient::submit, () -> System.nanoTime() / 1_000_000);
        controlChannels = new ControlChannels(id -> id == config.nodeId() && control != null
                ? config.member(id).host() + ":" + control.port() : members.member(id).controlAddress(),
                config.clusterTls());
        Decommissioner decommissioner = new Decommissioner(leadership, () -> raft.metadata().state(), members,
                metadataClient::submit, config.decommissionMaxMoves());
        reassignmentThread.scheduleWithFixedDelay(decommissioner::tick, DECOMMISSION_TICK_MS, DECOMMISSION_TICK_MS,
                TimeUnit.MILLISECONDS);
        LeaderTransfers transfers = new LeaderTransfers(config, raft, replicaGroups(), broker, controlChannels);
        broker.leaderTransfers(transfers);
        txnMarkers = new TxnMarkers(config.nodeId(), raft, broker, controlChannels, this::appendsOf);
        txnRouting = new TxnRouting(config.nodeId(), controlChannels);
        control = new ControlServer(config.controlHost(), config.controlPort(), config.clusterTls(),
                broker.authorization(), new ControlService(config.nodeId(), controller, leadership, controlChannels),
                new RaftControlService(config.nodeId(), raft, replicaGroups(), config.partitionEngine(), broker,
                        transfers, controlChannels, txnMarkers, txnRouting)).start();
        HeartbeatAgent agent = new HeartbeatAgent(config, System.currentTimeMillis(), version(), leadership::leaderId,
                controlChannels);
        heartbeatAgent = agent;
        liveness = Executors.newScheduledThreadPool(2, named("fluxmq-liveness"));
        long heartbeatMs = config.heartbeatInterval().toMillis();
        liveness.scheduleWithFixedDelay(() -> {
            if (fenced == null) {
                agent.beat();
            }
        }, 0, heartbeatMs, TimeUnit.MILLISECONDS);
        long checkMs = Math.max(10, Math.min(heartbeatMs, config.sessionTimeout().toMillis() / 10));
        liveness.scheduleWithFixedDelay(controller::checkLiveness, checkMs, checkMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Applies the effective {@code leader.replication.throttled.rate} (the dynamic broker config of this node, else the
     * default broker's, else the node setting) to the engine's throttle when it changed; runs on metadata changes.
     */
    private void applyReplicationThrottle() {
        ReplicationThrottle throttle = replicationThrottle;
        long rate = broker.leaderReplicationThrottledRate();
        if (throttle != null && rate != throttle.bytesPerSecond()) {
            throttle.rate(rate, engine.engine().nowMs());
            LOGGER.info("Replication throttle of node {} now {} bytes/s", config.nodeId(),
                    rate == Long.MAX_VALUE ? "unlimited" : Long.toString(rate));
        }
    }

    /** The FluxMQ version this build carries (version.properties, filled in by Maven). */
    static String version() {
        Properties p = new Properties();
        try (var in = FluxNode.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            LOGGER.debug("No version.properties: {}", e.toString());
        }
        return p.getProperty("version", "unknown");
    }

    /** The single-thread executor that submits a partition's appends (produce, group and transaction writes). */
    private java.util.concurrent.Executor appendsOf(org.apache.kafka.common.TopicPartition tp) {
        return appends[Math.floorMod(tp.hashCode(), appends.length)];
    }

    ApiRegistry registry(BrokerServices services) {
        AtomicReference<ApiRegistry> self = new AtomicReference<>();
        // one single-thread executor per partition for produce and group writes alike, so a partition's writes keep
        // their order
        java.util.function.Function<org.apache.kafka.common.TopicPartition, java.util.concurrent.Executor> appendsOf =
                this::appendsOf;
        TxnCoordinator transactions = new TxnCoordinator(services, config.transactions(), System::currentTimeMillis,
                appendsOf, txnMarkers);
        io.fluxmq.kafka.txn.TxnPartitions txnPartitions = transactions::addPartitions;
        if (txnRouting != null) {
            txnRouting.coordinator(transactions);
            txnPartitions = txnRouting;
        }
        List<ApiHandler<?>> handlers = List.of(
                new ApiVersionsHandler(self::get, config.transactions().transactionVersion()),
                new MetadataHandler(services, config.defaultPartitions(), config.defaultReplicationFactor()),
                new ProduceHandler(services, appendsOf, metrics.frontend(), txnPartitions),
                new FetchHandler(services,
                        new FetchSessionCache(config.fetchSessionSlots(), config.fetchSessionEvictionMs()), fetchWakeups,
                        metrics.frontend()),
                new ListOffsetsHandler(services),
                new OffsetForLeaderEpochHandler(services),
                new CreateTopicsHandler(services, config.defaultPartitions(), config.defaultReplicationFactor()),
                new DeleteTopicsHandler(services),
                new CreatePartitionsHandler(services),
                new InitProducerIdHandler(services, transactions),
                new DescribeClusterHandler(services),
                new DescribeConfigsHandler(services),
                new AlterConfigsHandler(services),
                new IncrementalAlterConfigsHandler(services),
                new DeleteRecordsHandler(services),
                new ElectLeadersHandler(services),
                new DescribeLogDirsHandler(services),
                new AlterPartitionReassignmentsHandler(services),
                new ListPartitionReassignmentsHandler(services),
                new SaslHandshakeHandler(),
                new SaslAuthenticateHandler(),
                new CreateAclsHandler(services),
                new DescribeAclsHandler(services),
                new DeleteAclsHandler(services),
                new AlterUserScramCredentialsHandler(services),
                new DescribeUserScramCredentialsHandler(services),
                new DescribeClientQuotasHandler(services),
                new AlterClientQuotasHandler(services));
        GroupCoordinator coordinator = new GroupCoordinator(services, config.groups(), System::currentTimeMillis,
                appendsOf);
        List<ApiHandler<?>> all = new java.util.ArrayList<>(handlers);
        all.addAll(GroupHandlers.of(coordinator, transactions));
        all.addAll(TxnHandlers.of(services, transactions, coordinator, txnPartitions));
        if (txnMarkers != null) {
            txnMarkers.onOffsetsMarker(coordinator::onTransactionMarker);
        }
        ApiRegistry registry = new ApiRegistry(all, List.of(coordinator, transactions), services.quotas());
        coordinator.start();
        transactions.start();
        self.set(registry);
        return registry;
    }

    /**
     * Reads {@code meta.properties} (node id, cluster id, partition engine), creating it on first start; refuses a
     * mismatch. A file written before it named the engine gets the engine whose partitions the data dir holds.
     */
    private void loadMeta() throws IOException {
        Path file = config.dataDir().resolve(META_FILE);
        Properties meta = new Properties();
        if (Files.exists(file)) {
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                meta.load(in);
            }
            int stored = Integer.parseInt(meta.getProperty("node.id"));
            if (stored != config.nodeId()) {
                throw new NodeConfig.ConfigException("data dir " + config.dataDir() + " belongs to node " + stored
                        + ", not node.id " + config.nodeId());
            }
            if (!config.clusterId().equals(meta.getProperty("cluster.id"))) {
                throw new NodeConfig.ConfigException("data dir " + config.dataDir() + " belongs to cluster "
                        + meta.getProperty("cluster.id") + ", not " + config.clusterId()
                        + " (cluster.nodes or cluster.id changed)");
            }
            String engine = meta.getProperty(NodeConfig.PARTITION_ENGINE);
            if (engine == null) {
                engine = engineOnDisk(config.dataDir());
            }
            if (engine != null && !engine.equals(config.partitionEngine())) {
                throw new NodeConfig.ConfigException("data dir " + config.dataDir() + " holds partitions of the "
                        + engine + " engine, not " + NodeConfig.PARTITION_ENGINE + "=" + config.partitionEngine()
                        + ": set " + NodeConfig.PARTITION_ENGINE + "=" + engine + " (the default is "
                        + NodeConfig.MULTIRAFT + " since 2026-12-03; a node's engine cannot change in place)");
            }
            if (meta.getProperty(NodeConfig.PARTITION_ENGINE) != null) {
                return;
            }
        }
        meta.setProperty("node.id", Integer.toString(config.nodeId()));
        meta.setProperty("cluster.id", config.clusterId());
        meta.setProperty(NodeConfig.PARTITION_ENGINE, config.partitionEngine());
        meta.setProperty("version", "1");
        DurableFiles.write(file, out -> {
            Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            meta.store(writer, "FluxMQ node identity");
            writer.flush();
        });
    }

    /**
     * The engine whose partition directories {@code dataDir} holds ({@code multiraft/} or Ratis' {@code topics/}),
     * or null when it holds none.
     */
    static String engineOnDisk(Path dataDir) throws IOException {
        if (holdsPartitions(dataDir.resolve("multiraft"))) {
            return NodeConfig.MULTIRAFT;
        }
        return holdsPartitions(dataDir.resolve("topics")) ? NodeConfig.RATIS : null;
    }

    private static boolean holdsPartitions(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var entries = Files.list(dir)) {
            return entries.anyMatch(e -> Files.isDirectory(e) && !e.getFileName().toString().startsWith("."));
        }
    }

    /** The multi-Raft partitions (tests' diagnostics), or null on Ratis. */
    EnginePartitions engine() {
        return engine;
    }

    public int kafkaPort() {
        return kafka.port();
    }

    /** The bound port of the Kafka listener named {@code listener} (the port it chose when configured with 0). */
    public int kafkaPort(String listener) {
        return kafka.port(listener);
    }

    public NodeConfig config() {
        return config;
    }

    @Override
    public void close() {
        closing = true;
        readiness.close();
        if (kafka != null) {
            kafka.close();
        }
        try {
            if (metadataClient != null) {
                metadataClient.close();
            }
        } catch (IOException e) {
            LOGGER.debug("Metadata client close: {}", e.toString());
        }
        if (liveness != null) {
            liveness.shutdownNow();
        }
        if (reconciler != null) {
            reconciler.close();
            reconcilerThread.shutdownNow();
        }
        if (reassignmentThread != null) {
            reassignmentThread.shutdownNow();
        }
        if (isrThread != null) {
            isrThread.shutdownNow();
        }
        if (control != null) {
            control.close();
        }
        if (controlChannels != null) {
            controlChannels.close();
        }
        if (duties != null) {
            duties.shutdownNow();
        }
        if (cleanerThread != null) {
            cleanerThread.shutdownNow(); // interrupts a throttled pass; a half-written clean is dropped on next open
            try {
                cleanerThread.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (http != null) {
            http.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        if (engine != null) {
            try {
                engine.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            if (raft != null) {
                raft.close();
            }
        } catch (IOException e) {
            LOGGER.warn("Raft server did not close cleanly: {}", e.toString());
        }
        if (admin != null) {
            admin.shutdownNow();
            fetchWakeups.shutdownNow();
            for (ExecutorService e : appends) {
                e.shutdownNow();
            }
        }
        LOGGER.info("FluxMQ node {} stopped", config.nodeId());
    }

    /** This node's partition groups for operators' tools, on the engine partitions run on. */
    private ReplicaGroups replicaGroups() {
        return engine != null ? ReplicaGroups.engine(engine) : ReplicaGroups.ratis(raft);
    }

    /**
     * The own multi-Raft for this node's partitions (docs/adr/0003): its transport on the Raft host at the Raft port +
     * {@value ClusterMember#ENGINE_PORT_OFFSET}, peers at theirs (from metadata registrations, else cluster.nodes),
     * one event loop per core, data in {@code <data.dir>/multiraft}.
     */
    private EnginePartitions startEngine() throws IOException {
        long electionMs = config.electionTimeoutMin().toMillis();
        long heartbeatMs = Math.max(10, Math.min(100, electionMs / 4));
        EnginePartitions.Settings settings = new EnginePartitions.Settings(config.nodeId(), config.clusterId(),
                config.dataDir().resolve("multiraft"),
                new InetSocketAddress(config.raftHost(), NodeConfig.enginePort(config.member(config.nodeId()))),
                Runtime.getRuntime().availableProcessors(), electionMs, heartbeatMs, heartbeatMs, 4 * heartbeatMs,
                config.maxMessageBytes(), config.producerIdExpirationMs(),
                2 * config.electionTimeoutMax().toMillis(), // as ClusterBroker's in-sync silence for Ratis
                config.clusterTls(), config.raftWalSegmentBytes());
        EnginePartitions created = new EnginePartitions(settings, id -> {
            ClusterMember m = members.member(id);
            return m == null ? null : new InetSocketAddress(m.host(), NodeConfig.enginePort(m));
        });
        created.setCommitLatencyRecorder(metrics.commitLatency());
        EnginePartitions started = created.start();
        // one throttle for every group, its rate changed in place by leader.replication.throttled.rate
        replicationThrottle = new ReplicationThrottle(config.leaderReplicationThrottledRate(),
                started.engine().nowMs());
        started.engine().replicationThrottle(replicationThrottle);
        LOGGER.info("Partitions of node {} run on the multi-Raft engine, transport on {}", config.nodeId(),
                started.address());
        return started;
    }

    private static java.util.concurrent.ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
