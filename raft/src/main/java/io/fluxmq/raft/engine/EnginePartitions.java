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
    /** The log settings {@value #TOPIC_ID_FILE} records (Kafka's topic config names, with underscores). */
    private static final Set<String> LOG_SETTINGS = Set.of("segment_bytes", "segment_ms", "index_interval_bytes",
        "segment_index_bytes");
    /** Directories being removed (renamed here durably first, then deleted). */
    static final String TRASH_DIR = ".trash";
    /** The write-ahead log's directory. */
    static final String WAL_DIR = ".wal";

    /**
     * @param eventLoops       threads running every group's Raft (the node's cores)
     * @param electionTimeoutMs a group's election timeout (a node's failure is found by its detector first)
     * @param heartbeatMs      a leader's heartbeat interval while a group is not quiet
     * @param nodeHeartbeatMs  how often a node tells its peers it is alive
     * @param nodeTimeoutMs    silence after which a peer node counts as down and the groups it led elect
     * @param replicaLagMs     how long a follower may lack committed entries and still count as in sync
     *                         (Kafka's {@code replica.lag.time.max.ms})
     * @param tls              mutual TLS on the transport's connections, or null for plaintext
     * @param walSegmentBytes  the size of a file of the node's write-ahead log ({@link WriteAheadLog}), or 0 for none:
     *                         each partition log is then forced on its own
     */
    public record Settings(int nodeId, String clusterId, Path dataDir, InetSocketAddress bindAddress, int eventLoops,
                           long electionTimeoutMs, long heartbeatMs, long nodeHeartbeatMs, long nodeTimeoutMs,
                           int maxBatchBytes, long producerIdExpirationMs, long replicaLagMs,
                           io.fluxmq.raft.tls.PeerTls tls, long walSegmentBytes) {
        /** Without a write-ahead log. */
        public Settings(int nodeId, String clusterId, Path dataDir, InetSocketAddress bindAddress, int eventLoops,
                        long electionTimeoutMs, long heartbeatMs, long nodeHeartbeatMs, long nodeTimeoutMs,
                        int maxBatchBytes, long producerIdExpirationMs, long replicaLagMs,
                        io.fluxmq.raft.tls.PeerTls tls) {
            this(nodeId, clusterId, dataDir, bindAddress, eventLoops, electionTimeoutMs, heartbeatMs, nodeHeartbeatMs,
                    nodeTimeoutMs, maxBatchBytes, producerIdExpirationMs, replicaLagMs, tls, 0);
        }

        /** The same settings with a write-ahead log of {@code bytes} per file (0: none). */
        public Settings withWal(long bytes) {
            return new Settings(nodeId, clusterId, dataDir, bindAddress, eventLoops, electionTimeoutMs, heartbeatMs,
                    nodeHeartbeatMs, nodeTimeoutMs, maxBatchBytes, producerIdExpirationMs, replicaLagMs, tls, bytes);
        }

        /** Plaintext. */
        public Settings(int nodeId, String clusterId, Path dataDir, InetSocketAddress bindAddress, int eventLoops,
                        long electionTimeoutMs, long heartbeatMs, long nodeHeartbeatMs, long nodeTimeoutMs,
                        int maxBatchBytes, long producerIdExpirationMs, long replicaLagMs) {
            this(nodeId, clusterId, dataDir, bindAddress, eventLoops, electionTimeoutMs, heartbeatMs, nodeHeartbeatMs,
                    nodeTimeoutMs, maxBatchBytes, producerIdExpirationMs, replicaLagMs, null, 0);
        }
    }

    /** How often the leaders' in-sync sets are read from the engine. */
    static final long IN_SYNC_REFRESH_MS = 500;

    private record Hosted(EnginePartition partition, SegmentRaftLog log, Uuid topicId) {
    }

    /** A replica whose directory and log are being opened on the opener threads. */
    private record Opening(CompletableFuture<EnginePartition> opened, Uuid topicId) {
    }

    /**
     * What {@value #TOPIC_ID_FILE} records: the topic the directory belongs to, its group's voters and its log's
     * settings (each if known: null settings, no voters), so a restart runs the replica as before metadata is known.
     */
    record DirectoryIdentity(Uuid topicId, Set<Integer> voters, SegmentLogConfig logConfig) {
    }

    /** Threads opening (and closing) replicas' directories and logs side by side: the work waits on the disk. */
    static final int OPEN_THREADS = 4;

    private final Settings settings;
    private final HardStateFile hardStates;
    private final FileGroupStorage storage;
    /**
     * The node's write-ahead log: null when there is none, used only to replay what a crash left when
     * {@link #logToWal} is false (the setting was turned off).
     */
    private final WriteAheadLog wal;
    /** Whether the logs are made durable through {@link #wal} (else each is forced on its own). */
    private final boolean logToWal;
    /** Forces the logs of one loop pass side by side (msync waits on the disk, not the CPU). */
    private final java.util.concurrent.ExecutorService forces;
    static final int FORCE_THREADS = 16;
    private final NettyTransport transport;
    private final RaftEngine engine;
    private final Map<TopicPartition, Hosted> partitions = new ConcurrentHashMap<>();
    private final Map<Long, TopicPartition> byGroup = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Opening> opening = new ConcurrentHashMap<>();
    /** The voters each hosted replica's {@value #TOPIC_ID_FILE} records (so an unchanged set costs no disk read). */
    private final Map<TopicPartition, Set<Integer>> recordedVoters = new ConcurrentHashMap<>();
    /** The voters of each hosted replica's latest committed configuration, as its group last told. */
    private final Map<TopicPartition, Set<Integer>> committedVoters = new ConcurrentHashMap<>();
    /** The log settings each hosted replica's {@value #TOPIC_ID_FILE} records, and those it runs with now. */
    private final Map<TopicPartition, SegmentLogConfig> recordedConfigs = new ConcurrentHashMap<>();
    private final Map<TopicPartition, SegmentLogConfig> currentConfigs = new ConcurrentHashMap<>();
    private final java.util.concurrent.ExecutorService opener;
    private volatile boolean closing;
    /** Syncs of the data directory, shared by the replicas created side by side. */
    private final SharedSync dataDirSync;
    private volatile java.util.function.BiConsumer<TopicPartition, Integer> leaderReadyListener = (tp, term) -> { };
    /** Takes the commit latency of every batch a partition here leads, in nanoseconds (see {@link #setCommitLatencyRecorder}). */
    private volatile java.util.function.LongConsumer commitLatency = nanos -> { };
    /** How many partitions this node took the leadership of after a peer's loss, and when, for the log. */
    private final Takeovers takeovers = new Takeovers();
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
        Path walDir = settings.dataDir().resolve(WAL_DIR);
        this.logToWal = settings.walSegmentBytes() > 0;
        // opened without the setting too when a crash left files: their records must be replayed
        this.wal = logToWal || WriteAheadLog.hasFiles(walDir)
            ? WriteAheadLog.open(walDir, settings.walSegmentBytes(), forces, String.valueOf(settings.nodeId()))
            : null;
        this.storage = new FileGroupStorage(hardStates, forces, logToWal ? wal : null);
        this.dataDirSync = new SharedSync(() -> io.fluxmq.raft.storage.DurableFiles.syncDirectory(settings.dataDir()));
        this.opener = java.util.concurrent.Executors.newFixedThreadPool(OPEN_THREADS, daemonThreads(
            "raft-open-" + settings.nodeId() + "-"));
        RaftEngine[] self = new RaftEngine[1];
        this.transport = new NettyTransport(NettyTransportConfig.of(settings.nodeId(), settings.clusterId(),
            settings.bindAddress()).withTls(settings.tls()), peerAddress, peer -> {
                if (self[0] != null) {
                    self[0].peerRestarted(peer);
                }
            }, peer -> {
                takeovers.peerGone(peer);
                if (self[0] != null) {
                    self[0].peerGone(peer);
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
     * holds; completes once the group runs on the engine, or fails if its directory or log cannot be opened (then a
     * later call tries again). The directory and log are opened on the opener threads, so many replicas open side by
     * side. A replica already hosted or being opened is returned as it is. When this node is {@code preferredLeader}
     * and the group is new (empty log, term 0), it campaigns at once.
     */
    public synchronized CompletableFuture<EnginePartition> open(TopicPartition tp, Uuid topicId, SegmentLogConfig config,
                                                                Set<Integer> voters, int preferredLeader)
        throws IOException {
        Hosted existing = partitions.get(tp);
        if (existing != null) {
            return CompletableFuture.completedFuture(existing.partition());
        }
        Opening pending = opening.get(tp);
        if (pending != null) {
            return pending.opened();
        }
        long groupId = groupIdOf(topicId, tp.partition());
        TopicPartition clash = byGroup.get(groupId);
        if (clash != null) {
            throw new IOException("partitions " + clash + " and " + tp + " map to the same Raft group id " + groupId);
        }
        byGroup.put(groupId, tp);
        CompletableFuture<EnginePartition> opened = new CompletableFuture<>();
        opening.put(tp, new Opening(opened, topicId));
        try {
            opener.execute(() -> openNow(tp, topicId, groupId, config, voters, preferredLeader, opened));
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            openFailed(tp, groupId, opened, new IOException("node closing: " + tp + " not opened"));
        }
        return opened;
    }

    private void openNow(TopicPartition tp, Uuid topicId, long groupId, SegmentLogConfig config, Set<Integer> voters,
                         int preferredLeader, CompletableFuture<EnginePartition> opened) {
        if (closing) { // queued openings end at once when the node closes
            openFailed(tp, groupId, opened, new IOException("node closing: " + tp + " not opened"));
            return;
        }
        SegmentRaftLog log = null;
        try {
            Claim claim = claim(dirOf(tp), topicId, voters);
            // the voters the directory records are this group's (its last committed configuration), metadata's may
            // lag a reassignment in progress; configuration entries in the log take over from either
            Set<Integer> startVoters = claim.recorded().isEmpty() ? voters : claim.recorded();
            // a new log's directory is synced once, by the identity write right after
            log = SegmentRaftLog.open(dirOf(tp), config, System::currentTimeMillis, claim.kind() == Claim.Kind.NEW);
            if (wal != null) {
                wal.replay(groupId, log);
                if (logToWal) {
                    log.attachWal(wal, groupId);
                }
            }
            record(dirOf(tp), claim, topicId, startVoters, config);
            recordedVoters.put(tp, startVoters); // before the group starts and tells its committed voters
            recordedConfigs.put(tp, config);
            currentConfigs.put(tp, config);
            committedVoters.remove(tp);
            EnginePartition partition = new EnginePartition(tp, groupId, engine, log, settings.maxBatchBytes(),
                settings.producerIdExpirationMs());
            partition.setVotersListener(committed -> recordVotersLater(tp, partition, committed));
            RaftConfig raftConfig = new RaftConfig(settings.nodeId(), startVoters, settings.electionTimeoutMs(),
                settings.heartbeatMs(), RaftConfig.MAX_INFLIGHT_APPENDS_DEFAULT, settings.maxBatchBytes());
            partition.setLeaderReadyListener(term -> {
                takeovers.leaderReady();
                leaderReadyListener.accept(tp, term);
            });
            partition.setCommitLatencyRecorder(nanos -> commitLatency.accept(nanos));
            io.fluxmq.raftcore.HardState hardState = storage.initialHardState(groupId, log);
            CompletableFuture<Void> added;
            synchronized (this) {
                if (opening.get(tp) == null || opening.get(tp).opened() != opened) {
                    throw new IOException("node closing: " + tp + " not opened");
                }
                added = engine.addGroup(groupId, raftConfig, log, hardState, partition.commitOffsetToStartFrom(),
                    partition);
                partitions.put(tp, new Hosted(partition, log, topicId));
                opening.remove(tp);
            }
            if (preferredLeader == settings.nodeId() && hardState.term() == 0 && log.endOffset() == 0) {
                added = added.thenCompose(v -> engine.campaign(groupId));
            }
            added.whenComplete((v, failure) -> {
                if (failure != null) {
                    opened.completeExceptionally(failure);
                } else {
                    opened.complete(partition);
                }
            });
        } catch (IOException | RuntimeException e) {
            if (log != null && partition(tp) == null) {
                try {
                    log.close();
                } catch (IOException closing) {
                    e.addSuppressed(closing);
                }
            }
            openFailed(tp, groupId, opened, e);
        }
    }

    private synchronized void openFailed(TopicPartition tp, long groupId, CompletableFuture<EnginePartition> opened,
                                         Exception cause) {
        Opening pending = opening.get(tp);
        if (pending != null && pending.opened() == opened) {
            opening.remove(tp);
            byGroup.remove(groupId, tp);
        }
        opened.completeExceptionally(cause);
    }

    /**
     * Opens every replica found in the data directory whose {@value #TOPIC_ID_FILE} records its group's voters, with
     * the log settings it records (else {@code config}; replaced once metadata is known, {@link #reconfigure}), so
     * what it writes before metadata caught up goes into segments of the topic's size, as on the other replicas. A restarting node runs its
     * groups at once this way, before its metadata has caught up: what a replica needs to rejoin its group is on its
     * own disk. Directories that record no voters (written by older builds) wait for {@link #open}. The directories
     * are read on a thread of their own, so the node's start goes on meanwhile; the result completes with the
     * partitions whose opening started (each then completes on its own), once every one of them is
     * {@link #isHosted}.
     */
    public CompletableFuture<List<TopicPartition>> openFound(SegmentLogConfig config) {
        CompletableFuture<List<TopicPartition>> registered = new CompletableFuture<>();
        Thread scan = new Thread(() -> {
            try {
                registered.complete(scanAndOpen(config));
            } catch (IOException | RuntimeException e) {
                registered.completeExceptionally(e);
            }
        }, "raft-open-found-" + settings.nodeId());
        scan.setDaemon(true);
        scan.start();
        return registered;
    }

    private List<TopicPartition> scanAndOpen(SegmentLogConfig config) throws IOException {
        List<TopicPartition> started = new java.util.ArrayList<>();
        Set<Long> present = new java.util.HashSet<>(); // the groups of every replica directory here
        try (var dirs = Files.list(settings.dataDir())) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                String name = dir.getFileName().toString();
                int dash = name.lastIndexOf('-');
                Path idFile = dir.resolve(TOPIC_ID_FILE);
                if (closing || !Files.isDirectory(dir) || dash <= 0 || !Files.exists(idFile)) {
                    continue;
                }
                int partition;
                try {
                    partition = Integer.parseInt(name.substring(dash + 1));
                } catch (NumberFormatException e) {
                    continue;
                }
                DirectoryIdentity identity;
                try {
                    identity = readIdentity(idFile);
                } catch (IOException | IllegalArgumentException e) {
                    LOGGER.warn("Not opening {} before metadata is known: {}", dir, e.toString());
                    continue;
                }
                present.add(groupIdOf(identity.topicId(), partition));
                if (identity.voters().isEmpty()) {
                    continue;
                }
                TopicPartition tp = new TopicPartition(name.substring(0, dash), partition);
                try {
                    SegmentLogConfig recorded = identity.logConfig() != null ? identity.logConfig() : config;
                    open(tp, identity.topicId(), recorded, identity.voters(), -1).exceptionally(failure -> {
                        LOGGER.warn("Could not open the replica of {} found on disk: {}", tp, failure.toString());
                        return null;
                    });
                    started.add(tp);
                } catch (IOException e) {
                    LOGGER.warn("Could not open the replica of {} found on disk: {}", tp, e.toString());
                }
            }
        }
        if (wal != null && !closing) {
            wal.forgetAllExcept(present);
        }
        return started;
    }

    /**
     * Where every partition's leader reports how long each batch took from its proposal to its commit, in nanoseconds
     * (on an engine thread; must not block).
     */
    public void setCommitLatencyRecorder(java.util.function.LongConsumer nanos) {
        this.commitLatency = nanos;
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
        if (hosted != null) {
            return hosted.topicId();
        }
        Opening pending = opening.get(tp);
        return pending == null ? null : pending.topicId();
    }

    /** Applies new segment settings (a topic config change) to an open replica's log. */
    /** The log settings a hosted replica runs with, or null. */
    SegmentLogConfig logConfigOf(TopicPartition tp) {
        Hosted hosted = partitions.get(tp);
        return hosted == null ? null : hosted.log().segmentLog().config();
    }

    public void reconfigure(TopicPartition tp, SegmentLogConfig config) {
        Hosted hosted = partitions.get(tp);
        if (hosted != null) {
            hosted.log().segmentLog().configure(config);
            currentConfigs.put(tp, config);
            if (!config.equals(recordedConfigs.get(tp))) {
                recordIdentityLater(tp, hosted.partition());
            }
            return;
        }
        Opening pending = opening.get(tp);
        if (pending != null) {
            pending.opened().thenAccept(p -> reconfigure(tp, config));
        }
    }

    /** The replicas open here (not those still opening). */
    public Set<TopicPartition> hosted() {
        // not Set.copyOf: its table probes linearly, slow on the adjacent hash codes of similar partitions' names
        return java.util.Collections.unmodifiableSet(new java.util.HashSet<>(partitions.keySet()));
    }

    /** The replicas open here and those being opened. */
    public Set<TopicPartition> hostedOrOpening() {
        Set<TopicPartition> all = new java.util.HashSet<>(opening.keySet());
        all.addAll(partitions.keySet());
        return all;
    }

    /** Whether {@code tp} is open here or being opened. */
    public boolean isHosted(TopicPartition tp) {
        return partitions.containsKey(tp) || opening.containsKey(tp);
    }

    /** Stops hosting {@code tp}: its group leaves the engine and its log is closed (its files stay). */
    public synchronized CompletableFuture<Void> close(TopicPartition tp) {
        Opening pending = opening.get(tp);
        if (pending != null) { // let the opening finish (or fail) first
            return pending.opened().handle((p, failure) -> null).thenCompose(v -> close(tp));
        }
        Hosted hosted = partitions.remove(tp);
        if (hosted == null) {
            return CompletableFuture.completedFuture(null);
        }
        recordedVoters.remove(tp);
        committedVoters.remove(tp);
        recordedConfigs.remove(tp);
        currentConfigs.remove(tp);
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
        Uuid topicId = topicIdOf(tp);
        try {
            close(tp).get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("could not stop the Raft group of " + tp, e);
        }
        if (topicId != null) {
            long groupId = groupIdOf(topicId, tp.partition());
            if (wal != null) { // before the directory goes: a replica made again later must not get these records
                wal.forget(groupId);
                WriteAheadLog.Batch drop = new WriteAheadLog.Batch();
                drop.add(WriteAheadLog.DROP, groupId, 0, null, null);
                wal.submitSync(drop);
            }
            hardStates.remove(groupId);
        }
        discard(dirOf(tp));
    }

    private Path dirOf(TopicPartition tp) {
        return settings.dataDir().resolve(tp.topic() + "-" + tp.partition());
    }

    /**
     * What {@link #claim} found: the directory is the replica's and records its voters ({@code recorded}), is the
     * replica's but records none (written by an older build), or is new.
     */
    private record Claim(Kind kind, Set<Integer> recorded, SegmentLogConfig recordedConfig) {
        enum Kind { KEPT, NO_VOTERS, NEW }

        static final Claim NEW = new Claim(Kind.NEW, Set.of(), null);
    }

    /**
     * Checks that {@code dir} may be the replica of topic {@code topicId} ({@value #TOPIC_ID_FILE}, as Kafka's
     * {@code partition.metadata}, plus the voters, so a restart can run the group before metadata is known): a
     * directory left by a deleted topic of the same name (removed while this node was down, or resurrected by a power
     * cut after its removal) is discarded first, so its data never reads as the new topic's; one with data but no
     * identity is refused. {@link #record} writes the identity once the log is open.
     */
    private Claim claim(Path dir, Uuid topicId, Set<Integer> voters) throws IOException {
        Path file = dir.resolve(TOPIC_ID_FILE);
        if (Files.exists(file)) {
            DirectoryIdentity recorded = readIdentity(file);
            if (recorded.topicId().equals(topicId)) {
                return recorded.voters().isEmpty() ? new Claim(Claim.Kind.NO_VOTERS, Set.of(), recorded.logConfig())
                    : new Claim(Claim.Kind.KEPT, recorded.voters(), recorded.logConfig());
            }
            LOGGER.warn("{} holds a replica of topic id {}, not {}: discarding it", dir, recorded.topicId(), topicId);
            discard(dir);
        } else if (Files.exists(dir)) {
            try (var entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException(dir + " holds data but no " + TOPIC_ID_FILE + ": not knowing its topic, "
                        + "FluxMQ leaves it alone; move it away to let the replica start");
                }
            }
        }
        return Claim.NEW;
    }

    /**
     * Writes the replica's identity durably (the write syncs {@code dir}, which also makes the entries of the segment
     * files a new log just created durable) and, for a new directory, its entry in the data directory.
     */
    private void record(Path dir, Claim claim, Uuid topicId, Set<Integer> voters, SegmentLogConfig config)
        throws IOException {
        if (claim.kind() == Claim.Kind.KEPT && config.equals(claim.recordedConfig())) {
            return;
        }
        writeIdentity(dir, topicId, voters, config);
        if (claim.kind() == Claim.Kind.NEW) {
            dataDirSync.sync(); // the new directory's own entry
        }
    }

    private static void writeIdentity(Path dir, Uuid topicId, Set<Integer> voters, SegmentLogConfig config)
        throws IOException {
        String voterList = voters.stream().sorted().map(String::valueOf)
            .collect(java.util.stream.Collectors.joining(","));
        String text = "version: 0\ntopic_id: " + topicId + "\nvoters: " + voterList + "\n";
        if (config != null) {
            text += "segment_bytes: " + config.segmentBytes() + "\nsegment_ms: " + config.segmentMs()
                + "\nindex_interval_bytes: " + config.indexIntervalBytes() + "\nsegment_index_bytes: "
                + config.maxIndexBytes() + "\n";
        }
        io.fluxmq.raft.storage.DurableFiles.write(dir.resolve(TOPIC_ID_FILE),
            text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * The group of {@code partition} committed a configuration naming {@code voters} (or started with it): its
     * {@value #TOPIC_ID_FILE} records them, on an opener thread (the loop must not wait on the disk), unless the
     * replica was closed or replaced meanwhile. A restart then opens the group with its latest members before
     * metadata is known, including a replica a reassignment added, whose directory recorded only the old voters.
     */
    private void recordVotersLater(TopicPartition tp, EnginePartition partition, Set<Integer> committed) {
        committedVoters.put(tp, committed);
        if (committed.equals(recordedVoters.get(tp))) {
            return; // as when the replica opened (every group tells its voters once it starts)
        }
        recordIdentityLater(tp, partition);
    }

    /**
     * Rewrites {@value #TOPIC_ID_FILE} with the replica's latest committed voters and current log settings, on an
     * opener thread (the loop must not wait on the disk), unless the replica was closed or replaced meanwhile or the
     * file already records both.
     */
    private void recordIdentityLater(TopicPartition tp, EnginePartition partition) {
        try {
            opener.execute(() -> {
                synchronized (this) {
                    Hosted hosted = partitions.get(tp);
                    // the latest voters and settings, not those of the call: two tasks may run in either order
                    Set<Integer> voters = committedVoters.getOrDefault(tp, recordedVoters.get(tp));
                    SegmentLogConfig config = currentConfigs.get(tp);
                    if (closing || hosted == null || hosted.partition() != partition || voters == null) {
                        return;
                    }
                    try {
                        if (!voters.equals(recordedVoters.get(tp))
                            || !java.util.Objects.equals(config, recordedConfigs.get(tp))) {
                            writeIdentity(dirOf(tp), hosted.topicId(), voters, config);
                            if (!voters.equals(recordedVoters.get(tp))) {
                                LOGGER.info("Partition {}: its Raft group's voters are now {}", tp, voters);
                            }
                            recordedVoters.put(tp, voters);
                            if (config != null) {
                                recordedConfigs.put(tp, config);
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        LOGGER.warn("Could not record the voters {} and log settings of {}: {}", voters, tp,
                            e.toString());
                    }
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the node is closing: the file keeps what it had, and the log's configuration entries win anyway
        }
    }

    /** Reads {@value #TOPIC_ID_FILE}: {@code key: value} lines, or (older builds) the topic id alone. */
    static DirectoryIdentity readIdentity(Path file) throws IOException {
        String text = Files.readString(file).trim();
        if (!text.contains(":")) {
            return new DirectoryIdentity(Uuid.fromString(text), Set.of(), null);
        }
        Uuid topicId = null;
        Set<Integer> voters = new java.util.TreeSet<>();
        Map<String, Long> logSettings = new java.util.HashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            try {
                if (key.equals("topic_id")) {
                    topicId = Uuid.fromString(value);
                } else if (key.equals("voters") && !value.isEmpty()) {
                    for (String id : value.split(",")) {
                        voters.add(Integer.parseInt(id.trim()));
                    }
                } else if (LOG_SETTINGS.contains(key)) {
                    logSettings.put(key, Long.parseLong(value));
                }
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " is unreadable: " + line, e);
            }
        }
        if (topicId == null) {
            throw new IOException(file + " records no topic_id");
        }
        SegmentLogConfig logConfig = null;
        if (logSettings.size() == LOG_SETTINGS.size()) {
            try {
                logConfig = new SegmentLogConfig(Math.toIntExact(logSettings.get("segment_bytes")),
                    logSettings.get("segment_ms"), Math.toIntExact(logSettings.get("index_interval_bytes")),
                    Math.toIntExact(logSettings.get("segment_index_bytes")));
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new IOException(file + " records unusable log settings " + logSettings, e);
            }
        }
        return new DirectoryIdentity(topicId, Set.copyOf(voters), logConfig);
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

    private record LeaderView(java.util.SortedSet<Integer> inSync, Map<Integer, Long> lags, long term) {}

    /** Reads every led group's in-sync set and followers' lag on the loops and hands them to its partition. */
    /**
     * Counts the partitions whose leadership this node takes after a peer was reported gone, and logs it once when they
     * stopped coming for {@link #IN_SYNC_REFRESH_MS}: the servers' side of a failover, as an operator reads it.
     */
    private static final class Takeovers {
        private long goneAtNanos;
        private int gonePeer = -1;
        private int count;
        private long lastNanos;

        synchronized void peerGone(int peer) {
            goneAtNanos = System.nanoTime();
            gonePeer = peer;
            count = 0;
        }

        synchronized void leaderReady() {
            if (gonePeer >= 0) {
                count++;
                lastNanos = System.nanoTime();
            }
        }

        synchronized void log(int nodeId) {
            if (gonePeer < 0 || count == 0 || System.nanoTime() - lastNanos < IN_SYNC_REFRESH_MS * 1_000_000L) {
                return;
            }
            LOGGER.info("Node {} took the leadership of {} partitions since node {} was reported gone, the last {} ms "
                + "after that", nodeId, count, gonePeer, (lastNanos - goneAtNanos) / 1_000_000);
            gonePeer = -1; // once per loss: later moves (a returning node taking its partitions back) are not a takeover
        }
    }

    private void refreshInSync() {
        takeovers.log(settings.nodeId());
        try {
            long now = engine.nowMs();
            // leaders only: a follower's replica answers no in-sync set (EnginePartition.inSync)
            Map<Long, LeaderView> views = engine.inspectAll(
                raft -> raft.role() == io.fluxmq.raftcore.RaftGroup.Role.LEADER
                    ? new LeaderView(raft.inSync(settings.replicaLagMs(), now), lags(raft), raft.term()) : null);
            for (Hosted hosted : partitions.values()) {
                if (!views.containsKey(hosted.partition().groupId())) {
                    hosted.partition().setFollowerLag(Map.of());
                }
            }
            views.forEach((groupId, view) -> {
                TopicPartition tp = byGroup.get(groupId);
                Hosted hosted = tp == null ? null : partitions.get(tp);
                if (hosted != null) {
                    hosted.partition().setInSync(List.copyOf(view.inSync()), view.term());
                    hosted.partition().setFollowerLag(view.lags());
                }
            });
        } catch (RuntimeException e) {
            LOGGER.warn("Reading the in-sync replicas failed: {}", e.toString());
        }
    }

    /** Offsets each follower's log trails the leader's end, by member. */
    private static Map<Integer, Long> lags(io.fluxmq.raftcore.RaftGroup raft) {
        long end = raft.log().endOffset();
        Map<Integer, Long> lags = new java.util.TreeMap<>();
        raft.followers().forEach((member, f) -> lags.put(member, Math.max(0, end - f.matchEnd())));
        return lags;
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + next.getAndIncrement());
            t.setDaemon(true);
            return t;
        };
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
        closing = true;
        opener.shutdown();
        opener.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        synchronized (this) {
            opening.clear(); // an opening that did not start its group closes its own log (openNow)
        }
        engine.close();
        forces.shutdownNow();
        transport.close();
        // closing a log forces what it has unforced: side by side, the time of the slowest disk wait, not their sum
        java.util.concurrent.ExecutorService closer = java.util.concurrent.Executors.newFixedThreadPool(OPEN_THREADS,
            daemonThreads("raft-close-" + settings.nodeId() + "-"));
        java.util.concurrent.atomic.AtomicBoolean allClosed = new java.util.concurrent.atomic.AtomicBoolean(true);
        for (Hosted hosted : partitions.values()) {
            closer.execute(() -> {
                try {
                    hosted.log().close();
                } catch (IOException | RuntimeException e) {
                    allClosed.set(false);
                    LOGGER.warn("Closing the log of {}: {}", hosted.partition().topicPartition(), e.toString());
                }
            });
        }
        closer.shutdown();
        boolean closedInTime = closer.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
        if (wal != null) {
            try { // every log closed is on disk: the write-ahead log's files are needed no more
                wal.close(closedInTime && allClosed.get());
            } catch (IOException e) {
                LOGGER.warn("Closing the write-ahead log: {}", e.toString());
            }
        }
        partitions.clear();
        byGroup.clear();
    }
}
