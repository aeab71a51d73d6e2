package io.fluxmq.raft;

import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raft.metadata.MetadataGroupListeners;
import io.fluxmq.raft.metadata.MetadataStateMachine;
import io.fluxmq.raft.partition.PartitionMembership;
import io.fluxmq.raft.partition.PartitionReplica;
import io.fluxmq.raft.partition.PartitionStateMachine;
import io.fluxmq.raft.rpc.FluxRpcFactory;
import io.fluxmq.raft.rpc.PeerDownNotifier;
import io.fluxmq.raft.storage.DurableFiles;
import io.fluxmq.raft.tls.PeerTls;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's single Ratis {@link RaftServer} (Netty transport), hosting one Raft group per partition replica.
 *
 * <p>Partitions must be {@linkplain #register registered} before {@link #start()} so that groups found on disk at
 * start-up ({@code RECOVER}) get their state machine; new partitions are added with {@link #openPartition}.
 * Thread-safe.
 */
public final class RaftNode implements Closeable {
    private static final Logger LOGGER = LoggerFactory.getLogger(RaftNode.class);

    private final RaftNodeConfig config;
    private final RaftPeer self;
    private final Map<RaftGroupId, PartitionSpec> specs = new ConcurrentHashMap<>();
    private final Map<RaftGroupId, PartitionStateMachine> stateMachines = new ConcurrentHashMap<>();
    private final Map<TopicPartition, PartitionReplica> replicas = new ConcurrentHashMap<>();
    private final ClientId adminClientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private volatile PeerTls peerTls;
    private final MetadataStateMachine metadata = new MetadataStateMachine();
    private volatile java.util.function.BiConsumer<TopicPartition, Integer> leaderReadyListener = (tp, term) -> { };
    private volatile io.fluxmq.raft.partition.SnapshotSource snapshotSource = io.fluxmq.raft.partition.SnapshotSource.NONE;
    private volatile RaftServer server;
    /** Where every partition replica reports its commit latencies (see {@link #setCommitLatencyRecorder}). */
    private volatile LongConsumer commitLatency = nanos -> { };
    /** Segment fsyncs of every partition (see {@link PartitionStateMachine#flush}). */
    private final java.util.concurrent.ExecutorService flushPool = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fluxmq-segment-flush");
        t.setDaemon(true);
        return t;
    });

    /** The Raft group holding cluster metadata. */
    public static final RaftGroupId METADATA_GROUP = RaftGroupId.valueOf(
            UUID.nameUUIDFromBytes("fluxmq-cluster-metadata".getBytes(StandardCharsets.UTF_8)));

    /** What this node knows of a partition before its group exists. */
    public record PartitionSpec(TopicPartition topicPartition, Uuid topicId, SegmentLogConfig segment) {}

    public RaftNode(RaftNodeConfig config) {
        this.config = config;
        this.self = RaftPeer.newBuilder().setId(peerId(config.nodeId()))
                .setAddress(config.raftHost() + ":" + config.raftPort()).build();
    }

    public static RaftPeerId peerId(int nodeId) {
        return RaftPeerId.valueOf("n" + nodeId);
    }

    /** The Raft group id of a partition: a name-based UUID of topic id and partition index. */
    public static RaftGroupId groupId(Uuid topicId, int partition) {
        byte[] name = (topicId + "/" + partition).getBytes(StandardCharsets.UTF_8);
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(name));
    }

    public void register(PartitionSpec spec) {
        specs.put(groupId(spec.topicId(), spec.topicPartition().partition()), spec);
    }

    private Path specDir() {
        return config.dataDir().resolve("raft-partitions");
    }

    /**
     * Remembers which partition a group hosts, so the group reopens with its state machine at the next start before
     * cluster metadata is available. File {@code raft-partitions/<group-uuid>.properties}: topic, partition,
     * topic.id, segment.bytes, segment.ms, index.interval.bytes, index.max.bytes.
     */
    private void persistSpec(RaftGroupId id, PartitionSpec spec) throws IOException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("topic", spec.topicPartition().topic());
        p.setProperty("partition", Integer.toString(spec.topicPartition().partition()));
        p.setProperty("topic.id", spec.topicId().toString());
        p.setProperty("segment.bytes", Integer.toString(spec.segment().segmentBytes()));
        p.setProperty("segment.ms", Long.toString(spec.segment().segmentMs()));
        p.setProperty("index.interval.bytes", Integer.toString(spec.segment().indexIntervalBytes()));
        p.setProperty("index.max.bytes", Integer.toString(spec.segment().maxIndexBytes()));
        DurableFiles.write(specFile(id), out -> p.store(out, "FluxMQ partition group"));
    }

    private Path specFile(RaftGroupId id) {
        return specDir().resolve(id.getUuid() + ".properties");
    }

    /** Reads every spec; one that cannot be read stops the start with an error naming the file. */
    private void loadSpecs() throws IOException {
        if (!Files.isDirectory(specDir())) {
            return;
        }
        try (var files = Files.list(specDir())) {
            for (Path f : files.filter(x -> x.toString().endsWith(".properties")).toList()) {
                register(readSpec(f));
            }
        }
    }

    static PartitionSpec readSpec(Path file) throws IOException {
        java.util.Properties p = new java.util.Properties();
        try (var in = Files.newBufferedReader(file)) {
            p.load(in);
            return new PartitionSpec(new TopicPartition(required(p, "topic"),
                    Integer.parseInt(required(p, "partition"))), Uuid.fromString(required(p, "topic.id")),
                    new SegmentLogConfig(Integer.parseInt(required(p, "segment.bytes")),
                            Long.parseLong(required(p, "segment.ms")),
                            Integer.parseInt(required(p, "index.interval.bytes")),
                            Integer.parseInt(required(p, "index.max.bytes"))));
        } catch (IOException | RuntimeException e) {
            throw new IOException("Partition spec file " + file + " is unreadable (" + e.getMessage() + "); it names"
                    + " the partition of the Raft group with the same UUID. Restore it (another replica of the"
                    + " partition holds the same file in its raft-partitions directory) before starting the node", e);
        }
    }

    private static String required(java.util.Properties p, String key) {
        String value = p.getProperty(key);
        if (value == null) {
            throw new IllegalArgumentException("missing key " + key);
        }
        return value;
    }

    /**
     * Every partition Raft group directory must have its spec: without it the group would run with no state machine.
     * A missing spec stops the start (nothing is deleted): it can only come from files lost or removed by hand.
     */
    private void checkGroupsHaveSpecs() throws IOException {
        Path raftDir = config.dataDir().resolve("raft");
        if (!Files.isDirectory(raftDir)) {
            return;
        }
        try (var dirs = Files.list(raftDir)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                UUID uuid;
                try {
                    uuid = UUID.fromString(dir.getFileName().toString());
                } catch (IllegalArgumentException e) {
                    continue; // not a group directory
                }
                RaftGroupId id = RaftGroupId.valueOf(uuid);
                if (!id.equals(METADATA_GROUP) && !specs.containsKey(id)) {
                    throw new IOException("Raft group directory " + dir + " has no partition spec file "
                            + specFile(id) + "; restore it (another replica of the partition has the same file) or"
                            + " move the group directory away before starting the node");
                }
            }
        }
    }

    public void start() throws IOException {
        emptyTrash();
        loadSpecs();
        checkGroupsHaveSpecs();
        server = RaftServer.newBuilder()
                .setServerId(self.getId())
                .setProperties(properties())
                .setParameters(FluxRpcFactory.parameters(peerTls))
                .setStateMachineRegistry(this::newStateMachine)
                .setOption(RaftStorage.StartupOption.RECOVER)
                .build();
        server.start();
        if (server.getServerRpc() instanceof PeerDownNotifier notifier) {
            DeadLeaderElections elections = new DeadLeaderElections(server, notifier);
            notifier.onPeerDown(elections::peerDown);
        }
        for (RaftGroupId id : server.getGroupIds()) {
            PartitionSpec spec = specs.get(id);
            if (spec != null) {
                replicas.put(spec.topicPartition(), replica(spec, id));
                stateMachines.get(id).checkAgainstRaftLog(server.getDivision(id).getRaftLog());
            }
        }
        LOGGER.info("Raft server {} listening on {} with {} partition groups", self.getId(), self.getAddress(),
                replicas.size());
    }

    private StateMachine newStateMachine(RaftGroupId id) {
        if (id.equals(METADATA_GROUP)) {
            return metadata;
        }
        PartitionSpec spec = specs.get(id);
        if (spec == null) {
            return new BaseStateMachine();
        }
        PartitionStateMachine sm = new PartitionStateMachine(spec.topicPartition(), segmentDir(spec.topicPartition()),
                spec.segment(), config.fsync(), flushPool, term -> leaderReadyListener.accept(spec.topicPartition(), term),
                snapshotSource, config.producerIdExpirationMs());
        stateMachines.put(id, sm);
        return sm;
    }

    private PartitionReplica replica(PartitionSpec spec, RaftGroupId id) {
        PartitionReplica replica = new PartitionReplica(spec.topicPartition(), id, server, stateMachines.get(id),
                config.maxBatchBytes(), config.appendMaxInFlight());
        replica.setCommitLatencyRecorder(commitLatency);
        return replica;
    }

    /**
     * Receives, for every Raft entry a partition led here commits, the nanoseconds from its Raft submission to its
     * commit and apply on this node (metrics); set before {@link #start()}.
     */
    public void setCommitLatencyRecorder(LongConsumer nanos) {
        this.commitLatency = nanos;
    }

    public Path segmentDir(TopicPartition tp) {
        return config.dataDir().resolve("topics").resolve(tp.topic() + "-" + tp.partition());
    }

    /** Creates (or reopens) the Raft group of a partition with the given member nodes. */
    public PartitionReplica openPartition(PartitionSpec spec, Collection<RaftPeer> members) throws IOException {
        PartitionReplica existing = replicas.get(spec.topicPartition());
        if (existing != null) {
            return existing;
        }
        register(spec);
        RaftGroupId id = groupId(spec.topicId(), spec.topicPartition().partition());
        persistSpec(id, spec);
        RaftGroup group = RaftGroup.valueOf(id, members);
        RaftClientReply reply = server.groupManagement(
                GroupManagementRequest.newAdd(adminClientId, self.getId(), callIds.incrementAndGet(), group));
        if (!reply.isSuccess()) {
            throw new IOException("cannot create Raft group for " + spec.topicPartition(), reply.getException());
        }
        PartitionReplica replica = replica(spec, id);
        replicas.put(spec.topicPartition(), replica);
        return replica;
    }

    /**
     * Applies a changed segment configuration (a topic config changed at runtime) to a hosted partition: its spec file,
     * so the next start opens the log with it, and its open log (see {@link io.fluxmq.raft.log.SegmentLog#configure}).
     * Does nothing when the partition is not hosted here or nothing changed.
     */
    public void reconfigure(PartitionSpec spec) throws IOException {
        RaftGroupId id = groupId(spec.topicId(), spec.topicPartition().partition());
        PartitionSpec known = specs.get(id);
        if (known == null || known.equals(spec)) {
            return;
        }
        persistSpec(id, spec);
        specs.put(id, spec);
        PartitionStateMachine sm = stateMachines.get(id);
        if (sm != null && sm.log() != null) {
            sm.log().configure(spec.segment());
        }
    }

    /** Opens a partition whose only voter is this node. */
    public PartitionReplica openLocalPartition(PartitionSpec spec) throws IOException {
        return openPartition(spec, List.of(self));
    }

    /** The partitions whose Raft group is open on this node. */
    public java.util.Set<TopicPartition> localPartitions() {
        return java.util.Set.copyOf(replicas.keySet());
    }

    /** The partitions with a spec on this node: open ones, and any whose group a crash left uncreated or removed. */
    public java.util.Set<TopicPartition> hostedPartitions() {
        java.util.Set<TopicPartition> hosted = new java.util.HashSet<>(replicas.keySet());
        specs.values().forEach(spec -> hosted.add(spec.topicPartition()));
        return hosted;
    }

    /** The topic id of a hosted partition, or null. */
    public Uuid topicIdOf(TopicPartition tp) {
        for (PartitionSpec spec : specs.values()) {
            if (spec.topicPartition().equals(tp)) {
                return spec.topicId();
            }
        }
        return null;
    }

    /**
     * Removes a partition whose deletion cluster metadata committed. Its Raft group is closed, then the group
     * directory, the segments and the spec are each renamed into {@code trash/} (durably, in that order, so a crash in
     * between leaves a spec that the next reconciliation removes again, never a group without its spec), and the trash
     * is emptied.
     */
    public void removePartition(TopicPartition tp, Uuid topicId) throws IOException {
        RaftGroupId id = groupId(topicId, tp.partition());
        replicas.remove(tp);
        if (hasGroup(id)) {
            RaftClientReply reply = server.groupManagement(GroupManagementRequest.newRemove(
                    adminClientId, self.getId(), callIds.incrementAndGet(), id, false, false));
            if (!reply.isSuccess()) {
                throw new IOException("cannot remove Raft group " + id, reply.getException());
            }
        }
        stateMachines.remove(id);
        String aside = id.getUuid() + "-" + System.currentTimeMillis();
        moveToTrash(config.dataDir().resolve("raft").resolve(id.getUuid().toString()), aside + ".raft");
        moveToTrash(segmentDir(tp), aside + "." + tp.topic() + "-" + tp.partition());
        moveToTrash(specFile(id), aside + ".properties");
        specs.remove(id);
        emptyTrash();
    }

    private boolean hasGroup(RaftGroupId id) {
        for (RaftGroupId open : server.getGroupIds()) {
            if (open.equals(id)) {
                return true;
            }
        }
        return false;
    }

    private Path trashDir() {
        return config.dataDir().resolve("trash");
    }

    private void moveToTrash(Path path, String name) throws IOException {
        if (Files.exists(path)) {
            DurableFiles.move(path, trashDir().resolve(name));
        }
    }

    /** Deletes what removals renamed aside (committed deletions; a crash may have left some). */
    private void emptyTrash() throws IOException {
        if (!Files.isDirectory(trashDir())) {
            return;
        }
        try (var entries = Files.list(trashDir())) {
            for (Path p : entries.toList()) {
                io.fluxmq.raft.storage.DurableFiles.deleteTree(p);
            }
        }
    }

    /** Where followers fetch snapshots and batches the leader purged from its Raft log; set before start. */
    /**
     * Mutual TLS for every Raft connection of this node, server and clients (null, the default: plaintext). Set
     * before {@link #start()}.
     */
    public void setPeerTls(PeerTls tls) {
        this.peerTls = tls;
    }

    /** Parameters for Ratis' clients of this node's groups ({@code RaftClient.Builder.setParameters}): the TLS. */
    public Parameters clientParameters() {
        return FluxRpcFactory.parameters(peerTls);
    }

    public void setSnapshotSource(io.fluxmq.raft.partition.SnapshotSource source) {
        this.snapshotSource = source;
    }

    /** The state machine of a hosted partition, or null. */
    public PartitionStateMachine stateMachine(TopicPartition tp) {
        for (Map.Entry<RaftGroupId, PartitionSpec> e : specs.entrySet()) {
            if (e.getValue().topicPartition().equals(tp)) {
                return stateMachines.get(e.getKey());
            }
        }
        return null;
    }

    /** Called with (partition, term) whenever this node becomes the ready leader of a partition group. */
    public void setLeaderReadyListener(java.util.function.BiConsumer<TopicPartition, Integer> listener) {
        this.leaderReadyListener = listener;
    }

    /** The metadata state machine (the local copy of cluster metadata once the group is open). */
    public MetadataStateMachine metadata() {
        return metadata;
    }

    /** Opens the metadata group with the given members unless it was recovered from disk. */
    public void openMetadata(Collection<RaftPeer> voters) throws IOException {
        for (RaftGroupId id : server.getGroupIds()) {
            if (id.equals(METADATA_GROUP)) {
                return;
            }
        }
        RaftClientReply reply = server.groupManagement(GroupManagementRequest.newAdd(adminClientId, self.getId(),
                callIds.incrementAndGet(), RaftGroup.valueOf(METADATA_GROUP, voters)));
        if (!reply.isSuccess()) {
            throw new IOException("cannot create the metadata group", reply.getException());
        }
    }

    /** Adds joining nodes to the metadata group as listeners (acts on the group's leader only). */
    public MetadataGroupListeners metadataListeners() {
        return new MetadataGroupListeners(server, METADATA_GROUP);
    }

    /** Raft properties shared by the server and clients of this node. */
    public RaftProperties clientProperties() {
        return properties();
    }

    public PartitionReplica replica(TopicPartition tp) {
        return replicas.get(tp);
    }

    /**
     * Whether node {@code nodeId}'s process was found gone by the Raft transport and has not come back: groups it led
     * still name it their leader until they elect another, which clients should not be sent to.
     */
    public boolean peerGone(int nodeId) {
        return server != null && server.getServerRpc() instanceof PeerDownNotifier n && n.isGone(peerId(nodeId));
    }

    /** The Raft group members of a partition open on this node, or null. */
    public PartitionMembership membership(TopicPartition tp) {
        PartitionReplica replica = replicas.get(tp);
        return replica == null ? null : new PartitionMembership(server, replica.groupId());
    }

    public RaftServer server() {
        return server;
    }

    /**
     * Whether the started Raft server is closing or closed. Besides {@link #close()}, Ratis closes it by itself after
     * a JVM pause longer than {@link RaftNodeConfig#pauseCloseThreshold()}; it cannot be started again, so the node
     * then replicates and serves nothing and must stop.
     */
    public boolean serverClosed() {
        RaftServer s = server;
        return s != null && s.getLifeCycleState().isClosingOrClosed();
    }

    private RaftProperties properties() {
        RaftProperties p = new RaftProperties();
        // Ratis' Netty wire format, but served by our transport (see RaftTransport for why not Ratis' Netty server)
        RaftConfigKeys.Rpc.setType(p, new io.fluxmq.raft.rpc.FluxRpcType());
        NettyConfigKeys.Server.setHost(p, config.raftHost());
        NettyConfigKeys.Server.setPort(p, config.raftPort());
        RaftServerConfigKeys.setStorageDir(p, List.of(config.dataDir().resolve("raft").toFile()));
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, duration(config.electionTimeoutMin()));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, duration(config.electionTimeoutMax()));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, duration(config.electionTimeoutMin().dividedBy(4)));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, duration(config.electionTimeoutMin().dividedBy(2)));
        // Record bytes live in the segment log; the Raft log carries only entry headers, but the write buffer must
        // still hold the largest entry as Ratis sizes it (header + batch).
        long appenderBytes = config.maxBatchBytes() + 64 * 1024L;
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(appenderBytes));
        RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(appenderBytes + 64 * 1024L));
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(config.raftLogSegmentBytes()));
        RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(
                Math.min(1L << 20, config.raftLogSegmentBytes())));
        RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
        RaftServerConfigKeys.Log.setSegmentCacheSizeMax(p, SizeInBytes.valueOf("16MB"));
        // Purge up to the latest snapshot (default): a follower down for long neither pins the leader's Raft log nor,
        // once retention moved the log start past what it has, asks for batches that are gone; it installs a snapshot
        // and copies the segments it lacks from the leader instead (docs/architecture.md, Catch-up).
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, config.purgeUptoSnapshot());
        // Ratis' Netty log appender only knows chunked snapshot transfer; the partition snapshot file is small, and
        // the follower copies the segments behind it from the leader when it reloads (see PartitionStateMachine).
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(Integer.MAX_VALUE, config.snapshotEveryEntries()));
        // "sync": Ratis waits for the segment flush (on flushPool) before it writes the entry headers of that flush to its
        // log file and fsyncs it, so a header never reaches the disk before its batch, and a power cut cannot leave a
        // Raft entry whose batch is gone (docs/architecture.md, Durability). write() itself completes at once.
        RaftServerConfigKeys.Log.StateMachineData.setSync(p, true);
        // No log-metadata entries: with them on (Ratis' default) the leader appends, replicates and fsyncs one more
        // entry holding the commit index after every commit advance, only so that a restarted replica can apply up to
        // it before it hears from a leader. Committed entries are durable on a majority either way, and a replica
        // learns the commit index from the leader's next append or heartbeat (docs/architecture.md, Durability).
        RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
        RaftServerConfigKeys.Write.setByteLimit(p, SizeInBytes.valueOf("256MB"));
        RaftServerConfigKeys.Write.setElementLimit(p, config.writeElementLimit());
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotEveryEntries());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
        RaftServerConfigKeys.RetryCache.setExpiryTime(p, TimeDuration.valueOf(10, java.util.concurrent.TimeUnit.SECONDS));
        // Experimental, off by default (ADR 3): -Dfluxmq.raft.appender.pipelined=true
        p.setBoolean(FluxRpcFactory.PIPELINED_APPENDER_KEY, Boolean.parseBoolean(System.getProperty(
                FluxRpcFactory.PIPELINED_APPENDER_KEY, Boolean.toString(FluxRpcFactory.PIPELINED_APPENDER_DEFAULT))));
        // Ratis' JVM pause monitor closes the whole server after a pause longer than this; serverClosed() tells
        RaftServerConfigKeys.setCloseThreshold(p, duration(config.pauseCloseThreshold()));
        return p;
    }

    private static TimeDuration duration(java.time.Duration d) {
        return TimeDuration.valueOf(d.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws IOException {
        if (server != null) {
            server.close();
        }
        flushPool.shutdown();
    }
}
