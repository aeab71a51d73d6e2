package io.fluxmq.kafka.quota;

import io.fluxmq.kafka.server.RequestContext;
import java.net.InetAddress;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.stats.Rate;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.utils.Time;

/**
 * This node's enforcement of client byte-rate and request-time quotas, as Kafka's {@code ClientQuotaManager} and
 * {@code ClientRequestQuotaManager} with its default quota
 * callback. The quotas come from cluster metadata ({@link #update}); a request is charged to the most specific entity
 * that has a quota of its type, in Kafka's order: user + client-id, user + default client-id, user, default user +
 * client-id, default user + default client-id, default user, client-id, default client-id. A default component stands
 * for each user or client id on its own: {@code clients/<default>} bounds every client id separately, while a
 * {@code users/alice} quota is shared by all of alice's client ids. Each charged entity has a windowed rate (Kafka's
 * {@link Rate}, {@link ClientQuotaConfig}); a value that takes it over the bound gets the throttle time Kafka computes
 * ({@code (rate - bound) / bound * window}), which the handler puts in its response's {@code throttle_time_ms} and for
 * which the connection stops reading ({@link RequestContext#throttle}). Rates exist on each node for the requests that
 * node serves, as in Kafka. Thread-safe: quotas are swapped whole, each rate is updated under its own lock; rates idle
 * for an hour are dropped.
 */
public final class ClientQuotaManager {
    /** A manager without quotas (tests, brokers without metadata): never throttles. */
    public static final ClientQuotaManager NONE = new ClientQuotaManager(ClientQuotaConfig.DEFAULTS, Time.SYSTEM);

    private static final long IDLE_EXPIRY_MS = TimeUnit.HOURS.toMillis(1); // Kafka's inactive quota sensor expiry
    private static final long SWEEP_INTERVAL_MS = TimeUnit.MINUTES.toMillis(1);
    /** A nanosecond of one thread's time in percent-seconds: a rate of these is a share of the thread in percent. */
    private static final double PERCENT_PER_NANO = 100.0 / TimeUnit.SECONDS.toNanos(1);

    private final MetricConfig metricConfig;
    private final ClientQuotaConfig config;
    private final Time time;
    private volatile Map<ClientQuotaEntity, Map<String, Double>> source = Map.of();
    private volatile Map<QuotaType, Map<Key, Double>> bounds = Map.of();
    /** {@code connection_creation_rate} per IP address (a null name: the default IP entity). */
    private volatile Map<Part, Double> ipBounds = Map.of();
    private final Map<RateKey, WindowedRate> rates = new ConcurrentHashMap<>();
    private final Map<RateKey, TokenBucket> buckets = new ConcurrentHashMap<>();
    private volatile long nextSweepMs;

    public ClientQuotaManager(ClientQuotaConfig config, Time time) {
        this.config = config;
        this.time = time;
        this.metricConfig = new MetricConfig().samples(config.windowNum())
                .timeWindow(config.windowSizeSeconds(), TimeUnit.SECONDS);
    }

    /** One component of a quota entity: a name, or (null) the default entity. */
    private record Part(String name) {
    }

    /** A user + client-id quota entity; a null part is absent from the entity. */
    private record Key(Part user, Part clientId) {
    }

    /** What a rate is kept for: Kafka's quota metric tags (an empty string for an absent tag). */
    private record RateKey(QuotaType type, String user, String clientId) {
    }

    private static final class WindowedRate {
        final Rate rate = new Rate();
        volatile long lastRecordMs;
    }

    /**
     * Takes the quotas of cluster metadata; does nothing when given the map it already has (metadata keeps the same
     * map until the quotas change). IP entities give {@code connection_creation_rate} ({@link #recordConnection}).
     */
    public void update(Map<ClientQuotaEntity, Map<String, Double>> quotas) {
        if (quotas == source) {
            return;
        }
        Map<QuotaType, Map<Key, Double>> next = new EnumMap<>(QuotaType.class);
        for (QuotaType type : QuotaType.values()) {
            next.put(type, new HashMap<>());
        }
        Map<Part, Double> ips = new HashMap<>();
        for (Map.Entry<ClientQuotaEntity, Map<String, Double>> e : quotas.entrySet()) {
            Map<String, String> entries = e.getKey().entries();
            if (entries.containsKey(ClientQuotaEntity.IP)) {
                Double bound = e.getValue().get(QuotaType.CONNECTION_CREATION.key());
                if (bound != null) {
                    ips.put(new Part(address(entries.get(ClientQuotaEntity.IP))), bound);
                }
                continue;
            }
            Key key = new Key(entries.containsKey(ClientQuotaEntity.USER)
                    ? new Part(entries.get(ClientQuotaEntity.USER)) : null,
                    entries.containsKey(ClientQuotaEntity.CLIENT_ID)
                            ? new Part(entries.get(ClientQuotaEntity.CLIENT_ID)) : null);
            for (QuotaType type : QuotaType.values()) {
                Double bound = e.getValue().get(type.key());
                if (bound != null) {
                    next.get(type).put(key, bound);
                }
            }
        }
        next.replaceAll((type, m) -> Map.copyOf(m));
        bounds = next;
        ipBounds = Map.copyOf(ips);
        source = quotas;
    }

    /** Whether some entity has a quota of {@code type} (if not, nothing is recorded). */
    public boolean enabled(QuotaType type) {
        Map<Key, Double> b = bounds.get(type);
        return b != null && !b.isEmpty();
    }

    /**
     * Charges {@code value} (bytes) to the request's quota entity and, when that takes its rate over the bound, mutes
     * the request's connection for the throttle time; returns it (0 when not throttled or without a quota).
     */
    public int recordAndThrottle(QuotaType type, RequestContext context, double value) {
        int throttleMs = recordAndGetThrottleTimeMs(type, context.principal(), context.header().clientId(), value,
                time.milliseconds());
        if (throttleMs > 0) {
            context.throttle(throttleMs);
        }
        return throttleMs;
    }

    /**
     * Charges {@code nanos} of request handling to the request's entity under its {@code request_percentage} quota
     * (Kafka's {@code ClientRequestQuotaManager}: the time counts in percent of one thread, so a rate of 100 is one
     * thread busy all the time) and, over the bound, mutes the connection; returns the throttle time, at most one quota
     * window as in Kafka (0 when not throttled or without such a quota).
     */
    public int recordRequestTime(RequestContext context, long nanos) {
        if (!enabled(QuotaType.REQUEST)) {
            return 0;
        }
        int throttleMs = recordAndGetThrottleTimeMs(QuotaType.REQUEST, context.principal(),
                context.header().clientId(), nanos * PERCENT_PER_NANO, time.milliseconds());
        throttleMs = (int) Math.min(throttleMs, TimeUnit.SECONDS.toMillis(config.windowSizeSeconds()));
        if (throttleMs > 0) {
            context.throttle(throttleMs);
        }
        return throttleMs;
    }

    /**
     * Records a new connection from {@code address} under its {@code connection_creation_rate} (the address's own ip
     * entity, else the default ip entity) and returns the time in milliseconds until that rate is back at the bound: 0
     * to serve the connection; more (at most the quota window), and it is to be closed after that time without being
     * served (Kafka's {@code ConnectionQuotas}: a throttled connection is closed after its throttle time, so a client
     * does not reconnect at once).
     */
    public int recordConnection(InetAddress address) {
        return recordConnection(address, time.milliseconds());
    }

    int recordConnection(InetAddress address, long nowMs) {
        Map<Part, Double> ips = ipBounds;
        if (ips.isEmpty()) {
            return 0;
        }
        String ip = address.getHostAddress();
        Double bound = ips.get(new Part(ip));
        if (bound == null) {
            bound = ips.get(new Part(null));
        }
        if (bound == null) {
            return 0;
        }
        // at most the quota window: a burst of connections holds sockets for a bounded time
        long windowMs = TimeUnit.SECONDS.toMillis((long) config.windowNum() * config.windowSizeSeconds());
        return (int) Math.min(windowMs, record(new RateKey(QuotaType.CONNECTION_CREATION, ip, ""), bound, 1, nowMs));
    }

    /**
     * An ip entity's name as connections' addresses print ({@link InetAddress#getHostAddress}): a literal in its
     * canonical form, a host name resolved (as Kafka's {@code ConnectionQuotas} does; AlterClientQuotas accepted it
     * because it resolved), or the name as given when it no longer resolves; null (the default entity) as is.
     */
    private static String address(String name) {
        if (name == null) {
            return null;
        }
        try {
            return InetAddress.getByName(name).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            return name;
        }
    }

    /** Whether some IP address has a {@code connection_creation_rate}. */
    public boolean limitsConnections() {
        return !ipBounds.isEmpty();
    }

    /** What charging partition mutations to a quota entity decided: go ahead or not, and the throttle time. */
    public record MutationCharge(boolean allowed, int throttleMs) {
        static final MutationCharge FREE = new MutationCharge(true, 0);
    }

    /**
     * Charges {@code partitions} created or deleted to the request's entity under its {@code controller_mutation_rate}
     * quota, Kafka's token bucket ({@code ControllerMutationQuotaManager}): the bucket holds at most the rate times
     * the quota window ({@code quota.window.num} x {@code quota.window.size.seconds}), refills at the rate, and a
     * mutation takes its partitions from it even when that leaves it below zero. {@code strict} (CreateTopics v6+,
     * CreatePartitions v3+, DeleteTopics v5+): while the bucket is below zero a mutation is refused, with the time
     * until it is back at zero; otherwise it goes ahead with throttle time 0. Not strict (older versions, whose clients
     * know no THROTTLING_QUOTA_EXCEEDED): it always goes ahead, throttled by the time the bucket needs to get back to
     * zero. Without a quota: allowed, 0.
     */
    public MutationCharge chargeMutations(RequestContext context, double partitions, boolean strict) {
        return chargeMutations(context.principal(), context.header().clientId(), partitions, strict,
                time.milliseconds());
    }

    MutationCharge chargeMutations(KafkaPrincipal principal, String clientId, double partitions, boolean strict,
                                   long nowMs) {
        Map<Key, Double> b = bounds.get(QuotaType.CONTROLLER_MUTATION);
        if (b == null || b.isEmpty()) {
            return MutationCharge.FREE;
        }
        RateKey tags = tags(QuotaType.CONTROLLER_MUTATION, b, principal.getName(), clientId == null ? "" : clientId);
        Double bound = bound(b, tags);
        if (bound == null) {
            return MutationCharge.FREE;
        }
        sweep(nowMs);
        double burst = bound * config.windowNum() * config.windowSizeSeconds();
        TokenBucket bucket = buckets.computeIfAbsent(tags, t -> new TokenBucket(burst, nowMs));
        synchronized (bucket) {
            bucket.refill(bound, burst, nowMs);
            if (strict && bucket.tokens < 0) {
                return new MutationCharge(false, millisToRefill(-bucket.tokens, bound));
            }
            bucket.tokens -= partitions;
            return new MutationCharge(true, strict || bucket.tokens >= 0 ? 0 : millisToRefill(-bucket.tokens, bound));
        }
    }

    private static int millisToRefill(double missing, double rate) {
        return (int) Math.min(Integer.MAX_VALUE, Math.ceil(missing / rate * 1000));
    }

    /** Tokens (partitions) of one entity's mutation quota; guarded by itself. */
    private static final class TokenBucket {
        double tokens;
        volatile long lastMs;

        TokenBucket(double tokens, long nowMs) {
            this.tokens = tokens;
            this.lastMs = nowMs;
        }

        void refill(double rate, double burst, long nowMs) {
            if (nowMs > lastMs) {
                tokens = Math.min(burst, tokens + rate * (nowMs - lastMs) / 1000.0);
                lastMs = nowMs;
            }
        }
    }

    /**
     * Records that the user of {@code principal} with {@code clientId} used {@code value} at {@code nowMs}; returns
     * the time in milliseconds until the rate of its quota entity is back at the bound (0 without a violation or
     * without a quota). Kafka's {@code ClientQuotaManager.recordAndGetThrottleTimeMs}.
     */
    public int recordAndGetThrottleTimeMs(QuotaType type, KafkaPrincipal principal, String clientId, double value,
                                          long nowMs) {
        Map<Key, Double> b = bounds.get(type);
        if (b == null || b.isEmpty()) {
            return 0;
        }
        String user = principal.getName();
        String client = clientId == null ? "" : clientId;
        RateKey tags = tags(type, b, user, client);
        Double bound = bound(b, tags);
        if (bound == null) {
            return 0;
        }
        return (int) Math.min(Integer.MAX_VALUE, record(tags, bound, value, nowMs));
    }

    /**
     * Records {@code value} in the windowed rate of {@code tags}; returns Kafka's throttle time in milliseconds,
     * {@code (rate - bound) / bound * window}, or 0 while the rate is within {@code bound}.
     */
    private long record(RateKey tags, double bound, double value, long nowMs) {
        sweep(nowMs);
        WindowedRate r = rates.computeIfAbsent(tags, t -> new WindowedRate());
        double rate;
        long window;
        synchronized (r) {
            r.lastRecordMs = nowMs;
            r.rate.record(metricConfig, value, nowMs);
            rate = r.rate.measure(metricConfig, nowMs);
            if (rate <= bound) {
                return 0;
            }
            window = r.rate.windowSize(metricConfig, nowMs);
        }
        return Math.round((rate - bound) / bound * window);
    }

    /**
     * The most a request may take without being throttled even with nothing recorded before: the bound times the
     * shortest window ({@code windowNum - 1} samples); {@link Double#MAX_VALUE} without a quota. Kafka's
     * {@code getMaxValueInQuotaWindow}.
     */
    public double maxValueInQuotaWindow(QuotaType type, KafkaPrincipal principal, String clientId) {
        Map<Key, Double> b = bounds.get(type);
        if (b == null || b.isEmpty()) {
            return Double.MAX_VALUE;
        }
        Double bound = bound(b, tags(type, b, principal.getName(), clientId == null ? "" : clientId));
        return bound == null ? Double.MAX_VALUE
                : bound * (config.windowNum() - 1) * config.windowSizeSeconds();
    }

    /** Kafka's {@code DefaultQuotaCallback.quotaMetricTags}: which rate a request is charged to. */
    private static RateKey tags(QuotaType type, Map<Key, Double> b, String user, String clientId) {
        Part u = new Part(user);
        Part c = new Part(clientId);
        Part defaultPart = new Part(null);
        if (b.containsKey(new Key(u, c)) || b.containsKey(new Key(u, defaultPart))) {
            return new RateKey(type, user, clientId);
        }
        if (b.containsKey(new Key(u, null))) {
            return new RateKey(type, user, "");
        }
        if (b.containsKey(new Key(defaultPart, c)) || b.containsKey(new Key(defaultPart, defaultPart))) {
            return new RateKey(type, user, clientId);
        }
        if (b.containsKey(new Key(defaultPart, null))) {
            return new RateKey(type, user, "");
        }
        return new RateKey(type, "", clientId);
    }

    /** Kafka's {@code DefaultQuotaCallback.quotaLimit}: the bound of a rate's tags, null for none. */
    private static Double bound(Map<Key, Double> b, RateKey tags) {
        Part defaultPart = new Part(null);
        Part u = new Part(tags.user());
        Part c = new Part(tags.clientId());
        if (!tags.user().isEmpty() && !tags.clientId().isEmpty()) {
            return first(b, new Key(u, c), new Key(u, defaultPart), new Key(defaultPart, c),
                    new Key(defaultPart, defaultPart));
        } else if (!tags.user().isEmpty()) {
            return first(b, new Key(u, null), new Key(defaultPart, null));
        } else if (!tags.clientId().isEmpty()) {
            return first(b, new Key(null, c), new Key(null, defaultPart));
        }
        return null;
    }

    private static Double first(Map<Key, Double> b, Key... keys) {
        for (Key k : keys) {
            Double bound = b.get(k);
            if (bound != null) {
                return bound;
            }
        }
        return null;
    }

    /** Drops rates idle for an hour, looking at most once a minute. */
    private void sweep(long nowMs) {
        if (nowMs < nextSweepMs) {
            return;
        }
        nextSweepMs = nowMs + SWEEP_INTERVAL_MS;
        rates.values().removeIf(r -> nowMs - r.lastRecordMs > IDLE_EXPIRY_MS);
        buckets.values().removeIf(b -> nowMs - b.lastMs > IDLE_EXPIRY_MS);
    }
}
