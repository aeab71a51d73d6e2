package io.fluxmq.node;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.raft.log.SegmentLogConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.protocol.Errors;

/**
 * Topic-level configs FluxMQ honours or reports, their defaults (taken from the node config) and validation. A config
 * FluxMQ would accept but not honour is refused with INVALID_CONFIG naming the key, never silently ignored:
 * <ul>
 *   <li>{@code cleanup.policy}: only {@code delete} (no log compaction);</li>
 *   <li>{@code compression.type}: only {@code producer} (batches are stored as the producer compressed them; the
 *       broker does not recompress);</li>
 *   <li>{@code message.timestamp.type}: only {@code CreateTime} (no broker-assigned LogAppendTime);</li>
 *   <li>{@code max.message.bytes}: at most the node's {@code message.max.bytes}, which sizes the Raft buffers;</li>
 *   <li>{@code min.insync.replicas}: at least 1 and at most a Raft majority of the replication factor, the number of
 *       replicas every committed (acknowledged) batch is on; acks=all produce answers NOT_ENOUGH_REPLICAS while fewer
 *       replicas are in sync.</li>
 * </ul>
 */
final class TopicConfigs {
    private static final Set<String> NUMERIC = Set.of("retention.ms", "retention.bytes", "segment.bytes", "segment.ms",
            "max.message.bytes", "min.insync.replicas", "index.interval.bytes");

    private final Map<String, String> defaults;
    private final int nodeMaxMessageBytes;

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
        this.nodeMaxMessageBytes = node.maxMessageBytes();
    }

    Map<String, String> defaults() {
        return defaults;
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
            if (!defaults.containsKey(e.getKey())) {
                throw invalid("unknown topic config " + e.getKey());
            }
            if (e.getValue() == null) {
                throw invalid("topic config " + e.getKey() + " has no value");
            }
            if (NUMERIC.contains(e.getKey())) {
                try {
                    Long.parseLong(e.getValue());
                } catch (NumberFormatException ex) {
                    throw invalid("topic config " + e.getKey() + " must be a number, got "
                            + e.getValue());
                }
            }
        }
        String policy = configs.get("cleanup.policy");
        if (policy != null) {
            for (String p : policy.split(",")) {
                if (!p.trim().equals("delete")) {
                    throw invalid("cleanup.policy=" + policy + " is not supported: FluxMQ has no "
                            + "log compaction, only cleanup.policy=delete");
                }
            }
        }
        String compression = configs.get("compression.type");
        if (compression != null && !compression.equals("producer")) {
            throw invalid("compression.type=" + compression + " is not supported: FluxMQ keeps "
                    + "batches as the producer compressed them (compression.type=producer); set the codec on the "
                    + "producer instead");
        }
        String timestampType = configs.get("message.timestamp.type");
        if (timestampType != null && !timestampType.equals("CreateTime")) {
            throw invalid("message.timestamp.type=" + timestampType + " is not supported: "
                    + "FluxMQ keeps the producer's timestamps (CreateTime)");
        }
        String maxMessageBytes = configs.get("max.message.bytes");
        if (maxMessageBytes != null) {
            long value = Long.parseLong(maxMessageBytes);
            if (value < 0 || value > nodeMaxMessageBytes) {
                throw invalid("max.message.bytes=" + maxMessageBytes + " must be between 0 and "
                        + "the node's message.max.bytes (" + nodeMaxMessageBytes + "), which sizes the Raft buffers");
            }
        }
        String minInSync = configs.get("min.insync.replicas");
        if (minInSync != null) {
            long value = Long.parseLong(minInSync);
            int majority = majority(replicationFactor);
            if (value < 1 || value > majority) {
                throw invalid("min.insync.replicas=" + minInSync + " must be between 1 and "
                        + majority + ": with replication factor " + replicationFactor + " a batch is acknowledged "
                        + "once a Raft majority (" + majority + " replicas) has it, never waiting for more");
            }
        }
        try {
            segmentConfig(configs);
        } catch (NumberFormatException ex) {
            throw invalid("segment.bytes and index.interval.bytes must fit in 32 bits: " + ex.getMessage());
        } catch (IllegalArgumentException ex) { // SegmentLogConfig names its fields; say the config keys instead
            throw invalid(ex.getMessage().replace("segmentBytes", "segment.bytes").replace("segmentMs", "segment.ms")
                    .replace("indexIntervalBytes", "index.interval.bytes"));
        }
    }

    private static AdminException invalid(String message) {
        return new AdminException(Errors.INVALID_CONFIG, message);
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
