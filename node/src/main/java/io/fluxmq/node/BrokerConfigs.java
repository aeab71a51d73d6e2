package io.fluxmq.node;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.kafka.broker.ConfigChange;
import io.fluxmq.kafka.broker.ConfigValue;
import io.fluxmq.raft.metadata.ClusterState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * BROKER resources of DescribeConfigs, AlterConfigs and IncrementalAlterConfigs: this node's settings under Kafka's
 * names, and the dynamic broker configs, kept in cluster metadata ({@link ClusterState#brokerConfigs}) and applied
 * without a restart, as Kafka's {@code DynamicBrokerConfig}:
 * <ul>
 *   <li>the cluster-wide defaults of topic configs ({@link #TOPIC_DEFAULTS}: {@code log.retention.ms},
 *       {@code log.retention.bytes}, {@code log.cleaner.delete.retention.ms},
 *       {@code log.cleaner.min.compaction.lag.ms},
 *       {@code log.cleaner.min.cleanable.ratio}), set for the default broker only ({@code kafka-configs
 *       --entity-default}): a topic without an override of its own takes the new value at once on every node
 *       ({@link TopicConfigs}). Kafka also takes them per broker; FluxMQ refuses that, since a partition's replicas
 *       on different nodes must agree (retention moves the log start of every replica);</li>
 *   <li>{@code leader.replication.throttled.rate} and {@code follower.replication.throttled.rate}, per broker or as
 *       the default, as {@code kafka-reassign-partitions --throttle} sets them: the leader rate bounds what this node's
 *       group leaders send to replicas a reassignment adds (the multi-Raft engine's {@code ReplicationThrottle}); the
 *       follower rate is kept and reported but not enforced (FluxMQ throttles on the sending side only), and so is
 *       {@code replica.alter.log.dirs.io.max.bytes.per.second}, which the tool also sets and clears (a node has one
 *       log directory).</li>
 * </ul>
 * Every other broker config is read-only (INVALID_REQUEST "Cannot update these configs dynamically", as Kafka answers
 * for its read-only ones): FluxMQ reads node settings once at start-up. DescribeConfigs of the default broker (empty
 * name) lists the dynamic defaults only, of a node every setting with the source of its value (per-broker dynamic,
 * dynamic default, static, default) and those below it as synonyms, as Kafka. Thread-safe.
 */
final class BrokerConfigs {
    private record Setting(String name, String value, String nodeKey, ConfigType type, String documentation) {}

    /** A dynamic config: its type, whether a single broker may set it, and what applies when nothing is set. */
    private record Dynamic(ConfigDef.Type type, boolean perBroker, String builtIn, String documentation) {}

    static final String LEADER_THROTTLE = "leader.replication.throttled.rate";
    static final String FOLLOWER_THROTTLE = "follower.replication.throttled.rate";
    static final String LOG_DIRS_THROTTLE = "replica.alter.log.dirs.io.max.bytes.per.second";

    /** Each dynamic topic default, with the topic config it is the default of. */
    static final Map<String, String> TOPIC_DEFAULTS = Map.of(
            "log.retention.ms", "retention.ms",
            "log.retention.bytes", "retention.bytes",
            "log.cleaner.delete.retention.ms", "delete.retention.ms",
            "log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms",
            "log.cleaner.min.cleanable.ratio", "min.cleanable.dirty.ratio");

    private final int nodeId;
    private final Supplier<ClusterState> state;
    private final List<Setting> settings = new ArrayList<>();
    private final Map<String, Dynamic> dynamic = new LinkedHashMap<>();

    BrokerConfigs(NodeConfig config, Supplier<ClusterState> state) {
        this.nodeId = config.nodeId();
        this.state = state;
        String id = Integer.toString(config.nodeId());
        add("broker.id", id, "node.id", ConfigType.INT, "The node id (FluxMQ's node.id).");
        add("node.id", id, "node.id", ConfigType.INT, "The node id.");
        add("auto.create.topics.enable", Boolean.toString(config.autoCreateTopics()), "auto.create.topics.enable",
                ConfigType.BOOLEAN, "Whether Metadata requests may create unknown topics.");
        add("num.partitions", Integer.toString(config.defaultPartitions()), "num.partitions", ConfigType.INT,
                "Partitions of a topic created without a count.");
        add("default.replication.factor", Short.toString(config.defaultReplicationFactor()),
                "default.replication.factor", ConfigType.SHORT, "Replication factor of a topic created without one.");
        add("message.max.bytes", Integer.toString(config.maxMessageBytes()), "message.max.bytes", ConfigType.INT,
                "Largest record batch a node accepts; the most a topic's max.message.bytes may be.");
        add("socket.request.max.bytes", Integer.toString(config.maxRequestBytes()), "socket.request.max.bytes",
                ConfigType.INT, "Largest request a node accepts.");
        add("log.segment.bytes", Integer.toString(config.segment().segmentBytes()), "log.segment.bytes",
                ConfigType.INT, "Default segment.bytes of topics.");
        add("log.segment.ms", Long.toString(config.segment().segmentMs()), "log.segment.ms", ConfigType.LONG,
                "Default segment.ms of topics.");
        add("log.retention.check.interval.ms", Long.toString(config.retentionCheckInterval().toMillis()),
                "log.retention.check.interval.ms", ConfigType.LONG, "How often partition leaders apply retention.");
        add("log.dirs", config.dataDir().toString(), "data.dir", ConfigType.STRING, "The node's data directory.");
        dynamic.put("log.retention.ms", new Dynamic(ConfigDef.Type.LONG, false, Long.toString(config.retentionMs()),
                "Default retention.ms of topics."));
        dynamic.put("log.retention.bytes", new Dynamic(ConfigDef.Type.LONG, false,
                Long.toString(config.retentionBytes()), "Default retention.bytes of topics."));
        dynamic.put("log.cleaner.delete.retention.ms", new Dynamic(ConfigDef.Type.LONG, false, "86400000",
                "Default delete.retention.ms of topics."));
        dynamic.put("log.cleaner.min.compaction.lag.ms", new Dynamic(ConfigDef.Type.LONG, false, "0",
                "Default min.compaction.lag.ms of topics."));
        dynamic.put("log.cleaner.min.cleanable.ratio", new Dynamic(ConfigDef.Type.DOUBLE, false, "0.5",
                "Default min.cleanable.dirty.ratio of topics."));
        dynamic.put(LEADER_THROTTLE, new Dynamic(ConfigDef.Type.LONG, true,
                Long.toString(config.leaderReplicationThrottledRate()),
                "Bytes per second this node's partition leaders send to replicas a reassignment adds (multiraft)."));
        dynamic.put(FOLLOWER_THROTTLE, new Dynamic(ConfigDef.Type.LONG, true, Long.toString(Long.MAX_VALUE),
                "Kept and reported for Kafka's tools; FluxMQ throttles reassignment traffic on the leader only."));
        dynamic.put(LOG_DIRS_THROTTLE, new Dynamic(ConfigDef.Type.LONG, true, Long.toString(Long.MAX_VALUE),
                "Kept and reported for Kafka's tools (kafka-reassign-partitions sets and clears it); a FluxMQ node has "
                        + "one log directory, so no replica moves between directories."));
    }

    private void add(String name, String value, String nodeKey, ConfigType type, String documentation) {
        settings.add(new Setting(name, value, nodeKey, type, documentation + " FluxMQ node setting " + nodeKey
                + ", read at start-up (docs/operations.md)."));
    }

    /** Throws INVALID_REQUEST unless {@code name} is empty (the cluster default) or this node's id. */
    void checkName(String name) {
        if (!name.isEmpty() && !name.equals(Integer.toString(nodeId))) {
            throw new AdminException(Errors.INVALID_REQUEST, "Unexpected broker id, expected " + nodeId
                    + " or empty string, but received " + name);
        }
    }

    /**
     * The value of a dynamic config for node {@code node}: its own dynamic value, else the dynamic default, else the
     * node setting or built-in default.
     */
    String effective(String key, int node) {
        ClusterState s = state.get();
        String own = s.brokerConfigs(Integer.toString(node)).get(key);
        if (own != null) {
            return own;
        }
        String byDefault = s.brokerConfigs(ClusterState.DEFAULT_BROKER).get(key);
        return byDefault != null ? byDefault : dynamic.get(key).builtIn();
    }

    /** The dynamic cluster-wide defaults of topic configs in {@code s}, by topic config name ({@link TopicConfigs}). */
    static Map<String, String> topicDefaults(ClusterState s) {
        Map<String, String> out = new HashMap<>();
        s.brokerConfigs(ClusterState.DEFAULT_BROKER).forEach((key, value) -> {
            String topicKey = TOPIC_DEFAULTS.get(key);
            if (topicKey != null) {
                out.put(topicKey, value);
            }
        });
        return out;
    }

    /** DescribeConfigs of broker {@code name} (empty: the default broker, listing its dynamic configs only). */
    List<ConfigValue> describe(String name) {
        ClusterState s = state.get();
        Map<String, String> defaults = s.brokerConfigs(ClusterState.DEFAULT_BROKER);
        List<ConfigValue> out = new ArrayList<>();
        if (name.isEmpty()) {
            new TreeMap<>(defaults).forEach((key, value) -> out.add(new ConfigValue(key, value,
                    ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, false, List.of(new ConfigValue.Synonym(key, value,
                            ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)), type(dynamic.get(key)), doc(key))));
            return out;
        }
        for (Setting st : settings) {
            String builtIn = NodeConfig.DEFAULTS.get(st.nodeKey());
            boolean set = builtIn == null || !builtIn.equals(st.value());
            ConfigSource source = set ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
            List<ConfigValue.Synonym> synonyms = new ArrayList<>();
            synonyms.add(new ConfigValue.Synonym(st.name(), st.value(), source));
            if (set && builtIn != null && !builtIn.isEmpty()) {
                synonyms.add(new ConfigValue.Synonym(st.name(), builtIn, ConfigSource.DEFAULT_CONFIG));
            }
            out.add(new ConfigValue(st.name(), st.value(), source, true, synonyms, st.type(), st.documentation()));
        }
        Map<String, String> own = s.brokerConfigs(name);
        dynamic.forEach((key, d) -> {
            List<ConfigValue.Synonym> synonyms = new ArrayList<>();
            if (own.containsKey(key)) {
                synonyms.add(new ConfigValue.Synonym(key, own.get(key), ConfigSource.DYNAMIC_BROKER_CONFIG));
            }
            if (defaults.containsKey(key)) {
                synonyms.add(new ConfigValue.Synonym(key, defaults.get(key),
                        ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG));
            }
            String builtIn = NodeConfig.DEFAULTS.get(key);
            boolean staticallySet = builtIn != null && !builtIn.isEmpty() && !builtIn.equals(d.builtIn());
            synonyms.add(new ConfigValue.Synonym(key, d.builtIn(), staticallySet ? ConfigSource.STATIC_BROKER_CONFIG
                    : ConfigSource.DEFAULT_CONFIG));
            ConfigValue.Synonym effective = synonyms.get(0);
            out.add(new ConfigValue(key, effective.value(), effective.source(), false, synonyms, type(d), doc(key)));
        });
        return out;
    }

    private static ConfigType type(Dynamic d) {
        return d == null ? ConfigType.STRING : d.type() == ConfigDef.Type.DOUBLE ? ConfigType.DOUBLE : ConfigType.LONG;
    }

    private String doc(String key) {
        Dynamic d = dynamic.get(key);
        return (d == null ? "" : d.documentation()) + " A dynamic broker config (kept in cluster metadata).";
    }

    /** A validated change of one broker entity's dynamic configs: what to set and what to delete. */
    record Change(Map<String, String> set, List<String> delete) {}

    /**
     * Validates a change of broker {@code name}'s dynamic configs (empty: the default broker) against what is set now:
     * a config that is not dynamic is refused with INVALID_REQUEST ("Cannot update these configs dynamically"), a topic
     * default set for a single broker, a bad value, or APPEND/SUBTRACT (no dynamic config is a list) with
     * INVALID_CONFIG. {@code incremental} false (AlterConfigs) replaces every dynamic config of the entity.
     */
    Change alter(String name, List<ConfigChange> changes, boolean incremental) {
        TreeSet<String> readOnly = new TreeSet<>();
        for (ConfigChange c : changes) {
            if (!dynamic.containsKey(c.name())) {
                readOnly.add(c.name());
            }
        }
        if (!readOnly.isEmpty()) {
            throw new AdminException(Errors.INVALID_REQUEST, "Cannot update these configs dynamically: " + readOnly
                    + ". FluxMQ reads broker settings at start-up only: set them in the node's properties file or "
                    + "FLUXMQ_* environment and restart the node; dynamic broker configs are " + dynamic.keySet()
                    + "; topic configs change at runtime");
        }
        Map<String, String> set = new HashMap<>();
        List<String> delete = new ArrayList<>();
        for (ConfigChange c : changes) {
            Dynamic d = dynamic.get(c.name());
            if (!name.isEmpty() && !d.perBroker()) {
                throw new AdminException(Errors.INVALID_CONFIG, c.name() + " is a cluster-wide default in FluxMQ: "
                        + "set it for the default broker (kafka-configs --entity-type brokers --entity-default), "
                        + "since every replica of a partition must apply the same value");
            }
            if (c.op() == OpType.DELETE) {
                delete.add(c.name());
                continue;
            }
            if (c.op() != OpType.SET) {
                throw new AdminException(Errors.INVALID_CONFIG, c.op() + " is only for list configs; " + c.name()
                        + " is not one");
            }
            set.put(c.name(), validated(c.name(), d, c.value()));
        }
        if (!incremental) {
            for (String key : state.get().brokerConfigs(name).keySet()) {
                if (!set.containsKey(key)) {
                    delete.add(key);
                }
            }
        }
        return new Change(set, delete);
    }

    private static String validated(String key, Dynamic d, String value) {
        if (value == null) {
            throw new AdminException(Errors.INVALID_CONFIG, "Null value not supported for " + key);
        }
        try {
            Object parsed = ConfigDef.parseType(key, value.trim(), d.type());
            boolean rate = key.endsWith(".throttled.rate");
            if (d.type() == ConfigDef.Type.DOUBLE) {
                double v = (Double) parsed;
                if (v < 0 || v > 1) {
                    throw new ConfigException(key, value, "must be between 0 and 1");
                }
            } else if ((Long) parsed < (rate ? 1 : key.equals("log.retention.ms") || key.equals("log.retention.bytes")
                    ? -1 : 0)) {
                throw new ConfigException(key, value, rate ? "must be at least 1 (bytes per second)"
                        : "is below the smallest allowed value");
            }
            return value.trim();
        } catch (ConfigException e) {
            throw new AdminException(Errors.INVALID_CONFIG, e.getMessage());
        }
    }
}
