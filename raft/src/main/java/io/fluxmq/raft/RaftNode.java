package io.fluxmq.raft;

import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raft.metadata.MetadataStateMachine;
import io.fluxmq.raft.partition.PartitionReplica;
import io.fluxmq.raft.partition.PartitionStateMachine;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.ratis.RaftConfigKeys;
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
    private final MetadataStateMachine metadata = new MetadataStateMachine();
    private volatile java.util.function.BiConsumer<TopicPartition, Integer> leaderReadyListener = (tp, term) -> { };
    private volatile io.fluxmq.raft.partition.SnapshotSource snapshotSource = io.fluxmq.raft.partition.SnapshotSource.NONE;
    private RaftServer server;
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
        java.nio.file.Files.createDirectories(specDir());
        Path tmp = specDir().resolve(id.getUuid() + ".properties.tmp");
        try (var out = java.nio.file.Files.newBufferedWriter(tmp)) {
            p.store(out, "FluxMQ partition group");
        }
        java.nio.file.Files.move(tmp, specDir().resolve(id.getUuid() + ".properties"),
                java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private void loadSpecs() throws IOException {
        if (!java.nio.file.Files.isDirectory(specDir())) {
            return;
        }
        try (var files = java.nio.file.Files.list(specDir())) {
            for (Path f : files.filter(x -> x.toString().endsWith(".properties")).toList()) {
                java.util.Properties p = new java.util.Properties();
                try (var in = java.nio.file.Files.newBufferedReader(f)) {
                    p.load(in);
                }
                register(new PartitionSpec(new TopicPartition(p.getProperty("topic"),
                        Integer.parseInt(p.getProperty("partition"))), Uuid.fromString(p.getProperty("topic.id")),
                        new SegmentLogConfig(Integer.parseInt(p.getProperty("segment.bytes")),
                                Long.parseLong(p.getProperty("segment.ms")),
                                Integer.parseInt(p.getProperty("index.interval.bytes")),
                                Integer.parseInt(p.getProperty("index.max.bytes")))));
            }
        }
    }

    public void start() throws IOException {
        loadSpecs();
        server = RaftServer.newBuilder()
                .setServerId(self.getId())
                .setProperties(properties())
                .setStateMachineRegistry(this::newStateMachine)
                .setOption(RaftStorage.StartupOption.RECOVER)
                .build();
        server.start();
        for (RaftGroupId id : server.getGroupIds()) {
            if (id.equals(METADATA_GROUP)) {
                continue;
            }
            PartitionSpec spec = specs.get(id);
            if (spec == null) {
                LOGGER.warn("Raft group {} on disk belongs to no known partition; removing it", id);
                removeGroup(id);
            } else {
                replicas.put(spec.topicPartition(), replica(spec, id));
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
                snapshotSource);
        stateMachines.put(id, sm);
        return sm;
    }

    private PartitionReplica replica(PartitionSpec spec, RaftGroupId id) {
        return new PartitionReplica(spec.topicPartition(), id, server, stateMachines.get(id), config.maxBatchBytes());
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

    /** Opens a partition whose only voter is this node. */
    public PartitionReplica openLocalPartition(PartitionSpec spec) throws IOException {
        return openPartition(spec, List.of(self));
    }

    /** The partitions this node currently hosts. */
    public java.util.Set<TopicPartition> localPartitions() {
        return java.util.Set.copyOf(replicas.keySet());
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

    /** Removes a partition's group and deletes its Raft storage and segments. */
    public void removePartition(TopicPartition tp, Uuid topicId) throws IOException {
        replicas.remove(tp);
        RaftGroupId id = groupId(topicId, tp.partition());
        removeGroup(id);
        specs.remove(id);
        stateMachines.remove(id);
        deleteRecursively(segmentDir(tp));
        java.nio.file.Files.deleteIfExists(specDir().resolve(id.getUuid() + ".properties"));
    }

    private void removeGroup(RaftGroupId id) throws IOException {
        RaftClientReply reply = server.groupManagement(GroupManagementRequest.newRemove(
                adminClientId, self.getId(), callIds.incrementAndGet(), id, true, false));
        if (!reply.isSuccess()) {
            throw new IOException("cannot remove Raft group " + id, reply.getException());
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        try (var paths = java.nio.file.Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(p);
            }
        }
    }

    /** Where followers fetch snapshots and batches the leader purged from its Raft log; set before start. */
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

    /** Raft properties shared by the server and clients of this node. */
    public RaftProperties clientProperties() {
        return properties();
    }

    public PartitionReplica replica(TopicPartition tp) {
        return replicas.get(tp);
    }

    public RaftServer server() {
        return server;
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
        // Purge only what every follower already has: the Raft log holds entry headers only (the batches live in the
        // segments), so keeping it for a lagging follower is cheap, and that follower then catches up by log replay,
        // reading the batches from the leader's segments, instead of needing a snapshot transfer.
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, config.purgeUptoSnapshot());
        // Ratis' Netty log appender only knows chunked snapshot transfer; the partition snapshot file is small, and
        // the follower copies the segments behind it from the leader when it reloads (see PartitionStateMachine).
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(Integer.MAX_VALUE, config.snapshotEveryEntries()));
        // Not "sync": Ratis then starts the segment flush (on flushPool), fsyncs its own log meanwhile and waits for both
        // before it counts an entry as written. write() itself completes at once, so nothing else changes.
        RaftServerConfigKeys.Log.StateMachineData.setSync(p, false);
        RaftServerConfigKeys.Write.setByteLimit(p, SizeInBytes.valueOf("256MB"));
        RaftServerConfigKeys.Write.setElementLimit(p, 16384);
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotEveryEntries());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
        RaftServerConfigKeys.RetryCache.setExpiryTime(p, TimeDuration.valueOf(10, java.util.concurrent.TimeUnit.SECONDS));
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
