package io.fluxmq.node;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.kafka.broker.ConfigChange;
import io.fluxmq.kafka.broker.ConfigValue;
import io.fluxmq.raft.log.CompactionPolicy;
import io.fluxmq.raft.log.SegmentLogConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidList;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * Topic-level configs FluxMQ honours or reports: their definition (Kafka's {@link ConfigDef}: type, validator,
 * documentation), their defaults (taken from the node config), validation, how DescribeConfigs reports them, and how
 * AlterConfigs / IncrementalAlterConfigs change a topic's overrides. Every key can change at runtime (see
 * docs/operations.md for when each takes effect). A config FluxMQ would accept but not honour is refused with
 * INVALID_CONFIG naming the key, never silently ignored:
 * <ul>
 *   <li>{@code cleanup.policy}: {@code delete}, {@code compact} or both (on the {@code multiraft} engine, whose
 *       segment log is its Raft log, the cleaner keeps every batch, emptied ones as empty batches: docs/storage.md);
 *       </li>
 *   <li>{@code compression.type}: only {@code producer} (batches are stored as the producer compressed them; the
 *       broker does not recompress);</li>
 *   <li>{@code message.timestamp.type}: only {@code CreateTime} (no broker-assigned LogAppendTime);</li>
 *   <li>{@code max.message.bytes}: at most the node's {@code message.max.bytes}, which sizes the Raft buffers;</li>
 *   <li>{@code min.insync.replicas}: at least 1 and at most a Raft majority of the replication factor, the number of
 *       replicas every committed (acknowledged) batch is on; acks=all produce answers NOT_ENOUGH_REPLICAS while fewer
 *       replicas are in sync.</li>
 * </ul>
 * Immutable and thread-safe.
 */
final class TopicConfigs {
    /** Each topic config with a node setting that provides its default (Kafka's broker synonym). */
    private static final Map<String, String> NODE_SETTINGS = Map.of(
            TopicConfig.RETENTION_MS_CONFIG, "log.retention.ms",
            TopicConfig.RETENTION_BYTES_CONFIG, "log.retention.bytes",
            TopicConfig.SEGMENT_BYTES_CONFIG, "log.segment.bytes",
            TopicConfig.SEGMENT_MS_CONFIG, "log.segment.ms",
            TopicConfig.INDEX_INTERVAL_BYTES_CONFIG, "log.index.interval.bytes",
            TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "message.max.bytes");

    static final ConfigDef DEFINITION = new ConfigDef()
            .define(TopicConfig.CLEANUP_POLICY_CONFIG, Type.LIST, "delete", ValidList.in("compact", "delete"),
                    Importance.MEDIUM, TopicConfig.CLEANUP_POLICY_DOC)
            .define(TopicConfig.DELETE_RETENTION_MS_CONFIG, Type.LONG, 86400000L, Range.atLeast(0), Importance.MEDIUM,
                    TopicConfig.DELETE_RETENTION_MS_DOC)
            .define(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, Type.DOUBLE, 0.5, Range.between(0, 1),
                    Importance.MEDIUM, TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_DOC)
            .define(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, Type.LONG, 0L, Range.atLeast(0), Importance.MEDIUM,
                    TopicConfig.MIN_COMPACTION_LAG_MS_DOC)
            .define(TopicConfig.COMPRESSION_TYPE_CONFIG, Type.STRING, "producer",
                    ValidString.in("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"), Importance.MEDIUM,
                    TopicConfig.COMPRESSION_TYPE_DOC + " FluxMQ: only producer.")
            .define(TopicConfig.INDEX_INTERVAL_BYTES_CONFIG, Type.INT, 4096, Range.atLeast(0), Importance.MEDIUM,
                    TopicConfig.INDEX_INTERVAL_BYTES_DOC)
            .define(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Type.INT, 1048588, Range.atLeast(0), Importance.MEDIUM,
                    TopicConfig.MAX_MESSAGE_BYTES_DOC + " FluxMQ: at most the node's message.max.bytes.")
            .define(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, Type.STRING, "CreateTime",
                    ValidString.in("CreateTime", "LogAppendTime"), Importance.MEDIUM,
                    TopicConfig.MESSAGE_TIMESTAMP_TYPE_DOC + " FluxMQ: only CreateTime.")
            .define(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Type.INT, 1, Range.atLeast(1), Importance.MEDIUM,
                    TopicConfig.MIN_IN_SYNC_REPLICAS_DOC + " FluxMQ: at most a Raft majority of the replicas.")
            .define(TopicConfig.RETENTION_BYTES_CONFIG, Type.LONG, -1L, Importance.MEDIUM,
                    TopicConfig.RETENTION_BYTES_DOC)
            .define(TopicConfig.RETENTION_MS_CONFIG, Type.LONG, 604800000L, Range.atLeast(-1), Importance.MEDIUM,
                    TopicConfig.RETENTION_MS_DOC)
            .define(TopicConfig.SEGMENT_BYTES_CONFIG, Type.INT, 1073741824, Range.atLeast(SegmentLogConfig.MIN_SEGMENT_BYTES),
                    Importance.MEDIUM, TopicConfig.SEGMENT_BYTES_DOC)
            .define(TopicConfig.SEGMENT_MS_CONFIG, Type.LONG, 604800000L, Range.atLeast(1), Importance.MEDIUM,
                    TopicConfig.SEGMENT_MS_DOC)
            // set by kafka-reassign-partitions --throttle; kept, while FluxMQ throttles every replica a move adds
            .define("leader.replication.throttled.replicas", Type.LIST, "", Importance.MEDIUM,
                    "Kafka's list of replicas throttled on the leader side. FluxMQ: kept; the leader throttles every "
                            + "replica a reassignment adds (leader.replication.throttled.rate).")
            .define("follower.replication.throttled.replicas", Type.LIST, "", Importance.MEDIUM,
                    "Kafka's list of replicas throttled on the follower side. FluxMQ: kept, not enforced.");

    private final Map<String, String> defaults;
    /** The dynamic cluster-wide defaults (by topic config name) the metadata holds now; see {@link BrokerConfigs}. */
    private final java.util.function.Supplier<Map<String, String>> dynamicDefaults;
    /** Node settings (of {@link #NODE_SETTINGS}) set to something else than their built-in default. */
    private final Map<String, String> staticSettings;
    private final int nodeMaxMessageBytes;

    TopicConfigs(NodeConfig node) {
        this(node, Map::of);
    }

    /** {@code dynamicDefaults}: the dynamic broker configs that default topic configs, by topic config name. */
    TopicConfigs(NodeConfig node, java.util.function.Supplier<Map<String, String>> dynamicDefaults) {
        this.dynamicDefaults = dynamicDefaults;
        Map<String, String> d = new LinkedHashMap<>();
        d.put(TopicConfig.CLEANUP_POLICY_CONFIG, "delete");
        d.put(TopicConfig.COMPRESSION_TYPE_CONFIG, "producer");
        d.put(TopicConfig.DELETE_RETENTION_MS_CONFIG, "86400000");
        d.put(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.5");
        d.put(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "0");
        d.put(TopicConfig.INDEX_INTERVAL_BYTES_CONFIG, Integer.toString(node.segment().indexIntervalBytes()));
        d.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(node.maxMessageBytes()));
        d.put(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "CreateTime");
        d.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, "1");
        d.put(TopicConfig.RETENTION_BYTES_CONFIG, Long.toString(node.retentionBytes()));
        d.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(node.retentionMs()));
        d.put(TopicConfig.SEGMENT_BYTES_CONFIG, Integer.toString(node.segment().segmentBytes()));
        d.put(TopicConfig.SEGMENT_MS_CONFIG, Long.toString(node.segment().segmentMs()));
        d.put("leader.replication.throttled.replicas", "");
        d.put("follower.replication.throttled.replicas", "");
        this.defaults = Map.copyOf(d);
        Map<String, String> s = new HashMap<>();
        NODE_SETTINGS.forEach((topicKey, nodeKey) -> {
            if (!d.get(topicKey).equals(NodeConfig.DEFAULTS.get(nodeKey))) {
                s.put(nodeKey, d.get(topicKey));
            }
        });
        this.staticSettings = Map.copyOf(s);
        this.nodeMaxMessageBytes = node.maxMessageBytes();
    }

    /** The value of every topic config for a topic without overrides: dynamic defaults over the node's. */
    Map<String, String> defaults() {
        Map<String, String> dynamic = dynamicDefaults.get();
        if (dynamic.isEmpty()) {
            return defaults;
        }
        Map<String, String> merged = new LinkedHashMap<>(defaults);
        merged.putAll(dynamic);
        return merged;
    }

    /** The number of replicas a Raft commit needs: a majority of the voters. */
    static int majority(int replicationFactor) {
        return replicationFactor / 2 + 1;
    }

    /**
     * Throws INVALID_CONFIG, naming the key, for an unknown key, a value of the wrong shape or a value FluxMQ cannot
     * honour for a topic with {@code replicationFactor} replicas.
     */
    void validate(Map<String, String> configs, int replicationFactor) {
        for (Map.Entry<String, String> e : configs.entrySet()) {
            parse(e.getKey(), e.getValue());
        }
        List<String> policy = list(configs, TopicConfig.CLEANUP_POLICY_CONFIG);
        if (policy != null && policy.isEmpty()) {
            throw invalid("cleanup.policy must be delete, compact or compact,delete");
        }
        String compression = configs.get(TopicConfig.COMPRESSION_TYPE_CONFIG);
        if (compression != null && !compression.equals("producer")) {
            throw invalid("compression.type=" + compression + " is not supported: FluxMQ keeps "
                    + "batches as the producer compressed them (compression.type=producer); set the codec on the "
                    + "producer instead");
        }
        String timestampType = configs.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG);
        if (timestampType != null && !timestampType.equals("CreateTime")) {
            throw invalid("message.timestamp.type=" + timestampType + " is not supported: "
                    + "FluxMQ keeps the producer's timestamps (CreateTime)");
        }
        String maxMessageBytes = configs.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        if (maxMessageBytes != null && Integer.parseInt(maxMessageBytes) > nodeMaxMessageBytes) {
            throw invalid("max.message.bytes=" + maxMessageBytes + " must be between 0 and "
                    + "the node's message.max.bytes (" + nodeMaxMessageBytes + "), which sizes the Raft buffers");
        }
        String minInSync = configs.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
        if (minInSync != null) {
            int majority = majority(replicationFactor);
            if (Integer.parseInt(minInSync) > majority) {
                throw invalid("min.insync.replicas=" + minInSync + " must be between 1 and "
                        + majority + ": with replication factor " + replicationFactor + " a batch is acknowledged "
                        + "once a Raft majority (" + majority + " replicas) has it, never waiting for more");
            }
        }
    }

    /** The value parsed by the definition; INVALID_CONFIG for an unknown key, a null or malformed value. */
    private static Object parse(String key, String value) {
        ConfigDef.ConfigKey def = DEFINITION.configKeys().get(key);
        if (def == null) {
            throw invalid("Unknown topic config name: " + key);
        }
        if (value == null) {
            throw invalid("topic config " + key + " has no value");
        }
        try {
            Object parsed = ConfigDef.parseType(key, value, def.type);
            if (def.validator != null) {
                def.validator.ensureValid(key, parsed);
            }
            return parsed;
        } catch (ConfigException e) {
            throw invalid(e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> list(Map<String, String> configs, String key) {
        String value = configs.get(key);
        return value == null ? null : (List<String>) parse(key, value);
    }

    /**
     * The overrides a topic has after {@code changes}: with {@code incremental} (IncrementalAlterConfigs) applied to
     * {@code current}, otherwise (AlterConfigs) replacing it. APPEND and SUBTRACT work on list configs only, starting
     * from the current value (the override, else the default), as in Kafka. Validated as a whole, like CreateTopics
     * configs; throws INVALID_CONFIG.
     */
    Map<String, String> alter(Map<String, String> current, List<ConfigChange> changes, boolean incremental,
                              int replicationFactor) {
        Map<String, String> next = new HashMap<>(incremental ? current : Map.of());
        for (ConfigChange c : changes) {
            ConfigDef.ConfigKey def = DEFINITION.configKeys().get(c.name());
            if (def == null) {
                throw invalid("Unknown topic config name: " + c.name());
            }
            switch (c.op()) {
                case SET -> next.put(c.name(), c.value());
                case DELETE -> next.remove(c.name());
                case APPEND, SUBTRACT -> {
                    if (def.type != Type.LIST) {
                        throw invalid("Can't " + c.op() + " to key " + c.name() + " because its type is not LIST.");
                    }
                    List<String> items = new ArrayList<>(list(Map.of(c.name(), value(next, c.name())), c.name()));
                    List<String> operand = list(Map.of(c.name(), c.value()), c.name());
                    if (c.op() == OpType.APPEND) {
                        operand.stream().filter(v -> !items.contains(v)).forEach(items::add);
                    } else {
                        items.removeAll(operand);
                    }
                    next.put(c.name(), String.join(",", items));
                }
            }
        }
        validate(next, replicationFactor);
        boolean sizes = changes.stream().anyMatch(c -> c.name().equals(TopicConfig.SEGMENT_BYTES_CONFIG)
                || c.name().equals(TopicConfig.MAX_MESSAGE_BYTES_CONFIG));
        long segmentBytes = Long.parseLong(value(next, TopicConfig.SEGMENT_BYTES_CONFIG));
        long maxMessageBytes = Long.parseLong(value(next, TopicConfig.MAX_MESSAGE_BYTES_CONFIG));
        if (sizes && segmentBytes < maxMessageBytes) {
            // replicas apply a change at slightly different times; a batch the leader accepted must fit a segment on
            // every one of them
            throw invalid("segment.bytes=" + segmentBytes + " is below max.message.bytes=" + maxMessageBytes
                    + ": FluxMQ writes each batch into one segment, so a changed segment.bytes or max.message.bytes "
                    + "must leave segment.bytes at least max.message.bytes (change both in one request)");
        }
        return next;
    }

    /** Every topic config as DescribeConfigs reports it for a topic with these overrides. */
    List<ConfigValue> describe(Map<String, String> overrides) {
        List<ConfigValue> out = new ArrayList<>();
        Map<String, String> dynamic = dynamicDefaults.get();
        for (ConfigDef.ConfigKey def : DEFINITION.configKeys().values()) {
            String key = def.name;
            String nodeKey = NODE_SETTINGS.get(key);
            List<ConfigValue.Synonym> synonyms = new ArrayList<>();
            if (overrides.containsKey(key)) {
                synonyms.add(new ConfigValue.Synonym(key, overrides.get(key), ConfigSource.TOPIC_CONFIG));
            }
            String dynamicValue = dynamic.get(key);
            if (dynamicValue != null) {
                synonyms.add(new ConfigValue.Synonym(brokerKey(key), dynamicValue,
                        ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG));
            }
            if (nodeKey != null && staticSettings.containsKey(nodeKey)) {
                synonyms.add(new ConfigValue.Synonym(nodeKey, staticSettings.get(nodeKey),
                        ConfigSource.STATIC_BROKER_CONFIG));
            }
            synonyms.add(new ConfigValue.Synonym(nodeKey == null ? key : nodeKey,
                    nodeKey == null ? defaults.get(key) : NodeConfig.DEFAULTS.get(nodeKey), ConfigSource.DEFAULT_CONFIG));
            ConfigValue.Synonym effective = synonyms.get(0);
            out.add(new ConfigValue(key, effective.value(), effective.source(), false, synonyms,
                    ConfigType.valueOf(def.type.name()), def.documentation));
        }
        return out;
    }

    private static AdminException invalid(String message) {
        return new AdminException(Errors.INVALID_CONFIG, message);
    }

    String value(Map<String, String> overrides, String key) {
        String value = overrides.get(key);
        if (value != null) {
            return value;
        }
        value = dynamicDefaults.get().get(key);
        return value != null ? value : defaults.get(key);
    }

    /** The dynamic broker config that defaults topic config {@code key}. */
    private static String brokerKey(String key) {
        for (Map.Entry<String, String> e : BrokerConfigs.TOPIC_DEFAULTS.entrySet()) {
            if (e.getValue().equals(key)) {
                return e.getKey();
            }
        }
        return key;
    }

    /** Whether the topic's cleanup.policy includes {@code compact}. */
    boolean compacted(Map<String, String> overrides) {
        return policy(overrides).contains("compact");
    }

    /** Whether the topic's cleanup.policy includes {@code delete} (retention.ms and retention.bytes apply). */
    boolean deletes(Map<String, String> overrides) {
        return policy(overrides).contains("delete");
    }

    @SuppressWarnings("unchecked")
    private List<String> policy(Map<String, String> overrides) {
        try {
            return (List<String>) parse(TopicConfig.CLEANUP_POLICY_CONFIG,
                    value(overrides, TopicConfig.CLEANUP_POLICY_CONFIG));
        } catch (AdminException e) { // validated when set; a value from an older node keeps the default
            return List.of("delete");
        }
    }

    /** The topic's compaction settings. */
    CompactionPolicy compactionPolicy(Map<String, String> overrides) {
        return new CompactionPolicy(Long.parseLong(value(overrides, TopicConfig.DELETE_RETENTION_MS_CONFIG)),
                Double.parseDouble(value(overrides, TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG)),
                Long.parseLong(value(overrides, TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG)));
    }

    SegmentLogConfig segmentConfig(Map<String, String> overrides) {
        return new SegmentLogConfig(Integer.parseInt(value(overrides, TopicConfig.SEGMENT_BYTES_CONFIG)),
                Long.parseLong(value(overrides, TopicConfig.SEGMENT_MS_CONFIG)),
                Integer.parseInt(value(overrides, TopicConfig.INDEX_INTERVAL_BYTES_CONFIG)),
                SegmentLogConfig.defaults().maxIndexBytes());
    }
}
