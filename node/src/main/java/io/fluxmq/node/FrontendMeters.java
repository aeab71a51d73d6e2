package io.fluxmq.node;

import io.fluxmq.kafka.metrics.FrontendMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * The Kafka frontend's metrics as Micrometer meters (names in docs/operations.md, Metrics): one timer per API key
 * ({@code fluxmq.request}, tag {@code request} = Kafka's request name, p50 and p99 published), connection gauges and
 * counters per listener, and bytes/records in and out per topic. Meters are created on first use and then found
 * without a lock (an array slot per API key, a concurrent map per topic), so recording costs a few atomic adds.
 * Thread-safe.
 */
final class FrontendMeters implements FrontendMetrics {
    static final String REQUEST = "fluxmq.request";
    static final String BYTES_IN = "fluxmq.broker.topic.bytes.in";
    static final String MESSAGES_IN = "fluxmq.broker.topic.messages.in";
    static final String BYTES_OUT = "fluxmq.broker.topic.bytes.out";
    static final String MESSAGES_OUT = "fluxmq.broker.topic.messages.out";
    static final String CONNECTIONS = "fluxmq.socket.server.connections";
    static final String CONNECTIONS_ACCEPTED = "fluxmq.socket.server.connections.accepted";

    private final MeterRegistry registry;
    /** By {@link ApiKeys#ordinal()}; a slot is filled on first use (a racing second fill finds the same meter). */
    private final Timer[] requests = new Timer[ApiKeys.values().length];
    private final Map<String, Topic> topics = new ConcurrentHashMap<>();
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();

    FrontendMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void requestDone(ApiKeys api, long nanos) {
        Timer timer = requests[api.ordinal()];
        if (timer == null) {
            timer = Timer.builder(REQUEST)
                    .description("Time from reading a Kafka request to its handler's answer")
                    .tag("request", api.name)
                    .publishPercentiles(0.5, 0.99)
                    .percentilePrecision(2)
                    .register(registry);
            requests[api.ordinal()] = timer;
        }
        timer.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void connectionOpened(String listener) {
        Listener l = listeners.computeIfAbsent(listener, this::newListener);
        l.open.incrementAndGet();
        l.created.increment();
    }

    @Override
    public void connectionClosed(String listener) {
        listeners.computeIfAbsent(listener, this::newListener).open.decrementAndGet();
    }

    @Override
    public TopicMeters topic(String topic) {
        Topic meters = topics.get(topic);
        return meters != null ? meters : topics.computeIfAbsent(topic, this::newTopic);
    }

    /** Removes the meters of topics not in {@code existing} (deleted topics), so their series end. */
    void retainTopics(Set<String> existing) {
        for (Topic t : topics.values()) {
            if (!existing.contains(t.name) && topics.remove(t.name, t)) {
                registry.remove(t.bytesIn);
                registry.remove(t.messagesIn);
                registry.remove(t.bytesOut);
                registry.remove(t.messagesOut);
            }
        }
    }

    private Listener newListener(String name) {
        AtomicInteger open = new AtomicInteger();
        Gauge.builder(CONNECTIONS, open, AtomicInteger::get).description("Open client connections")
                .tag("listener", name).strongReference(true).register(registry);
        Counter created = Counter.builder(CONNECTIONS_ACCEPTED).description("Client connections accepted")
                .tag("listener", name).register(registry);
        return new Listener(open, created);
    }

    private Topic newTopic(String name) {
        return new Topic(name,
                counter(BYTES_IN, name, "Bytes of record batches appended and committed by this node as leader"),
                counter(MESSAGES_IN, name, "Records appended and committed by this node as leader"),
                counter(BYTES_OUT, name, "Bytes of record batches sent to consumers"),
                counter(MESSAGES_OUT, name, "Records in the batches sent to consumers"));
    }

    private Counter counter(String name, String topic, String description) {
        return Counter.builder(name).description(description).tag("topic", topic).register(registry);
    }

    private record Listener(AtomicInteger open, Counter created) {}

    private record Topic(String name, Counter bytesIn, Counter messagesIn, Counter bytesOut, Counter messagesOut)
            implements TopicMeters {
        @Override
        public void produced(int bytes, int records) {
            bytesIn.increment(bytes);
            messagesIn.increment(records);
        }

        @Override
        public void fetched(int bytes, int records) {
            bytesOut.increment(bytes);
            messagesOut.increment(records);
        }
    }
}
