package io.fluxmq.node;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.kafka.broker.ConfigChange;
import io.fluxmq.kafka.broker.ConfigValue;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * This node's settings as DescribeConfigs reports a BROKER resource: the ones Kafka tools look for, under Kafka's
 * names, STATIC_BROKER_CONFIG when set to something else than the built-in default, else DEFAULT_CONFIG. All are
 * read-only: FluxMQ reads node settings once at start-up, so AlterConfigs and IncrementalAlterConfigs on a broker
 * answer INVALID_REQUEST ("Cannot update these configs dynamically"), as Kafka does for its read-only broker configs.
 * Topic configs change at runtime instead (see {@link TopicConfigs}). Immutable.
 */
final class BrokerConfigs {
    private record Setting(String name, String value, String nodeKey, ConfigType type, String documentation) {}

    private final int nodeId;
    private final List<Setting> settings = new ArrayList<>();

    BrokerConfigs(NodeConfig config) {
        this.nodeId = config.nodeId();
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
        add("log.retention.ms", Long.toString(config.retentionMs()), "log.retention.ms", ConfigType.LONG,
                "Default retention.ms of topics.");
        add("log.retention.bytes", Long.toString(config.retentionBytes()), "log.retention.bytes", ConfigType.LONG,
                "Default retention.bytes of topics.");
        add("log.retention.check.interval.ms", Long.toString(config.retentionCheckInterval().toMillis()),
                "log.retention.check.interval.ms", ConfigType.LONG, "How often partition leaders apply retention.");
        add("log.dirs", config.dataDir().toString(), "data.dir", ConfigType.STRING, "The node's data directory.");
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

    List<ConfigValue> describe() {
        List<ConfigValue> out = new ArrayList<>();
        for (Setting s : settings) {
            String builtIn = NodeConfig.DEFAULTS.get(s.nodeKey());
            boolean set = builtIn == null || !builtIn.equals(s.value());
            ConfigSource source = set ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
            List<ConfigValue.Synonym> synonyms = new ArrayList<>();
            synonyms.add(new ConfigValue.Synonym(s.name(), s.value(), source));
            if (set && builtIn != null && !builtIn.isEmpty()) {
                synonyms.add(new ConfigValue.Synonym(s.name(), builtIn, ConfigSource.DEFAULT_CONFIG));
            }
            out.add(new ConfigValue(s.name(), s.value(), source, true, synonyms, s.type(), s.documentation()));
        }
        return out;
    }

    /** Refuses every change, naming the keys, as Kafka refuses configs it cannot update dynamically. */
    void alter(List<ConfigChange> changes) {
        if (changes.isEmpty()) {
            return;
        }
        TreeSet<String> keys = new TreeSet<>();
        changes.forEach(c -> keys.add(c.name()));
        throw new AdminException(Errors.INVALID_REQUEST, "Cannot update these configs dynamically: " + keys + ". FluxMQ reads broker settings at start-up only: set them in the "
                + "node's properties file or FLUXMQ_* environment and restart the node; topic configs change at runtime");
    }
}
