package io.fluxmq.node;

import io.fluxmq.raft.storage.DurableFiles;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * A node started with {@code node.id=-1} gets its id from the cluster, as a Kafka broker with {@code broker.id=-1}
 * got a generated one: ids up to {@code reserved.broker.max.id} (default 1000) are the operators' to choose, the
 * cluster gives the ones above. At the first start the node asks the controllers named in {@code cluster.nodes} (its
 * seeds) for one ({@link Allocator}); the controller leader reserves it in the metadata, so no other node is given it,
 * and answers with the cluster id and the controllers. The node records all three in its data dir's
 * {@code meta.properties} before it does anything else, and every later start reads them from there without asking.
 * The settings then go on as if the operator had given them: {@code node.id}, {@code cluster.id} and
 * {@code controller.nodes} where unset, and {@code cluster.nodes} with this node's own entry added (its advertised
 * Kafka address, Raft, HTTP and control ports).
 */
final class NodeIdAllocation {
    static final String RESERVED_MAX_KEY = "reserved.broker.max.id";
    /** The largest node id (as {@code node.id}'s range). */
    static final int MAX_NODE_ID = 1 << 20;
    static final String CONTROLLERS_KEY = "controller.nodes";

    private NodeIdAllocation() {
    }

    /** What a controller answered: the id, the cluster's id and the metadata voters. */
    record Allocated(int nodeId, String clusterId, List<Integer> controllers) {
    }

    /** Asks a running cluster for a node id. */
    interface Allocator {
        /**
         * Reserves an id of at least {@code minNodeId} at the controller leader, reached through {@code seeds} (the
         * {@code cluster.nodes} entries; {@code settings} hold this node's cluster TLS). Fails with an IOException
         * when no controller answered in time, with a ConfigException when the cluster refused.
         */
        Allocated allocate(List<ClusterMember> seeds, Map<String, String> settings, String clusterId, int minNodeId)
                throws IOException;
    }

    /**
     * The settings with {@code node.id=-1} resolved (unchanged for any other id). An id above
     * {@code reserved.broker.max.id} is refused unless the data dir already belongs to it, so an operator's choice
     * never collides with one the cluster gave.
     */
    static Map<String, String> resolve(Map<String, String> settings, Allocator allocator) throws IOException {
        int reservedMax = intSetting(settings, RESERVED_MAX_KEY, NodeConfig.DEFAULTS.get(RESERVED_MAX_KEY), 0,
                MAX_NODE_ID - 1);
        int configured = intSetting(settings, "node.id", NodeConfig.DEFAULTS.get("node.id"), -1, MAX_NODE_ID);
        String dataDir = settings.getOrDefault("data.dir", "").trim();
        if (configured != -1) {
            if (configured > reservedMax && !Integer.toString(configured).equals(stored(dataDir).getProperty("node.id"))) {
                throw new NodeConfig.ConfigException("node.id " + configured + " is above " + RESERVED_MAX_KEY + " ("
                        + reservedMax + "): ids above it are given by the cluster to nodes started with node.id=-1");
            }
            return settings;
        }
        if (dataDir.isEmpty()) {
            throw new NodeConfig.ConfigException("node.id=-1 needs data.dir: the node keeps the id the cluster gives "
                    + "it there");
        }
        String seedList = settings.getOrDefault("cluster.nodes", "").trim();
        if (seedList.isEmpty()) {
            throw new NodeConfig.ConfigException("node.id=-1 needs cluster.nodes naming the running cluster's "
                    + "controllers, which give the node its id");
        }
        if (!settings.getOrDefault(ListenerSettings.LISTENERS, "").isBlank()) {
            throw new NodeConfig.ConfigException("node.id=-1 cannot be combined with " + ListenerSettings.LISTENERS
                    + " yet: give the node's address as kafka.host / kafka.port (kafka.advertised.*)");
        }
        List<ClusterMember> seeds = ClusterMember.parseList(seedList);
        String ownAddress = ownAddress(settings); // checked before the cluster is asked
        Properties meta = stored(dataDir);
        String clusterId = settings.getOrDefault("cluster.id", "").trim();
        int nodeId;
        String controllers;
        if (meta.getProperty("node.id") != null) {
            nodeId = Integer.parseInt(meta.getProperty("node.id").trim());
            clusterId = clusterId.isEmpty() ? meta.getProperty("cluster.id", "") : clusterId;
            controllers = meta.getProperty(CONTROLLERS_KEY, "");
        } else {
            Allocated a = allocator.allocate(seeds, settings, clusterId, reservedMax + 1);
            nodeId = a.nodeId();
            clusterId = a.clusterId();
            controllers = a.controllers().stream().map(String::valueOf).collect(Collectors.joining(","));
            record(Path.of(dataDir), nodeId, clusterId, controllers);
        }
        Map<String, String> out = new HashMap<>(settings);
        out.put("node.id", Integer.toString(nodeId));
        if (settings.getOrDefault("cluster.id", "").isBlank()) {
            out.put("cluster.id", clusterId);
        }
        if (settings.getOrDefault(CONTROLLERS_KEY, "").isBlank() && !controllers.isEmpty()) {
            out.put(CONTROLLERS_KEY, controllers);
        }
        int self = nodeId;
        if (seeds.stream().noneMatch(m -> m.id() == self)) {
            out.put("cluster.nodes", seedList + "," + nodeId + "@" + ownAddress);
        }
        return out;
    }

    /**
     * This node's {@code cluster.nodes} entry without its id: its advertised Kafka address and its Raft, HTTP and
     * control ports.
     */
    private static String ownAddress(Map<String, String> settings) {
        String host = setting(settings, "kafka.advertised.host", setting(settings, "kafka.host", ""));
        if (host.isEmpty() || host.equals("0.0.0.0")) {
            throw new NodeConfig.ConfigException("node.id=-1 needs the address other nodes and clients reach this "
                    + "node at: set kafka.advertised.host");
        }
        int kafkaPort = intSetting(settings, "kafka.advertised.port", setting(settings, "kafka.port", ""), 1, 65535);
        int raftPort = intSetting(settings, "raft.port", NodeConfig.DEFAULTS.get("raft.port"), 1, 65535);
        int httpPort = intSetting(settings, "http.port", Integer.toString(raftPort + ClusterMember.HTTP_PORT_OFFSET),
                1, 65535);
        int controlPort = intSetting(settings, "control.port",
                Integer.toString(raftPort + ClusterMember.CONTROL_PORT_OFFSET), 1, 65535);
        return host + ":" + kafkaPort + ":" + raftPort + ":" + httpPort + ":" + controlPort;
    }

    /** {@code settings[key]}, else its non-empty default, else {@code otherwise}. */
    private static String setting(Map<String, String> settings, String key, String otherwise) {
        String v = settings.getOrDefault(key, "").trim();
        if (v.isEmpty()) {
            v = NodeConfig.DEFAULTS.getOrDefault(key, "");
        }
        return v.isEmpty() ? otherwise : v;
    }

    private static int intSetting(Map<String, String> settings, String key, String otherwise, int min, int max) {
        String v = settings.getOrDefault(key, "").trim();
        if (v.isEmpty()) {
            v = otherwise;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new NodeConfig.ConfigException("Invalid value " + v + " for configuration " + key
                + ": Value must be an integer in [" + min + "," + max + "]");
    }

    /** The data dir's {@code meta.properties}; empty when there is none (or no data dir). */
    private static Properties stored(String dataDir) throws IOException {
        Properties meta = new Properties();
        if (!dataDir.isEmpty()) {
            Path file = Path.of(dataDir).resolve(FluxNode.META_FILE);
            if (Files.exists(file)) {
                try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    meta.load(in);
                }
            }
        }
        return meta;
    }

    /** Writes the given id, cluster and controllers to a new {@code meta.properties}, durably. */
    private static void record(Path dataDir, int nodeId, String clusterId, String controllers) throws IOException {
        Files.createDirectories(dataDir);
        Properties meta = new Properties();
        meta.setProperty("node.id", Integer.toString(nodeId));
        meta.setProperty("cluster.id", clusterId);
        meta.setProperty(CONTROLLERS_KEY, controllers);
        DurableFiles.write(dataDir.resolve(FluxNode.META_FILE), out -> {
            Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            meta.store(writer, "FluxMQ node identity (node.id given by the cluster)");
            writer.flush();
        });
    }
}
