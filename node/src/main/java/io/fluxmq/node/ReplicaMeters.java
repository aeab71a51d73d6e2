package io.fluxmq.node;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.PartitionState;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.TopicRecord;
import io.fluxmq.raft.partition.CommitLatencies;
import io.fluxmq.raft.partition.Partition;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;

/**
 * Gauges of this node's partition replicas and, on the metadata leader, of the whole cluster: partition and leader
 * counts, under-replicated partitions (led here, fewer in-sync replicas than replicas), offline partitions (no
 * leader, or a leader on a node marked DOWN; counted by the active controller only, as in Kafka), and per partition
 * log size, segment count, log start offset, each follower's lag and the commit latency of what it committed as
 * leader, on either partition engine ({@link ReplicaGroups}; the lag is in Raft entries on ratis, in offsets on
 * multiraft, where the segment log is the Raft log). Nothing is
 * computed on the request path: {@link #refresh()} reads the Raft groups and the metadata once per scrape and the
 * gauges report its result. Thread-safe.
 */
final class ReplicaMeters {
    static final String PARTITIONS = "fluxmq.replica.manager.partition.count";
    static final String LEADERS = "fluxmq.replica.manager.leader.count";
    static final String UNDER_REPLICATED = "fluxmq.replica.manager.under.replicated.partitions";
    static final String OFFLINE = "fluxmq.controller.offline.partitions.count";
    static final String ACTIVE_CONTROLLER = "fluxmq.controller.active.controller.count";
    static final String LOG_SIZE = "fluxmq.log.size";
    static final String LOG_SEGMENTS = "fluxmq.log.segments";
    static final String LOG_START = "fluxmq.log.start.offset";
    static final String FOLLOWER_LAG = "fluxmq.raft.follower.lag";
    static final String PARTITION_COMMIT_LATENCY = "fluxmq.raft.partition.commit.latency";

    private final ReplicaGroups groups;
    private final BrokerServices broker;
    private final Supplier<ClusterState> metadata;
    private final BooleanSupplier activeController;
    private final MultiGauge logSize;
    private final MultiGauge logSegments;
    private final MultiGauge logStart;
    private final MultiGauge followerLag;
    private final MeterRegistry registry;
    /** Per local replica its commit timer (count and sum), with the counters it reads: a new replica gets a new one. */
    private final Map<TopicPartition, CommitTimer> commitTimers = new HashMap<>();
    private volatile Counts counts = new Counts(0, 0, 0, 0, 0);

    private record Counts(int partitions, int leaders, int underReplicated, int offline, int activeController) {}

    private record CommitTimer(CommitLatencies of, FunctionTimer timer) {}

    ReplicaMeters(MeterRegistry registry, ReplicaGroups groups, BrokerServices broker, Supplier<ClusterState> metadata,
                  BooleanSupplier activeController) {
        this.groups = groups;
        this.broker = broker;
        this.metadata = metadata;
        this.activeController = activeController;
        this.registry = registry;
        gauge(registry, PARTITIONS, "Partition replicas on this node", c -> c.partitions);
        gauge(registry, LEADERS, "Partitions this node leads", c -> c.leaders);
        gauge(registry, UNDER_REPLICATED, "Partitions led here with fewer in-sync replicas than replicas",
                c -> c.underReplicated);
        gauge(registry, OFFLINE, "Partitions without a leader (reported by the active controller only)",
                c -> c.offline);
        gauge(registry, ACTIVE_CONTROLLER, "1 on the node that leads the metadata group", c -> c.activeController);
        logSize = MultiGauge.builder(LOG_SIZE).baseUnit("bytes").description("Bytes of the partition's segments")
                .register(registry);
        logSegments = MultiGauge.builder(LOG_SEGMENTS).description("Segments of the partition's log")
                .register(registry);
        logStart = MultiGauge.builder(LOG_START).description("The partition's log start offset on this replica")
                .register(registry);
        followerLag = MultiGauge.builder(FOLLOWER_LAG).baseUnit("entries")
                .description("Raft entries (on multiraft: offsets) a follower's log trails the leader's (on the leader)")
                .register(registry);
    }

    private interface CountOf {
        int of(Counts c);
    }

    private void gauge(MeterRegistry registry, String name, String description, CountOf value) {
        Gauge.builder(name, this, m -> value.of(m.counts)).description(description).strongReference(true)
                .register(registry);
    }

    /** Recomputes every gauge from the current Raft groups and metadata; called before each scrape. */
    synchronized void refresh() {
        List<MultiGauge.Row<?>> sizes = new ArrayList<>();
        List<MultiGauge.Row<?>> segments = new ArrayList<>();
        List<MultiGauge.Row<?>> starts = new ArrayList<>();
        List<MultiGauge.Row<?>> lags = new ArrayList<>();
        int partitions = 0;
        int leaders = 0;
        int underReplicated = 0;
        Set<TopicPartition> timed = new HashSet<>();
        for (TopicPartition tp : groups.localPartitions()) {
            Partition replica = groups.replica(tp);
            if (replica == null) {
                continue; // removed meanwhile
            }
            partitions++;
            Tags tags = Tags.of("topic", tp.topic(), "partition", Integer.toString(tp.partition()));
            commitTimer(tp, tags, replica.commitLatencies());
            timed.add(tp);
            sizes.add(MultiGauge.Row.of(tags, replica.logSizeBytes()));
            segments.add(MultiGauge.Row.of(tags, replica.logSegmentCount()));
            starts.add(MultiGauge.Row.of(tags, replica.logStartOffset()));
            if (!replica.isLeader()) {
                continue;
            }
            leaders++;
            groups.followerLag(tp).forEach((node, entries) ->
                    lags.add(MultiGauge.Row.of(tags.and("follower", node.toString()), entries)));
            PartitionState state = broker.partitionState(tp);
            if (state.isr().size() < state.replicas().size()) {
                underReplicated++;
            }
        }
        boolean controller = activeController.getAsBoolean();
        counts = new Counts(partitions, leaders, underReplicated, controller ? offlinePartitions() : 0,
                controller ? 1 : 0);
        logSize.register(sizes, true);
        logSegments.register(segments, true);
        logStart.register(starts, true);
        followerLag.register(lags, true);
        commitTimers.entrySet().removeIf(e -> {
            if (timed.contains(e.getKey())) {
                return false;
            }
            registry.remove(e.getValue().timer());
            return true;
        });
    }

    /**
     * The replica's commit timer: its count and sum are the batches it committed as leader and their time from proposal
     * to commit, so {@code rate(_sum) / rate(_count)} is a partition's mean commit latency over any window (the node-wide
     * {@link NodeMetrics#COMMIT_LATENCY} has the quantiles). A replica opened again here starts a new one.
     */
    private void commitTimer(TopicPartition tp, Tags tags, CommitLatencies latencies) {
        CommitTimer current = commitTimers.get(tp);
        if (current != null && current.of() == latencies) {
            return;
        }
        if (current != null) {
            registry.remove(current.timer());
        }
        FunctionTimer timer = FunctionTimer.builder(PARTITION_COMMIT_LATENCY, latencies, CommitLatencies::count,
                        CommitLatencies::totalNanos, TimeUnit.NANOSECONDS)
                .tags(tags).description("Batches the partition committed as leader here, and their time from proposal "
                        + "to commit").register(registry);
        commitTimers.put(tp, new CommitTimer(latencies, timer));
    }

    /** Partitions of every topic whose leader is unknown or on a node the controller marked DOWN. */
    private int offlinePartitions() {
        ClusterState state = metadata.get();
        Set<Integer> down = state.downNodes();
        int offline = 0;
        for (TopicRecord topic : state.topics().values()) {
            for (int p = 0; p < topic.partitions(); p++) {
                int leader = broker.partitionState(new TopicPartition(topic.name(), p)).leader();
                if (leader < 0 || down.contains(leader)) {
                    offline++;
                }
            }
        }
        return offline;
    }
}
