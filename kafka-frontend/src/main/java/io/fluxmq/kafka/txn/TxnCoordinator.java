package io.fluxmq.kafka.txn;

import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.raft.partition.Partition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction coordinator of this node. Transactional id {@code t} lives in partition {@code abs(hash(t)) % N}
 * of {@code __transaction_state} (Kafka's rule); this node coordinates it while it leads that partition. As the group
 * coordinator does, a timer thread polls leadership every {@value #TICK_MS} ms: a partition newly led (or led in a
 * new epoch) gets a {@link TxnShard} that a loader thread fills by replaying the partition from its start (the last
 * record of each id wins), and a partition no longer led is unloaded. The same timer aborts timed-out transactions
 * every {@link TxnConfig#abortCheckIntervalMs()} and runs marker retries.
 *
 * <p>State records are handed to Raft on the partition's append executor, never on the caller's thread. Markers are
 * written through {@link TxnShard.MarkerWriter} (the node writes them to each partition's leader). Thread-safe.
 */
public final class TxnCoordinator implements AutoCloseable {
    public static final String STATE_TOPIC = Topic.TRANSACTION_STATE_TOPIC_NAME;
    static final long TICK_MS = 100;
    private static final Logger LOGGER = LoggerFactory.getLogger(TxnCoordinator.class);
    private static final int LOAD_READ_BYTES = 1 << 20;

    private final BrokerServices broker;
    private final TxnConfig config;
    private final LongSupplier clock;
    private final Function<TopicPartition, Executor> appends;
    private final TxnShard.MarkerWriter markers;
    private final Map<Integer, TxnShard> shards = new ConcurrentHashMap<>();
    /** A client asked for a transaction coordinator while the state topic did not exist. */
    private volatile boolean wanted;
    private final AtomicBoolean creatingTopic = new AtomicBoolean();
    private ScheduledExecutorService timer;
    private ExecutorService loader;
    private long lastAbortCheckMs;

    public TxnCoordinator(BrokerServices broker, TxnConfig config, LongSupplier clock,
                          Function<TopicPartition, Executor> appends, TxnShard.MarkerWriter markers) {
        this.broker = broker;
        this.config = config;
        this.clock = clock;
        this.appends = appends;
        this.markers = markers;
    }

    public void start() {
        timer = Executors.newSingleThreadScheduledExecutor(daemon("fluxmq-txn-timer"));
        loader = Executors.newSingleThreadExecutor(daemon("fluxmq-txn-loader"));
        lastAbortCheckMs = clock.getAsLong();
        timer.scheduleWithFixedDelay(this::tickSafely, 0, TICK_MS, TimeUnit.MILLISECONDS);
    }

    public TxnConfig config() {
        return config;
    }

    public long now() {
        return clock.getAsLong();
    }

    /** How a transactional id resolves on this node. */
    public sealed interface Route permits Route.Served, Route.Refused {
        record Served(TxnShard shard) implements Route {}

        record Refused(Errors error) implements Route {}
    }

    public Route route(String transactionalId) {
        return route(transactionalId, true);
    }

    /** {@code createTopic}: whether a missing state topic is created (as FindCoordinator does), or only reported. */
    private Route route(String transactionalId, boolean createTopic) {
        if (transactionalId == null || transactionalId.isEmpty()) {
            return new Route.Refused(Errors.INVALID_REQUEST);
        }
        Optional<TopicInfo> topic = broker.topic(STATE_TOPIC);
        if (topic.isEmpty()) {
            if (createTopic) {
                wantTopic();
            }
            return new Route.Refused(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        TxnShard shard = shards.get(partitionFor(transactionalId, topic.get().partitions()));
        if (shard == null) {
            return new Route.Refused(Errors.NOT_COORDINATOR);
        }
        return switch (shard.phase()) {
            case LOADING -> new Route.Refused(Errors.COORDINATOR_LOAD_IN_PROGRESS);
            case UNLOADED -> new Route.Refused(Errors.NOT_COORDINATOR);
            case ACTIVE -> new Route.Served(shard);
        };
    }

    /**
     * Adds partitions to a transaction this node coordinates (the coordinator's side of {@link TxnPartitions}):
     * the routing errors of {@link #route} (a missing state topic is not created), else the shard's answer.
     */
    public CompletableFuture<Errors> addPartitions(String transactionalId, long producerId, short epoch,
                                                   Set<TopicPartition> partitions) {
        Route route = route(transactionalId, false);
        if (route instanceof Route.Refused refused) {
            return CompletableFuture.completedFuture(refused.error());
        }
        return ((Route.Served) route).shard().addPartitions(transactionalId, producerId, epoch, partitions, now());
    }

    /** The node leading the state partition of a transactional id (its coordinator), or -1 when none is known. */
    public int coordinatorNode(String transactionalId) {
        Optional<TopicInfo> topic = broker.topic(STATE_TOPIC);
        if (topic.isEmpty() || transactionalId == null || transactionalId.isEmpty()) {
            return -1;
        }
        return broker.partitionState(new TopicPartition(STATE_TOPIC,
                partitionFor(transactionalId, topic.get().partitions()))).leader();
    }

    /** DescribeTransactions' answer for one transactional id: its state, or the error (metadata null). */
    public record Description(Errors error, TxnMetadata metadata) {}

    /**
     * The committed state of a transactional id (Kafka's {@code handleDescribeTransactions}): INVALID_REQUEST for an
     * empty id, COORDINATOR_NOT_AVAILABLE without a state topic (not created by a describe), NOT_COORDINATOR or
     * COORDINATOR_LOAD_IN_PROGRESS when its partition is not served here, TRANSACTIONAL_ID_NOT_FOUND for an id the
     * coordinator does not know.
     */
    public Description describe(String transactionalId) {
        Route route = route(transactionalId, false);
        if (route instanceof Route.Refused refused) {
            return new Description(refused.error(), null);
        }
        TxnMetadata metadata = ((Route.Served) route).shard().get(transactionalId);
        return metadata == null ? new Description(Errors.TRANSACTIONAL_ID_NOT_FOUND, null)
                : new Description(Errors.NONE, metadata);
    }

    /** ListTransactions' answer of this node: every transactional id it coordinates, or the error. */
    public record Listing(Errors error, List<TxnMetadata> transactions) {}

    /**
     * The committed state of every transactional id of the state partitions this node coordinates, in id order; as
     * Kafka's {@code listTransactionStates}, COORDINATOR_LOAD_IN_PROGRESS while one of them is loading.
     */
    public Listing list() {
        List<TxnMetadata> all = new ArrayList<>();
        for (TxnShard shard : shards.values()) {
            switch (shard.phase()) {
                case LOADING -> {
                    return new Listing(Errors.COORDINATOR_LOAD_IN_PROGRESS, List.of());
                }
                case ACTIVE -> all.addAll(shard.all());
                case UNLOADED -> {
                }
            }
        }
        all.sort(Comparator.comparing(TxnMetadata::transactionalId));
        return new Listing(Errors.NONE, all);
    }

    static int partitionFor(String transactionalId, int partitions) {
        return Utils.abs(transactionalId.hashCode()) % partitions;
    }

    /** The coordinator of a transactional id as FindCoordinator reports it. */
    public record Coordinator(Errors error, BrokerEndpoint endpoint) {}

    public Coordinator findCoordinator(String transactionalId, String listener) {
        Optional<TopicInfo> topic = broker.topic(STATE_TOPIC);
        if (topic.isEmpty()) {
            wantTopic();
            return new Coordinator(Errors.COORDINATOR_NOT_AVAILABLE, null);
        }
        TopicPartition tp = new TopicPartition(STATE_TOPIC, partitionFor(transactionalId, topic.get().partitions()));
        int leader = broker.partitionState(tp).leader();
        if (leader < 0) {
            return new Coordinator(Errors.COORDINATOR_NOT_AVAILABLE, null);
        }
        return broker.brokers(listener).stream().filter(b -> b.nodeId() == leader).findFirst()
                .map(b -> new Coordinator(Errors.NONE, b))
                .orElse(new Coordinator(Errors.COORDINATOR_NOT_AVAILABLE, null));
    }

    private void wantTopic() {
        wanted = true;
        maybeCreateTopic();
    }

    // ---------------------------------------------------------------- time and leadership

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            LOGGER.error("Transaction coordinator tick failed", e);
        }
    }

    void tick() {
        Optional<TopicInfo> topic = broker.topic(STATE_TOPIC);
        if (topic.isEmpty()) {
            if (wanted) {
                maybeCreateTopic();
            }
            return;
        }
        for (int p = 0; p < topic.get().partitions(); p++) {
            TopicPartition tp = new TopicPartition(STATE_TOPIC, p);
            Partition replica = broker.replica(tp);
            boolean leading = replica != null && replica.isLeader();
            TxnShard shard = shards.get(p);
            if (leading && (shard == null || shard.leaderEpoch() != replica.leaderEpoch())) {
                if (shard != null) {
                    shard.unload();
                }
                TxnShard fresh = newShard(p, replica.leaderEpoch());
                shards.put(p, fresh);
                loader.execute(() -> load(fresh, replica));
            } else if (!leading && shard != null) {
                shards.remove(p);
                shard.unload();
                LOGGER.info("No longer coordinating transactions of {}", tp);
            }
        }
        long now = now();
        if (now - lastAbortCheckMs >= config.abortCheckIntervalMs()) {
            lastAbortCheckMs = now;
            for (TxnShard shard : shards.values()) {
                shard.abortTimedOut(now);
            }
        }
    }

    TxnShard newShard(int partition, int leaderEpoch) {
        TopicPartition tp = new TopicPartition(STATE_TOPIC, partition);
        return new TxnShard(partition, leaderEpoch, m -> append(tp, m), markers, broker::nextProducerId,
                (task, delayMs) -> schedule(task, delayMs));
    }

    private void schedule(Runnable task, long delayMs) {
        try {
            timer.schedule(task, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // shutting down: the next leader of the partition finishes the transaction
        }
    }

    /**
     * Creates the state topic the first time a client looks for a transaction coordinator (as Kafka does), so a
     * cluster whose clients never use transactions carries no transaction state partitions; retried by the tick until
     * it exists. Any node may create it: a second creation is refused as TOPIC_ALREADY_EXISTS.
     */
    private void maybeCreateTopic() {
        if (!creatingTopic.compareAndSet(false, true)) {
            return;
        }
        // compacted, as Kafka's internal topics: a load reads each key's latest record, not every record ever written
        Map<String, String> configs = Map.of("cleanup.policy", "compact",
                "segment.bytes", Integer.toString(config.stateTopicSegmentBytes()));
        broker.createTopic(STATE_TOPIC, config.stateTopicPartitions(), config.stateTopicReplicationFactor(),
                configs, false).whenComplete((info, failure) -> {
                    if (failure != null && KafkaErrors.of(failure) != Errors.TOPIC_ALREADY_EXISTS) {
                        LOGGER.warn("Could not create {}: {}", STATE_TOPIC, KafkaErrors.message(failure));
                    } else if (failure == null) {
                        LOGGER.info("Created {} with {} partitions", STATE_TOPIC, info.partitions());
                    }
                    creatingTopic.set(false);
                });
    }

    /** Replays the partition from its log start to the high watermark into the shard, then activates it. */
    private void load(TxnShard shard, Partition replica) {
        long started = System.nanoTime();
        try {
            long offset = replica.logStartOffset();
            long end = replica.highWatermark();
            int records = 0;
            while (offset < end && shard.phase() == TxnShard.Phase.LOADING) {
                MemoryRecords batch = replica.read(offset, LOAD_READ_BYTES, true);
                if (batch.sizeInBytes() == 0) {
                    break;
                }
                for (RecordBatch b : batch.batches()) {
                    if (!b.isControlBatch()) {
                        for (Record r : b) {
                            TxnRecords.Entry entry = TxnRecords.decode(r);
                            if (entry != null) {
                                shard.replay(entry);
                                records++;
                            }
                        }
                    }
                    offset = b.nextOffset();
                }
            }
            if (shard.phase() == TxnShard.Phase.LOADING) {
                shard.activate();
            }
            LOGGER.info("Loaded {} records of {}-{} up to offset {} in {} ms", records, STATE_TOPIC,
                    shard.partition(), offset, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        } catch (RuntimeException e) {
            LOGGER.error("Loading {}-{} failed; it will be retried", STATE_TOPIC, shard.partition(), e);
            shards.remove(shard.partition(), shard);
            shard.unload();
        }
    }

    /** Hands one state record to Raft on the partition's append executor; completes once committed. */
    private CompletableFuture<Void> append(TopicPartition tp, TxnMetadata metadata) {
        MemoryRecords batch = TxnRecords.batch(metadata, now());
        try {
            return CompletableFuture.supplyAsync(() -> broker.append(tp, batch), appends.apply(tp))
                    .thenCompose(appended -> appended)
                    .thenApply(result -> null);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new NotCoordinatorException(tp + " is no longer served here"));
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
            loader.shutdownNow();
        }
        shards.values().forEach(TxnShard::unload);
        shards.clear();
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
