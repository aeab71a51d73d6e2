package io.fluxmq.node;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.raft.log.SegmentLogConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.protocol.Errors;

/** Topic-level configs FluxMQ honours or reports, their defaults (taken from the node config) and validation. */
final class TopicConfigs {
    private static final Set<String> NUMERIC = Set.of("retention.ms", "retention.bytes", "segment.bytes", "segment.ms",
            "max.message.bytes", "min.insync.replicas", "index.interval.bytes");

    private final Map<String, String> defaults;

    TopicConfigs(NodeConfig node) {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("cleanup.policy", "delete");
        d.put("compression.type", "producer");
        d.put("index.interval.bytes", Integer.toString(node.segment().indexIntervalBytes()));
        d.put("max.message.bytes", Integer.toString(node.maxMessageBytes()));
        d.put("message.timestamp.type", "CreateTime");
        d.put("min.insync.replicas", "1");
        d.put("retention.bytes", Long.toString(node.retentionBytes()));
        d.put("retention.ms", Long.toString(node.retentionMs()));
        d.put("segment.bytes", Integer.toString(node.segment().segmentBytes()));
        d.put("segment.ms", Long.toString(node.segment().segmentMs()));
        this.defaults = Map.copyOf(d);
    }

    Map<String, String> defaults() {
        return defaults;
    }

    /** Throws INVALID_CONFIG for an unknown key or a value of the wrong shape. */
    void validate(Map<String, String> configs) {
        for (Map.Entry<String, String> e : configs.entrySet()) {
            if (!defaults.containsKey(e.getKey())) {
                throw new AdminException(Errors.INVALID_CONFIG, "unknown topic config " + e.getKey());
            }
            if (e.getValue() == null) {
                throw new AdminException(Errors.INVALID_CONFIG, "topic config " + e.getKey() + " has no value");
            }
            if (NUMERIC.contains(e.getKey())) {
                try {
                    Long.parseLong(e.getValue());
                } catch (NumberFormatException ex) {
                    throw new AdminException(Errors.INVALID_CONFIG, "topic config " + e.getKey() + " must be a number, got "
                            + e.getValue());
                }
            }
        }
        if ("compact".equals(configs.get("cleanup.policy"))) {
            throw new AdminException(Errors.INVALID_CONFIG, "cleanup.policy=compact is not supported yet");
        }
        try {
            segmentConfig(configs);
        } catch (IllegalArgumentException ex) {
            throw new AdminException(Errors.INVALID_CONFIG, ex.getMessage());
        }
    }

    String value(Map<String, String> overrides, String key) {
        return overrides.getOrDefault(key, defaults.get(key));
    }

    SegmentLogConfig segmentConfig(Map<String, String> overrides) {
        return new SegmentLogConfig(Integer.parseInt(value(overrides, "segment.bytes")),
                Long.parseLong(value(overrides, "segment.ms")),
                Integer.parseInt(value(overrides, "index.interval.bytes")),
                SegmentLogConfig.defaults().maxIndexBytes());
    }
}
