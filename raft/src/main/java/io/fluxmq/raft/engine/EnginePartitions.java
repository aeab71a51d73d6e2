package io.fluxmq.raft.engine;

import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.engine.EngineConfig;
import io.fluxmq.raftcore.engine.RaftEngine;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's partition replicas on FluxMQ's own multi-Raft (docs/adr/0003): one {@link RaftEngine} (a fixed number of
 * event loops for every group), one {@link NettyTransport} (one connection per peer node, its address asked of the
 * caller, so it can come from cluster metadata), one hard-state file for every group's term and vote, and one
 * {@link EnginePartition} per hosted partition over its segment log in {@code <dataDir>/<topic>-<partition>}. A peer's
 * restart seen by the transport is passed to the engine; a group that fails (its storage broke) is taken offline
 * alone. What the node still has to do to serve Kafka clients from it: see raft/README.md. Thread-safe.
 */
public final class EnginePartitions implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(EnginePartitions.class);
    static final String HARD_STATE_FILE = "raft-hard-state";
    /** The topic id a partition directory belongs to. */
    static final String TOPIC_ID_FILE = "partition.metadata";
    /** Directories being removed (renamed here durably first, then deleted). */
    static final String TRASH_DIR = ".trash";

    /**
     * @param eventLoops       threads running every group's Raft (the node's cores)
     * @param electionTimeoutMs a group's election timeout (a node's failure is found by its detector first)
     * @param heartbeatMs      a leader's heartbeat interval while a group is not quiet
     * @param nodeHeartbeatMs  how often a node tells its peers it is alive
     * @param nodeTimeoutMs    silence after which a peer node counts as down and the groups it led elect
     * @param replicaLagMs     how long a follower may lack committed entries and still count as in sync
     *                         (Kafka's {@code replica.lag.time.max.ms})
     */
    public record Settings(int nodeId, String clusterId, Path dataDir, InetSocketAddress bindAddress, int eventLoops,
                           long electionTimeoutMs, long heartbeatMs, long nodeHeartbeatMs, long nodeTimeoutMs,
                           int maxBatchBytes, long producerIdExpirationMs, long replicaLagMs) {
    }

    /** How often the leaders' in-sync sets are read from the engine. */
    static final long IN_SYNC_REFRESH_MS = 250;

    private record Hosted(EnginePartition partition, SegmentRaftLog log, Uuid topicId) {
    }

    private final Settings settings;
    private final HardStateFile hardStates;
    private final FileGroupStorage storage;
    /** Forces the logs of one loop pass side by side (msync waits on the disk, not the CPU). */
    private final java.util.concurrent.ExecutorService forces;
    static final int FORCE_THREADS = 4;
    private final NettyTransport transport;
    private final RaftEngine engine;
    private final Map<TopicPartition, Hosted> partitions = new ConcurrentHashMap<>();
    private final Map<Long, TopicPartition> byGroup = new ConcurrentHashMap<>();
    private volatile java.util.function.BiConsumer<TopicPartition, Integer> leaderReadyListener = (tp, term) -> { };
    private final java.util.concurrent.ScheduledExecutorService refresher =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "raft-in-sync");
            t.setDaemon(true);
            return t;
        });

    public EnginePartitions(Settings settings, IntFunction<InetSocketAddress> peerAddress) throws IOException {
        this.settings = settings;
        Files.createDirectories(settings.dataDir());
        io.fluxmq.raft.storage.DurableFiles.deleteTree(settings.dataDir().resolve(TRASH_DIR)); // a crash's leftovers
        this.hardStates = HardStateFile.open(settings.dataDir().resolve(HARD_STATE_FILE));
        this.forces = java.util.concurrent.Executors.newFixedThreadPool(FORCE_THREADS, new java.util.concurrent.ThreadFactory() {
            private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();

            @Override
            public Thread newThread(Runnable r) {
                Thread t = new Thread(r, "raft-force-" + settings.nodeId() + "-" + next.getAndIncrement());
                t.setDaemon(true);
                return t;
            }
        });
        this.storage = new FileGroupStorage(hardStates, forces);
        RaftEngine[] self = new RaftEngine[1];
        this.transport = new NettyTransport(NettyTransportConfig.of(settings.nodeId(), settings.clusterId(),
            settings.bindAddress()), peerAddress, peer -> {
                if (self[0] != null) {
                    self[0].peerRestarted(peer);
                }
            });
        this.engine = new RaftEngine(new EngineConfig(settings.nodeId(), settings.eventLoops(),
            settings.nodeHeartbeatMs(), settings.nodeTimeoutMs()), transport, storage, this::groupFailed);
        self[0] = engine;
    }

    /** Starts the engine's loops and listens for peers. */
    public EnginePartitions start() {
        engine.start();
        transport.start(engine::receive);
        refresher.scheduleWithFixedDelay(this::refreshInSync, IN_SYNC_REFRESH_MS, IN_SYNC_REFRESH_MS,
            java.util.concurrent.TimeUnit.MILLISECONDS);
        return this;
    }

    /** Where peers reach this node's Raft transport (the bound port when the configured one was 0). */
    public InetSocketAddress address() {
        return transport.localAddress();
    }

    public RaftEngine engine() {
        return engine;
    }

    public TransportStats transportStats() {
        return transport.stats();
    }

    /**
     * The group id of a partition, the same on every node: 64 bits of the topic id and the partition index mixed
     * (a collision on this node is refused by {@link #open}).
     */
    public static long groupIdOf(Uuid topicId, int partition) {
        long h = topicId.getMostSignificantBits() * 0x9E3779B97F4A7C15L ^ topicId.getLeastSignificantBits();
        h ^= (h >>> 31) ^ ((long) partition * 0xC2B2AE3D27D4EB4FL);
        h *= 0xBF58476D1CE4E5B9L;
        return h ^ (h >>> 29);
    }

    /** As {@link #open(TopicPartition, Uuid, SegmentLogConfig, Set, int)} with no preferred leader. */
    public CompletableFuture<EnginePartition> open(TopicPartition tp, Uuid topicId, SegmentLogConfig config,
                                                   Set<Integer> voters) throws IOException {
        return open(tp, topicId, config, voters, -1);
    }

    /**
     * Hosts a replica of {@code tp} with {@code voters} (node ids) as its group's members, from whatever its directory
     * holds; completes once the group runs on the engine. A replica already hosted is returned as it is. When this
     * node is {@code preferredLeader} and the group is new (empty log, term 0), it campaigns at once.
     */
    public synchronized CompletableFuture<EnginePartition> open(TopicPartition tp, Uuid topicId, SegmentLogConfig config,
                                                                Set<Integer> voters, int preferredLeader)
        throws IOException {
        Hosted existing = partitions.get(tp);
        if (existing != null) {
            return CompletableFuture.completedFuture(existing.partition());
        }
        long groupId = groupIdOf(topicId, tp.partition());
        TopicPartition clash = byGroup.get(groupId);
        if (clash != null) {
            throw new IOException("partitions " + clash + " and " + tp + " map to the same Raft group id " + groupId);
        }
        Path dir = dirOf(tp);
        claimFor(dir, topicId);
        SegmentRaftLog log = SegmentRaftLog.open(dir, config, System::currentTimeMillis);
        EnginePartition partition = new EnginePartition(tp, groupId, engine, log, settings.maxBatchBytes(),
            settings.producerIdExpirationMs());
        RaftConfig raftConfig = new RaftConfig(settings.nodeId(), voters, settings.electionTimeoutMs(),
            settings.heartbeatMs(), RaftConfig.MAX_INFLIGHT_APPENDS_DEFAULT, settings.maxBatchBytes());
        partition.setLeaderReadyListener(term -> leaderReadyListener.accept(tp, term));
        CompletableFuture<Void> added;
        try {
            io.fluxmq.raftcore.HardState hardState = storage.initialHardState(groupId, log);
            added = engine.addGroup(groupId, raftConfig, log, hardState, partition.commitOffsetToStartFrom(), partition);
            if (preferredLeader == settings.nodeId() && hardState.term() == 0 && log.endOffset() == 0) {
                added = added.thenCompose(v -> engine.campaign(groupId));
            }
        } catch (RuntimeException e) {
            log.close();
            throw e;
        }
        partitions.put(tp, new Hosted(partition, log, topicId));
        byGroup.put(groupId, tp);
        return added.thenApply(v -> partition);
    }

    /** Told (partition, term) on an engine thread whenever a replica here becomes the ready leader; must not block. */
    public void setLeaderReadyListener(java.util.function.BiConsumer<TopicPartition, Integer> listener) {
        this.leaderReadyListener = listener;
    }

    /** Peer nodes this node's failure detector counts as down. */
    public Set<Integer> peersDown() {
        return engine.peersDown();
    }

    /** This node's replica of {@code tp}, or null. */
    public EnginePartition partition(TopicPartition tp) {
        Hosted hosted = partitions.get(tp);
        return hosted == null ? null : hosted.partition();
    }

    /** The topic id {@code tp} was opened with, or null. */
    public Uuid topicIdOf(TopicPartition tp) {
        Hosted hosted = partitions.get(tp);
        return hosted == null ? null : hosted.topicId();
    }

    /** Applies new segment settings (a topic config change) to an open replica's log. */
    public void reconfigure(TopicPartition tp, SegmentLogConfig config) {
        Hosted hosted = partitions.get(tp);
        if (hosted != null) {
            hosted.log().segmentLog().configure(config);
        }
    }

    public Set<TopicPartition> hosted() {
        return Set.copyOf(partitions.keySet());
    }

    /** Stops hosting {@code tp}: its group leaves the engine and its log is closed (its files stay). */
    public synchronized CompletableFuture<Void> close(TopicPartition tp) {
        Hosted hosted = partitions.remove(tp);
        if (hosted == null) {
            return CompletableFuture.completedFuture(null);
        }
        byGroup.remove(hosted.partition().groupId());
        return engine.removeGroup(hosted.partition().groupId()).thenRun(() -> {
            try {
                hosted.log().close();
            } catch (IOException e) {
                LOGGER.warn("Closing the log of {}: {}", tp, e.toString());
            }
        });
    }

    /**
     * Stops hosting {@code tp} and deletes its replica: its log directory and its hard state (the partition was
     * deleted or moved off this node in metadata).
     */
    public void remove(TopicPartition tp) throws IOException {
        Hosted hosted = partitions.get(tp);
        try {
            close(tp).get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("could not stop the Raft group of " + tp, e);
        }
        if (hosted != null) {
            hardStates.remove(hosted.partition().groupId());
        }
        discard(dirOf(tp));
    }

    private Path dirOf(TopicPartition tp) {
        return settings.dataDir().resolve(tp.topic() + "-" + tp.partition());
    }

    /**
     * Makes {@code dir} the replica of topic {@code topicId} ({@value #TOPIC_ID_FILE}, as Kafka's
     * {@code partition.metadata}): a directory left by a deleted topic of the same name (removed while this node was
     * down, or resurrected by a power cut after its removal) is discarded first, so its data never reads as the new
     * topic's.
     */
    private void claimFor(Path dir, Uuid topicId) throws IOException {
        Path file = dir.resolve(TOPIC_ID_FILE);
        if (Files.exists(file)) {
            String recorded = Files.readString(file).trim();
            if (recorded.equals(topicId.toString())) {
                return;
            }
            LOGGER.warn("{} holds a replica of topic id {}, not {}: discarding it", dir, recorded, topicId);
            discard(dir);
        } else if (Files.exists(dir)) {
            try (var entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException(dir + " holds data but no " + TOPIC_ID_FILE + ": not knowing its topic, "
                        + "FluxMQ leaves it alone; move it away to let the replica start");
                }
            }
        }
        io.fluxmq.raft.storage.DurableFiles.write(file, topicId.toString().getBytes(
            java.nio.charset.StandardCharsets.UTF_8));
        io.fluxmq.raft.storage.DurableFiles.syncDirectory(settings.dataDir()); // the new directory's own entry
    }

    /** Renames {@code dir} into the trash durably, then deletes it (a crash in between leaves it to the next start). */
    private void discard(Path dir) throws IOException {
        if (Files.exists(dir)) {
            Path aside = trash().resolve(dir.getFileName() + "-" + System.nanoTime());
            io.fluxmq.raft.storage.DurableFiles.move(dir, aside);
            io.fluxmq.raft.storage.DurableFiles.deleteTree(aside);
        }
    }

    private Path trash() {
        return settings.dataDir().resolve(TRASH_DIR);
    }

    /** Reads every led group's in-sync set on the loops and hands it to its partition. */
    private void refreshInSync() {
        try {
            long now = engine.nowMs();
            Map<Long, java.util.SortedSet<Integer>> sets = engine.inspectAll(raft -> raft.inSync(
                settings.replicaLagMs(), now));
            sets.forEach((groupId, members) -> {
                TopicPartition tp = byGroup.get(groupId);
                Hosted hosted = tp == null ? null : partitions.get(tp);
                if (hosted != null) {
                    hosted.partition().setInSync(List.copyOf(members));
                }
            });
        } catch (RuntimeException e) {
            LOGGER.warn("Reading the in-sync replicas failed: {}", e.toString());
        }
    }

    private void groupFailed(long groupId, Throwable cause) {
        TopicPartition tp = byGroup.get(groupId);
        Hosted hosted = tp == null ? null : partitions.get(tp);
        if (hosted != null) {
            LOGGER.error("Partition {} is offline on node {}: its Raft group failed", tp, settings.nodeId(), cause);
            hosted.partition().groupFailed(cause);
        }
    }

    @Override
    public void close() throws InterruptedException {
        refresher.shutdownNow();
        engine.close();
        forces.shutdownNow();
        transport.close();
        for (Hosted hosted : partitions.values()) {
            try {
                hosted.log().close();
            } catch (IOException e) {
                LOGGER.warn("Closing the log of {}: {}", hosted.partition().topicPartition(), e.toString());
            }
        }
        partitions.clear();
        byGroup.clear();
    }
}
