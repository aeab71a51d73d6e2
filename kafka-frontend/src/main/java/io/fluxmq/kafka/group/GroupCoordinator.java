package io.fluxmq.kafka.group;

import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.raft.partition.Partition;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group coordinator of this node. Group {@code g} lives in partition {@code abs(hash(g)) % N} of
 * {@code __consumer_offsets}; this node coordinates it while it leads that partition. A timer thread polls
 * leadership every {@value #TICK_MS} ms: a partition newly led (or led in a new epoch) gets a {@link GroupShard}
 * that a loader thread fills by replaying the partition from its start; a partition no longer led is unloaded.
 * The same tick fires session and rebalance timeouts and offset expiry, with time from the injected clock.
 *
 * <p>Handlers reach a group through {@link #route}, which answers NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS or
 * COORDINATOR_NOT_AVAILABLE as Kafka does. Group and offset records are handed to Raft on the partition's append
 * executor, as produce does, never on the caller's thread: handlers run on Netty event loops, and a Raft submit can
 * block (a leader stepping down, a busy log). Thread-safe.
 */
public final class GroupCoordinator implements AutoCloseable {
    public static final String OFFSETS_TOPIC = Topic.GROUP_METADATA_TOPIC_NAME;
    static final long TICK_MS = 100;
    private static final Logger LOGGER = LoggerFactory.getLogger(GroupCoordinator.class);
    private static final int LOAD_READ_BYTES = 1 << 20;
    /** Reads to the high watermark a load may take before it gives up (it only grows by transaction markers). */
    private static final int MAX_LOAD_ROUNDS = 1000;

    private final BrokerServices broker;
    private final GroupConfig config;
    private final LongSupplier clock;
    private final TopicLookup topics;
    private final Function<TopicPartition, Executor> appends;
    private final Map<Integer, GroupShard> shards = new ConcurrentHashMap<>();
    private final AtomicBoolean creatingTopic = new AtomicBoolean();
    private ScheduledExecutorService timer;
    private ExecutorService loader;

    /**
     * @param appends the single-thread executor that submits a partition's appends to Raft (the one produce uses, so
     *                writes to a partition keep their order); records are never submitted on the caller's thread
     */
    public GroupCoordinator(BrokerServices broker, GroupConfig config, LongSupplier clock,
                            Function<TopicPartition, Executor> appends) {
        this.broker = broker;
        this.config = config;
        this.clock = clock;
        this.topics = new BrokerTopics(broker);
        this.appends = appends;
    }

    /** The node's access check, which the group APIs ask as Kafka's do. */
    public Authorization authorization() {
        return broker.authorization();
    }

    /** Starts the timer (which also creates the offsets topic when it is missing). */
    public void start() {
        timer = Executors.newSingleThreadScheduledExecutor(daemon("fluxmq-group-timer"));
        loader = Executors.newSingleThreadExecutor(daemon("fluxmq-group-loader"));
        timer.scheduleWithFixedDelay(this::tickSafely, 0, TICK_MS, TimeUnit.MILLISECONDS);
    }

    public GroupConfig config() {
        return config;
    }

    public TopicLookup topics() {
        return topics;
    }

    public long now() {
        return clock.getAsLong();
    }

    /** How a group id resolves on this node: the shard that serves it, or the error to answer. */
    public sealed interface Route permits Route.Served, Route.Refused {
        /** Served here by {@code shard}. */
        record Served(GroupShard shard) implements Route {}

        record Refused(Errors error) implements Route {}
    }

    public Route route(String groupId) {
        if (groupId == null || groupId.isEmpty()) {
            return new Route.Refused(Errors.INVALID_GROUP_ID);
        }
        Optional<TopicInfo> topic = broker.topic(OFFSETS_TOPIC);
        if (topic.isEmpty()) {
            return new Route.Refused(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        GroupShard shard = shards.get(partitionFor(groupId, topic.get().partitions()));
        if (shard == null) {
            return new Route.Refused(Errors.NOT_COORDINATOR);
        }
        return switch (shard.phase()) {
            case LOADING -> new Route.Refused(Errors.COORDINATOR_LOAD_IN_PROGRESS);
            case UNLOADED -> new Route.Refused(Errors.NOT_COORDINATOR);
            case ACTIVE -> new Route.Served(shard);
        };
    }

    public static int partitionFor(String groupId, int partitions) {
        return Utils.abs(groupId.hashCode()) % partitions;
    }

    /** The coordinator of a group as FindCoordinator reports it. */
    public record Coordinator(Errors error, BrokerEndpoint endpoint) {}

    public Coordinator findCoordinator(String groupId, String listener) {
        Optional<TopicInfo> topic = broker.topic(OFFSETS_TOPIC);
        if (topic.isEmpty()) {
            return new Coordinator(Errors.COORDINATOR_NOT_AVAILABLE, null);
        }
        TopicPartition tp = new TopicPartition(OFFSETS_TOPIC, partitionFor(groupId, topic.get().partitions()));
        int leader = broker.partitionState(tp).leader();
        if (leader < 0) {
            return new Coordinator(Errors.COORDINATOR_NOT_AVAILABLE, null);
        }
        return broker.brokers(listener).stream().filter(b -> b.nodeId() == leader).findFirst()
                .map(b -> new Coordinator(Errors.NONE, b))
                .orElse(new Coordinator(Errors.COORDINATOR_NOT_AVAILABLE, null));
    }

    /** Every group this node coordinates; LOAD_IN_PROGRESS while some shard still loads. */
    public record Listing(Errors error, List<GroupListing> groups) {}

    public Listing listGroups() {
        List<GroupListing> out = new ArrayList<>();
        Errors error = Errors.NONE;
        for (GroupShard shard : shards.values()) {
            switch (shard.phase()) {
                case ACTIVE -> out.addAll(shard.listings());
                case LOADING -> error = Errors.COORDINATOR_LOAD_IN_PROGRESS;
                case UNLOADED -> {
                }
            }
        }
        return new Listing(error, out);
    }

    /** Lower-case form of a state name, for ListGroups' case-insensitive filter. */
    public static String normalize(String state) {
        return state.toLowerCase(Locale.ROOT);
    }

    // ---------------------------------------------------------------- time and leadership

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            LOGGER.error("Group coordinator tick failed", e);
        }
    }

    void tick() {
        Optional<TopicInfo> topic = broker.topic(OFFSETS_TOPIC);
        if (topic.isEmpty()) {
            maybeCreateTopic();
            return;
        }
        for (int p = 0; p < topic.get().partitions(); p++) {
            TopicPartition tp = new TopicPartition(OFFSETS_TOPIC, p);
            Partition replica = broker.replica(tp);
            boolean leading = replica != null && replica.isLeader();
            GroupShard shard = shards.get(p);
            if (leading && (shard == null || shard.leaderEpoch() != replica.leaderEpoch())) {
                if (shard != null) {
                    shard.unload();
                }
                GroupShard fresh = newShard(p, replica.leaderEpoch());
                install(fresh);
                loader.execute(() -> load(fresh, replica));
            } else if (!leading && shard != null) {
                shards.remove(p);
                shard.unload();
                LOGGER.info("No longer coordinating groups of {}", tp);
            }
        }
        long now = now();
        for (GroupShard shard : shards.values()) {
            shard.tick(now);
        }
    }

    /** A loading shard for an offsets partition this node leads in {@code leaderEpoch}, writing through Raft. */
    GroupShard newShard(int partition, int leaderEpoch) {
        TopicPartition tp = new TopicPartition(OFFSETS_TOPIC, partition);
        return new GroupShard(partition, leaderEpoch, config, topics, entries -> append(tp, entries));
    }

    /** Makes {@code shard} the one serving its partition (loading until it is activated). */
    void install(GroupShard shard) {
        shards.put(shard.partition(), shard);
    }

    private void maybeCreateTopic() {
        if (broker.controllerId() != broker.nodeId() || !creatingTopic.compareAndSet(false, true)) {
            return;
        }
        // compacted, as Kafka's internal topics: a load reads each key's latest record, not every record ever written
        Map<String, String> configs = Map.of("cleanup.policy", "compact",
                "segment.bytes", Integer.toString(config.offsetsTopicSegmentBytes()));
        broker.createTopic(OFFSETS_TOPIC, config.offsetsTopicPartitions(), config.offsetsTopicReplicationFactor(),
                configs, false).whenComplete((info, failure) -> {
                    if (failure != null && KafkaErrors.of(failure) != Errors.TOPIC_ALREADY_EXISTS) {
                        LOGGER.warn("Could not create {}: {}", OFFSETS_TOPIC, KafkaErrors.message(failure));
                    } else if (failure == null) {
                        LOGGER.info("Created {} with {} partitions", OFFSETS_TOPIC, info.partitions());
                    }
                    creatingTopic.set(false);
                });
    }

    /** Replays the partition from its log start to the high watermark into the shard, then activates it. */
    private void load(GroupShard shard, Partition replica) {
        long started = System.nanoTime();
        try {
            long offset = replica.logStartOffset();
            int[] records = {0};
            int rounds = 0;
            while (shard.phase() == GroupShard.Phase.LOADING
                    && !shard.activateIfCaughtUp(offset, replica::highWatermark)) {
                if (++rounds > MAX_LOAD_ROUNDS) {
                    throw new IllegalStateException("the partition kept growing while it was loaded");
                }
                offset = replay(shard, replica, offset, replica.highWatermark(), records);
            }
            LOGGER.info("Loaded {} records of {}-{} up to offset {} in {} ms", records[0], OFFSETS_TOPIC,
                    shard.partition(), offset, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        } catch (RuntimeException e) {
            LOGGER.error("Loading {}-{} failed; it will be retried", OFFSETS_TOPIC, shard.partition(), e);
            shards.remove(shard.partition(), shard);
            shard.unload();
        }
    }

    /** Replays [offset, end) into the loading shard; returns where it stopped; counts records into records[0]. */
    private static long replay(GroupShard shard, Partition replica, long offset, long end, int[] records) {
        while (offset < end && shard.phase() == GroupShard.Phase.LOADING) {
            MemoryRecords batch = replica.read(offset, LOAD_READ_BYTES, true);
            if (batch.sizeInBytes() == 0) {
                break;
            }
            for (RecordBatch b : batch.batches()) {
                if (b.isControlBatch() && !b.isTransactional()) {
                    // a Raft control batch (leader change, voters) of the multi-Raft engine: not group state
                } else if (b.isControlBatch()) { // a transaction marker: pending transactional offsets apply or drop
                    Iterator<Record> marker = b.iterator();
                    if (marker.hasNext()) {
                        shard.replayMarker(b.producerId(),
                                ControlRecordType.parse(marker.next().key()) == ControlRecordType.COMMIT);
                    }
                } else {
                    for (Record r : b) {
                        GroupRecords.Entry entry = GroupRecords.decode(r);
                        if (entry != null) {
                            shard.replay(entry);
                            records[0]++;
                        }
                    }
                }
                offset = b.nextOffset();
            }
        }
        return offset;
    }

    /**
     * A transaction marker of {@code producerId} was written to offsets partition {@code partition} (on this node, its
     * leader): the producer's pending transactional offsets take effect on COMMIT or are dropped on ABORT. A marker
     * written while the shard still loads is found by the load itself, which activates the shard only once it read
     * up to the high watermark, checked under the shard's lock ({@code GroupShard.activateIfCaughtUp}).
     */
    public void onTransactionMarker(int partition, long producerId, boolean commit) {
        GroupShard shard = shards.get(partition);
        if (shard != null) {
            shard.completeTransaction(producerId, commit);
        }
    }

    /** TxnOffsetCommit for a group served here: see {@link GroupShard#txnCommit}. */
    public CompletableFuture<Errors> txnCommit(String groupId, long producerId, String memberId, String instanceId,
                                               int generation, Map<TopicPartition, CommittedOffset> commits) {
        Route route = route(groupId);
        if (route instanceof Route.Refused refused) {
            return CompletableFuture.completedFuture(refused.error());
        }
        return ((Route.Served) route).shard().txnCommit(groupId, producerId, memberId, instanceId, generation,
                commits, now()).exceptionally(KafkaErrors::ofCoordinatorWrite);
    }

    /**
     * Hands the entries to Raft on the partition's append executor; the caller (an event loop, or a thread holding the
     * shard's lock) never waits for the submit. Completes once the batch is committed.
     */
    private CompletableFuture<Void> append(TopicPartition tp, List<GroupRecords.Entry> entries) {
        MemoryRecords batch = GroupRecords.batch(entries, now());
        try {
            return CompletableFuture.supplyAsync(() -> broker.append(tp, batch), appends.apply(tp))
                    .thenCompose(appended -> appended)
                    .thenApply(result -> null);
        } catch (RejectedExecutionException e) { // the node is shutting down
            return CompletableFuture.failedFuture(new NotCoordinatorException(tp + " is no longer served by this node"));
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
            loader.shutdownNow();
        }
        shards.values().forEach(GroupShard::unload);
        shards.clear();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** {@link TopicLookup} over the node's metadata. */
    private record BrokerTopics(BrokerServices broker) implements TopicLookup {
        @Override
        public Optional<Topic> byName(String name) {
            return broker.topic(name).map(BrokerTopics::of);
        }

        @Override
        public Optional<Topic> byId(Uuid id) {
            return broker.topic(id).map(BrokerTopics::of);
        }

        @Override
        public Collection<Topic> all() {
            return broker.topics().stream().map(BrokerTopics::of).toList();
        }

        private static Topic of(TopicInfo t) {
            return new Topic(t.name(), t.topicId(), t.partitions(), t.internal());
        }
    }
}
