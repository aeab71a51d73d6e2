package io.fluxmq.node;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.metadata.ClusterState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.distribution.pause.NoPauseDetector;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The node's metrics (Micrometer, exposed in Prometheus text format by {@code GET /metrics}; every name in
 * docs/operations.md, Metrics): the Kafka frontend's ({@link FrontendMeters}), the replicas' ({@link ReplicaMeters},
 * bound once the broker exists), Raft commit latency and leader elections, and the JVM's. Every series carries the
 * tag {@code node} (the node id). Thread-safe.
 */
final class NodeMetrics implements AutoCloseable {
    static final String COMMIT_LATENCY = "fluxmq.raft.commit.latency";
    static final String ELECTIONS = "fluxmq.raft.leader.elections";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final FrontendMeters frontend;
    private final Timer commitLatency;
    private final Counter elections;
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private volatile ReplicaMeters replicas;

    NodeMetrics(int nodeId) {
        // no LatencyUtils pause-detector thread: a GC pause shows in the JVM metrics instead
        registry.config().pauseDetector(new NoPauseDetector()).commonTags("node", Integer.toString(nodeId));
        frontend = new FrontendMeters(registry);
        commitLatency = Timer.builder(COMMIT_LATENCY)
                .description("On the leader: time from submitting a batch to Raft until it is committed and applied")
                .publishPercentiles(0.5, 0.99)
                .percentilePrecision(2)
                .register(registry);
        elections = Counter.builder(ELECTIONS)
                .description("Partition leaderships this node took (elections won, leadership transfers received)")
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** What the Kafka frontend reports into. */
    FrontendMeters frontend() {
        return frontend;
    }

    /** Takes each committed batch's Raft commit latency in nanoseconds ({@link RaftNode#setCommitLatencyRecorder}). */
    LongConsumer commitLatency() {
        return nanos -> commitLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** This node became the ready leader of a partition. */
    void leaderElected() {
        elections.increment();
    }

    /** Binds the replica and cluster gauges once the Raft node, metadata and broker services run. */
    void bindReplicas(ReplicaGroups groups, BrokerServices broker, Supplier<ClusterState> metadata,
                      BooleanSupplier activeController) {
        replicas = new ReplicaMeters(registry, groups, broker, metadata, activeController);
    }

    /** Removes the per-topic meters of topics that no longer exist (called on every metadata change). */
    void onMetadata(ClusterState state) {
        frontend.retainTopics(state.topics().keySet());
    }

    /** The exposition of every meter, replica gauges refreshed first, in {@code contentType} ({@link #contentType}). */
    byte[] scrape(String contentType) {
        ReplicaMeters r = replicas;
        if (r != null) {
            r.refresh();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        try {
            registry.scrape(out, contentType);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    /** The format {@link #scrape} writes for an HTTP {@code Accept} header: OpenMetrics if asked for, else text 0.0.4. */
    static String contentType(String accept) {
        return accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS : PROMETHEUS_TEXT;
    }

    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    PrometheusMeterRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
