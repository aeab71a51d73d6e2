package io.fluxmq.node;

import io.fluxmq.kafka.auth.AuthorizerConfig;
import io.fluxmq.kafka.fetch.FetchSessionCache;
import io.fluxmq.kafka.server.ConnectionLimits;
import io.fluxmq.kafka.server.RequestMemory;
import io.fluxmq.kafka.server.KafkaFrontendConfig;
import io.fluxmq.kafka.quota.ClientQuotaConfig;
import io.fluxmq.kafka.security.SecurityConfigs;
import io.fluxmq.raft.RaftNodeConfig;
import io.fluxmq.raft.log.LogCleanerConfig;
import io.fluxmq.raft.log.SegmentLogConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import io.fluxmq.kafka.group.GroupConfig;
import io.fluxmq.kafka.txn.TxnConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The node's whole configuration, loaded once at start-up from (lowest precedence first) built-in defaults, a
 * properties file, {@code FLUXMQ_*} environment variables ({@code FLUXMQ_KAFKA_PORT} sets {@code kafka.port}) and
 * command-line flags. Every key, its default and meaning is in {@link #DEFAULTS} and docs/operations.md.
 *
 * <p>Kafka listeners: Kafka's {@code listeners}, {@code advertised.listeners} and
 * {@code listener.security.protocol.map}, or the older {@code kafka.host:kafka.port} (advertised as this node's
 * {@code cluster.nodes} entry) and optionally an external one ({@code kafka.external.port}) whose clients are given
 * the addresses in {@code kafka.external.nodes} (as in compose: peers' network inside, published ports on the host
 * outside); see {@link ListenerSettings}. TLS and SASL settings of listeners have Kafka's names
 * ({@link SecurityConfigs}).
 */
public record NodeConfig(int nodeId, Path dataDir, String kafkaHost, int kafkaPort, String advertisedHost,
                         int advertisedPort, String raftHost, int raftPort, Duration electionTimeoutMin,
                         Duration electionTimeoutMax, int maxRequestBytes, int maxMessageBytes,
                         SegmentLogConfig segment, long retentionMs, long retentionBytes,
                         Duration retentionCheckInterval, Duration leaderBalanceInterval, boolean fsync,
                         long snapshotEveryEntries, long raftLogSegmentBytes, boolean purgeUptoSnapshot, String httpHost,
                         boolean autoCreateTopics, int defaultPartitions, short defaultReplicationFactor,
                         List<ClusterMember> members, List<Integer> controllerIds, String clusterId,
                         GroupConfig groups, String controlHost, Duration heartbeatInterval,
                         Duration sessionTimeout, long producerIdExpirationMs, int raftWriteElementLimit,
                         String externalHost, int externalPort, Map<Integer, InetSocketAddress> externalNodes,
                         int fetchSessionSlots, long fetchSessionEvictionMs, Duration raftPauseCloseThreshold,
                         int raftAppendMaxInFlight, ConnectionLimits connectionLimits,
                         int maxInFlightPerConnection, TxnConfig transactions, List<KafkaListener> listeners,
                         AuthorizerConfig authorizer, String rack, int decommissionMaxMoves,
                         String partitionEngine, ClientQuotaConfig quotas, LogCleanerConfig cleaner,
                         ClusterTls clusterTls, long raftWalSegmentBytes, long leaderReplicationThrottledRate) {

    /** Which Raft implementation partitions run on. */
    public static final String PARTITION_ENGINE = "partition.engine";
    public static final String RATIS = "ratis";
    public static final String MULTIRAFT = "multiraft";
    /**
     * Bytes per second a partition leader sends to the replicas a reassignment adds while they catch up (Kafka's
     * broker config of this name; multi-Raft engine only); Long.MAX_VALUE: unbounded.
     */
    public static final String LEADER_REPLICATION_THROTTLED_RATE = "leader.replication.throttled.rate";
    /** The size of a file of the multi-Raft engine's write-ahead log; 0 for none (each partition log forced alone). */
    public static final String RAFT_WAL_SEGMENT_BYTES = "raft.wal.segment.bytes";

    /** Listener name of {@code kafka.port} when there is no external listener, and of the external listener. */
    public static final String EXTERNAL = "EXTERNAL";
    /** Listener name of {@code kafka.port} when there is an external listener too. */
    public static final String INTERNAL = "INTERNAL";

    /** Every accepted key with its default; an empty default means "derived from other keys". */
    public static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("node.id", "0");                          // -1: given by the cluster (NodeIdAllocation)
        d.put(NodeIdAllocation.RESERVED_MAX_KEY, "1000");
        d.put("cluster.nodes", "");                     // default: this node alone
        d.put("controller.nodes", "");                  // default: the first three ids of cluster.nodes
        d.put("cluster.id", "");                        // default: derived from cluster.nodes
        d.put("data.dir", "");                          // default: data/node-<node.id>
        d.put("kafka.host", "127.0.0.1");
        d.put("kafka.port", "9092");
        d.put("kafka.advertised.host", "");             // default: kafka.host
        d.put("kafka.advertised.port", "");             // default: kafka.port
        d.put("kafka.external.host", "");               // default: kafka.host
        d.put("kafka.external.port", "");               // default: no external listener
        d.put("kafka.external.nodes", "");              // required with kafka.external.port: id@host:port,...
        d.put(ListenerSettings.LISTENERS, "");          // default: from kafka.host/port and kafka.external.*
        d.put(ListenerSettings.ADVERTISED, "");         // default: the cluster.nodes entry / kafka.advertised.*
        d.put(ListenerSettings.PROTOCOL_MAP, "");       // added to PLAINTEXT:PLAINTEXT,...,INTERNAL:PLAINTEXT,...
        d.put("raft.host", "127.0.0.1");
        d.put("raft.port", "9192");
        d.put("raft.election.timeout.min.ms", "1000");
        d.put("raft.election.timeout.max.ms", "2000");
        d.put("raft.snapshot.interval.entries", "10000");
        d.put("raft.log.segment.bytes", "8388608");
        d.put("raft.log.purge.upto.snapshot", "true");
        d.put("raft.write.element.limit", Integer.toString(RaftNodeConfig.DEFAULT_WRITE_ELEMENT_LIMIT));
        d.put("raft.append.max.in.flight", Integer.toString(RaftNodeConfig.DEFAULT_APPEND_MAX_IN_FLIGHT)); // 0: off
        d.put("raft.pause.close.threshold.ms",
                Long.toString(RaftNodeConfig.DEFAULT_PAUSE_CLOSE_THRESHOLD.toMillis())); // then the node exits (3)
        d.put("http.host", "");                         // default: raft.host
        d.put("http.port", "");                         // default: this node's cluster.nodes entry, else raft.port+200
        d.put("control.host", "");                      // default: raft.host
        d.put("control.port", "");                      // default: this node's cluster.nodes entry, else raft.port+100
        d.put("node.heartbeat.interval.ms", "1000");
        d.put("node.session.timeout.ms", "6000");
        d.put("broker.rack", "");                       // Kafka's name; default: no rack
        d.put("decommission.max.concurrent.moves", "2"); // partitions a decommission moves at once
        d.put(PARTITION_ENGINE, MULTIRAFT);             // FluxMQ's own multi-Raft (ADR 3), or ratis
        d.put(LEADER_REPLICATION_THROTTLED_RATE, Long.toString(Long.MAX_VALUE)); // unbounded, as Kafka's default
        d.put(RAFT_WAL_SEGMENT_BYTES, "67108864");      // multiraft: a node-wide write-ahead log's file size; 0: none
        d.put("socket.request.max.bytes", "104857600");
        d.put(ConnectionLimits.MAX_IDLE_MS_KEY, Long.toString(ConnectionLimits.MAX_IDLE_MS_DEFAULT));
        d.put(ConnectionLimits.MAX_CONNECTIONS_KEY, Integer.toString(Integer.MAX_VALUE));
        d.put(ConnectionLimits.MAX_PER_IP_KEY, Integer.toString(Integer.MAX_VALUE));
        d.put(ConnectionLimits.PER_IP_OVERRIDES_KEY, "");   // host:count,...
        d.put(RequestMemory.KEY, Long.toString(RequestMemory.DEFAULT)); // -1: unbounded
        d.put(ClientQuotaConfig.WINDOW_NUM_KEY, Integer.toString(ClientQuotaConfig.WINDOW_NUM_DEFAULT));
        d.put(ClientQuotaConfig.WINDOW_SIZE_SECONDS_KEY,
                Integer.toString(ClientQuotaConfig.WINDOW_SIZE_SECONDS_DEFAULT));
        d.put(KafkaFrontendConfig.MAX_IN_FLIGHT_KEY, Integer.toString(KafkaFrontendConfig.MAX_IN_FLIGHT_DEFAULT));
        d.put("message.max.bytes", "1048588");
        d.put("log.segment.bytes", "1073741824");
        d.put("log.segment.ms", "604800000");
        d.put("log.index.interval.bytes", "4096");
        d.put("log.retention.ms", "604800000");
        d.put("log.retention.bytes", "-1");
        d.put("log.retention.check.interval.ms", "300000");
        d.put(LogCleanerConfig.ENABLE_KEY, Boolean.toString(LogCleanerConfig.ENABLE_DEFAULT));
        d.put(LogCleanerConfig.IO_MAX_BYTES_PER_SECOND_KEY,
                Long.toString(LogCleanerConfig.IO_MAX_BYTES_PER_SECOND_DEFAULT)); // unlimited
        d.put(LogCleanerConfig.BACKOFF_MS_KEY, Long.toString(LogCleanerConfig.BACKOFF_MS_DEFAULT));
        d.put(LogCleanerConfig.DEDUPE_BUFFER_SIZE_KEY, Long.toString(LogCleanerConfig.DEDUPE_BUFFER_SIZE_DEFAULT));
        d.put("log.fsync", "true");
        d.put("producer.id.expiration.ms", "86400000");  // Kafka's default: one day
        d.put("auto.create.topics.enable", "false");
        d.put("leader.balance.interval.ms", "30000");
        d.put("num.partitions", "1");
        d.put("default.replication.factor", "");       // default: min(3, number of nodes)
        // Group coordinator (Kafka's names and defaults, except 10 offsets partitions: see docs/architecture.md)
        d.put("offsets.topic.num.partitions", "10");
        d.put("offsets.topic.replication.factor", ""); // default: min(3, number of nodes)
        d.put("offsets.topic.segment.bytes", Integer.toString(GroupConfig.DEFAULT_OFFSETS_TOPIC_SEGMENT_BYTES));
        d.put("offsets.retention.minutes", "10080");
        d.put("offsets.retention.check.interval.ms", "600000");
        d.put("offset.metadata.max.bytes", "4096");
        d.put("group.min.session.timeout.ms", "6000");
        d.put("group.max.session.timeout.ms", "1800000");
        d.put("group.initial.rebalance.delay.ms", "3000");
        d.put("group.max.size", "2147483647");
        d.put("group.consumer.session.timeout.ms", "45000");
        d.put("group.consumer.heartbeat.interval.ms", "5000");
        d.put("group.consumer.assignors", "uniform,range");
        // Transaction coordinator (Kafka's names and defaults, except 3 state partitions: see docs/architecture.md)
        d.put("transaction.state.log.num.partitions", Integer.toString(TxnConfig.DEFAULT_STATE_TOPIC_PARTITIONS));
        d.put("transaction.state.log.replication.factor", ""); // default: min(3, number of nodes)
        d.put("transaction.state.log.segment.bytes", Integer.toString(TxnConfig.DEFAULT_STATE_TOPIC_SEGMENT_BYTES));
        d.put("transaction.max.timeout.ms", Integer.toString(TxnConfig.DEFAULT_MAX_TIMEOUT_MS));
        d.put("transaction.abort.timed.out.transaction.cleanup.interval.ms",
                Long.toString(TxnConfig.DEFAULT_ABORT_CHECK_INTERVAL_MS));
        // the feature level Kafka sets with kafka-features; here a node setting, the same on every node
        d.put("transaction.version", Short.toString(TxnConfig.MAX_TRANSACTION_VERSION));
        d.put(FetchSessionCache.SLOTS_KEY, Integer.toString(FetchSessionCache.SLOTS_DEFAULT));
        d.put(FetchSessionCache.EVICTION_MS_KEY, Long.toString(FetchSessionCache.EVICTION_MS_DEFAULT));
        // Authorization (Kafka's names; any non-empty authorizer.class.name turns the ACL authorizer on)
        d.put(AuthorizerConfig.CLASS_NAME_KEY, AuthorizerConfig.CLASS_NAME_DEFAULT);
        d.put(AuthorizerConfig.SUPER_USERS_KEY, AuthorizerConfig.SUPER_USERS_DEFAULT); // User:a;User:b
        d.put(AuthorizerConfig.ALLOW_EVERYONE_KEY, Boolean.toString(AuthorizerConfig.ALLOW_EVERYONE_DEFAULT));
        return Map.copyOf(d);
    }

    /**
     * Kafka's inter-broker settings, refused with what to set instead: Kafka brokers replicate over one of their Kafka
     * listeners, chosen by these keys and secured with that listener's settings; FluxMQ nodes never talk to each other
     * over a Kafka listener (Raft and the control service have their own ports and their own TLS), so an alias would
     * silently mean something else. A value that changes nothing in Kafka (PLAINTEXT) is refused too, so that a
     * Kafka configuration copied over does not look secured when it is not.
     */
    static final Map<String, String> KAFKA_INTER_BROKER = Map.of(
            "security.inter.broker.protocol", "FluxMQ nodes talk to each other over Raft (raft.port) and the control "
                    + "service (control.port), not over a Kafka listener; for mutual TLS between nodes set "
                    + ClusterTls.PROTOCOL_KEY + "=SSL with the cluster.ssl.* key and trust stores (docs/security.md, "
                    + "Node-to-node TLS); remove this setting",
            "inter.broker.listener.name", "FluxMQ nodes talk to each other over Raft (raft.port) and the control "
                    + "service (control.port), not over a Kafka listener; the first entry of 'listeners' is the one "
                    + "cluster.nodes addresses, and " + ClusterTls.PROTOCOL_KEY + "=SSL secures node-to-node traffic "
                    + "(docs/security.md, Node-to-node TLS); remove this setting");

    /** Whether {@code key} is a setting: one of {@link #DEFAULTS} or a listener security key. */
    public static boolean isKey(String key) {
        return DEFAULTS.containsKey(key) || SecurityConfigs.isSecurityKey(key) || ListenerSettings.isNodesKey(key)
                || ClusterTls.isKey(key);
    }

    /** Builds and validates a config from merged key/value settings; throws {@link ConfigException} on a bad one. */
    public static NodeConfig from(Map<String, String> settings) {
        Map<String, String> s = new TreeMap<>(DEFAULTS);
        Map<String, String> security = new TreeMap<>();
        Map<String, String> cluster = new TreeMap<>();
        for (Map.Entry<String, String> e : settings.entrySet()) {
            if (ClusterTls.isKey(e.getKey())) {
                cluster.put(e.getKey(), e.getValue().trim());
            } else if (SecurityConfigs.isSecurityKey(e.getKey()) || ListenerSettings.isNodesKey(e.getKey())) {
                security.put(e.getKey(), e.getValue().trim());
            } else if (KAFKA_INTER_BROKER.containsKey(e.getKey())) {
                throw new ConfigException("setting '" + e.getKey() + "' is Kafka's and has no FluxMQ equivalent: "
                        + KAFKA_INTER_BROKER.get(e.getKey()));
            } else if (!DEFAULTS.containsKey(e.getKey())) {
                throw new ConfigException("unknown setting '" + e.getKey() + "'");
            } else {
                s.put(e.getKey(), e.getValue().trim());
            }
        }
        Reader r = new Reader(s);
        int nodeId = r.intIn("node.id", 0, 1 << 20);
        r.intIn(NodeIdAllocation.RESERVED_MAX_KEY, 0, NodeIdAllocation.MAX_NODE_ID - 1); // used before: NodeIdAllocation
        String dataDir = s.get("data.dir").isEmpty() ? "data/node-" + nodeId : s.get("data.dir");
        mainListenerFromListeners(s, settings.keySet());
        String kafkaHost = r.nonEmpty("kafka.host");
        int kafkaPort = r.intIn("kafka.port", 0, 65535);
        String advertisedHost = s.get("kafka.advertised.host").isEmpty() ? kafkaHost : s.get("kafka.advertised.host");
        if (advertisedHost.equals("0.0.0.0")) {
            throw new ConfigException("kafka.advertised.host must be set when kafka.host is 0.0.0.0");
        }
        int advertisedPort = s.get("kafka.advertised.port").isEmpty() ? kafkaPort
                : r.intIn("kafka.advertised.port", 1, 65535);
        long electionMin = r.longIn("raft.election.timeout.min.ms", 50, 60_000);
        long electionMax = r.longIn("raft.election.timeout.max.ms", 51, 120_000);
        if (electionMax <= electionMin) {
            throw new ConfigException("raft.election.timeout.max.ms (" + electionMax
                    + ") must be above raft.election.timeout.min.ms (" + electionMin + ")");
        }
        int maxMessageBytes = r.intIn("message.max.bytes", 1024, 64 << 20);
        long heartbeatMs = r.longIn("node.heartbeat.interval.ms", 10, 60_000);
        long sessionMs = r.longIn("node.session.timeout.ms", 20, 600_000);
        if (sessionMs <= heartbeatMs) {
            throw new ConfigException("node.session.timeout.ms (" + sessionMs
                    + ") must be above node.heartbeat.interval.ms (" + heartbeatMs + ")");
        }
        SegmentLogConfig segment;
        try {
            segment = new SegmentLogConfig(r.intIn("log.segment.bytes", 1024, Integer.MAX_VALUE),
                    r.longIn("log.segment.ms", 1, Long.MAX_VALUE),
                    r.intIn("log.index.interval.bytes", 0, Integer.MAX_VALUE),
                    SegmentLogConfig.defaults().maxIndexBytes());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        return new NodeConfig(nodeId, Path.of(dataDir), kafkaHost, kafkaPort, advertisedHost, advertisedPort,
                r.nonEmpty("raft.host"), r.intIn("raft.port", 0, 65535),
                Duration.ofMillis(electionMin), Duration.ofMillis(electionMax),
                r.intIn("socket.request.max.bytes", 1024, Integer.MAX_VALUE), maxMessageBytes, segment,
                r.longIn("log.retention.ms", -1, Long.MAX_VALUE), r.longIn("log.retention.bytes", -1, Long.MAX_VALUE),
                Duration.ofMillis(r.longIn("log.retention.check.interval.ms", 1, Long.MAX_VALUE)),
                Duration.ofMillis(r.longIn("leader.balance.interval.ms", 100, Long.MAX_VALUE)),
                r.bool("log.fsync"), r.longIn("raft.snapshot.interval.entries", 1, Long.MAX_VALUE),
                r.longIn("raft.log.segment.bytes", 1024, 1L << 30), r.bool("raft.log.purge.upto.snapshot"),
                s.get("http.host").isEmpty() ? s.get("raft.host") : s.get("http.host"),
                r.bool("auto.create.topics.enable"), r.intIn("num.partitions", 1, 100_000),
                (short) 0, List.of(), List.of(), "", null,
                s.get("control.host").isEmpty() ? s.get("raft.host") : s.get("control.host"),
                Duration.ofMillis(heartbeatMs), Duration.ofMillis(sessionMs),
                r.longIn("producer.id.expiration.ms", 1, Integer.MAX_VALUE),
                r.intIn("raft.write.element.limit", 1, Integer.MAX_VALUE),
                s.get("kafka.external.host").isEmpty() ? kafkaHost : s.get("kafka.external.host"),
                s.get("kafka.external.port").isEmpty() ? -1 : r.intIn("kafka.external.port", 0, 65535), Map.of(),
                r.intIn(FetchSessionCache.SLOTS_KEY, 0, 1 << 20),
                r.longIn(FetchSessionCache.EVICTION_MS_KEY, 0, Long.MAX_VALUE),
                Duration.ofMillis(r.longIn("raft.pause.close.threshold.ms", 1000, 86_400_000L)),
                r.intIn("raft.append.max.in.flight", 0, 1024), connectionLimits(s, r),
                r.intIn(KafkaFrontendConfig.MAX_IN_FLIGHT_KEY, 1, 1 << 20), null, List.of(), authorizer(s, r),
                s.get("broker.rack"), r.intIn("decommission.max.concurrent.moves", 1, 1000), partitionEngine(s),
                new ClientQuotaConfig(r.intIn(ClientQuotaConfig.WINDOW_NUM_KEY, 1, 1000),
                        r.intIn(ClientQuotaConfig.WINDOW_SIZE_SECONDS_KEY, 1, 3600)),
                new LogCleanerConfig(r.bool(LogCleanerConfig.ENABLE_KEY),
                        r.longIn(LogCleanerConfig.IO_MAX_BYTES_PER_SECOND_KEY, 1, Long.MAX_VALUE),
                        Duration.ofMillis(r.longIn(LogCleanerConfig.BACKOFF_MS_KEY, 1, Long.MAX_VALUE)),
                        r.longIn(LogCleanerConfig.DEDUPE_BUFFER_SIZE_KEY, 1024, Long.MAX_VALUE)), null,
                walSegmentBytes(r), r.longIn(LEADER_REPLICATION_THROTTLED_RATE, 1, Long.MAX_VALUE))
                .withCluster(s, r, security, ClusterTls.parse(cluster));
    }

    /**
     * With {@code listeners} set, its first listener is the {@code cluster.nodes} one: sets {@code kafka.host} and
     * {@code kafka.port} from it (they must agree where given too); {@code kafka.external.*} must then be unset.
     * The {@code advertised.listeners} entry of the first listener sets {@code kafka.advertised.*} unless given.
     */
    private static void mainListenerFromListeners(Map<String, String> s, Set<String> given) {
        String firstName = s.get("kafka.external.port").isEmpty() ? EXTERNAL : INTERNAL;
        if (!s.get(ListenerSettings.LISTENERS).isEmpty()) {
            for (String legacy : List.of("kafka.external.host", "kafka.external.port", "kafka.external.nodes")) {
                if (!s.get(legacy).isEmpty()) {
                    throw new ConfigException(legacy + " cannot be combined with " + ListenerSettings.LISTENERS
                            + ": name the external listener there and give its addresses in "
                            + "listener.name.<name>.nodes");
                }
            }
            ListenerSettings.Endpoint first = ListenerSettings.endpoints(ListenerSettings.LISTENERS,
                    s.get(ListenerSettings.LISTENERS)).get(0);
            if (given.contains("kafka.port") && !s.get("kafka.port").equals(Integer.toString(first.port()))) {
                throw new ConfigException("kafka.port " + s.get("kafka.port") + " differs from the port of the "
                        + "first listener in " + ListenerSettings.LISTENERS + " (" + first + ")");
            }
            if (given.contains("kafka.host") && !s.get("kafka.host").equals(first.host())) {
                throw new ConfigException("kafka.host " + s.get("kafka.host") + " differs from the host of the "
                        + "first listener in " + ListenerSettings.LISTENERS + " (" + first + ")");
            }
            s.put("kafka.host", first.host());
            s.put("kafka.port", Integer.toString(first.port()));
            firstName = first.name();
        }
        if (!s.get(ListenerSettings.ADVERTISED).isEmpty()) {
            for (ListenerSettings.Endpoint a : ListenerSettings.endpoints(ListenerSettings.ADVERTISED,
                    s.get(ListenerSettings.ADVERTISED))) {
                if (a.name().equals(firstName)) {
                    if (s.get("kafka.advertised.host").isEmpty()) {
                        s.put("kafka.advertised.host", a.host());
                    }
                    if (s.get("kafka.advertised.port").isEmpty()) {
                        s.put("kafka.advertised.port", Integer.toString(a.port()));
                    }
                }
            }
        }
    }

    private NodeConfig withCluster(Map<String, String> s, Reader r, Map<String, String> security,
                                   ClusterTls clusterTls) {
        List<ClusterMember> members = s.get("cluster.nodes").isEmpty()
                ? List.of(new ClusterMember(nodeId, advertisedHost, advertisedPort, raftPort,
                        s.get("http.port").isEmpty() ? raftPort + ClusterMember.HTTP_PORT_OFFSET
                                : r.intIn("http.port", 0, 65535),
                        s.get("control.port").isEmpty() ? raftPort + ClusterMember.CONTROL_PORT_OFFSET
                                : r.intIn("control.port", 0, 65535)))
                : ClusterMember.parseList(s.get("cluster.nodes"));
        ClusterMember self = members.stream().filter(m -> m.id() == nodeId).findFirst().orElseThrow(() ->
                new ConfigException("cluster.nodes does not list node.id " + nodeId));
        if (self.raftPort() != raftPort && !s.get("cluster.nodes").isEmpty()) {
            throw new ConfigException("raft.port " + raftPort + " differs from this node's entry " + self
                    + " in cluster.nodes");
        }
        if (!s.get("control.port").isEmpty() && !s.get("cluster.nodes").isEmpty()
                && r.intIn("control.port", 0, 65535) != self.controlPort()) {
            throw new ConfigException("control.port " + s.get("control.port") + " differs from this node's control port "
                    + self.controlPort() + " in cluster.nodes (id@host:kafkaPort:raftPort:httpPort:controlPort, "
                    + "default raft port + " + ClusterMember.CONTROL_PORT_OFFSET + ")");
        }
        List<Integer> ids = members.stream().map(ClusterMember::id).sorted().toList();
        List<Integer> controllers = new ArrayList<>();
        if (s.get("controller.nodes").isEmpty()) {
            controllers.addAll(ids.subList(0, Math.min(3, ids.size())));
        } else {
            for (String c : s.get("controller.nodes").split(",")) {
                try {
                    controllers.add(Integer.parseInt(c.trim()));
                } catch (NumberFormatException e) {
                    throw new ConfigException("invalid value '" + c + "' in controller.nodes: expected node ids");
                }
            }
            if (!ids.containsAll(controllers)) {
                throw new ConfigException("controller.nodes " + controllers + " must be ids in cluster.nodes " + ids);
            }
        }
        short rf = s.get("default.replication.factor").isEmpty() ? (short) Math.min(3, members.size())
                : (short) r.intIn("default.replication.factor", 1, members.size());
        java.util.UUID derived = java.util.UUID.nameUUIDFromBytes(members.stream().map(ClusterMember::toString)
                .sorted().toList().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String clusterId = s.get("cluster.id").isEmpty()
                ? new org.apache.kafka.common.Uuid(derived.getMostSignificantBits(), derived.getLeastSignificantBits())
                        .toString()
                : s.get("cluster.id");
        return new NodeConfig(nodeId, dataDir, kafkaHost, kafkaPort, advertisedHost, advertisedPort, raftHost,
                raftPort, electionTimeoutMin, electionTimeoutMax, maxRequestBytes, maxMessageBytes, segment, retentionMs,
                retentionBytes, retentionCheckInterval, leaderBalanceInterval, fsync, snapshotEveryEntries, raftLogSegmentBytes,
                purgeUptoSnapshot, httpHost,
                autoCreateTopics, defaultPartitions, rf, List.copyOf(members), List.copyOf(controllers), clusterId,
                groups(r, s, members.size()), controlHost, heartbeatInterval, sessionTimeout, producerIdExpirationMs,
                raftWriteElementLimit, externalHost, externalPort, externalNodes(s, ids), fetchSessionSlots,
                fetchSessionEvictionMs, raftPauseCloseThreshold, raftAppendMaxInFlight, connectionLimits,
                maxInFlightPerConnection, transactions(r, s, members.size()), ListenerSettings.parse(s, security,
                        nodeId, ids, !s.get("cluster.nodes").isEmpty(), externalNodes(s, ids)), authorizer, rack,
                decommissionMaxMoves, partitionEngine, quotas, cleaner, clusterTls, raftWalSegmentBytes,
                leaderReplicationThrottledRate);
    }

    private static long walSegmentBytes(Reader r) {
        long bytes = r.longIn(RAFT_WAL_SEGMENT_BYTES, 0, 1L << 30);
        if (bytes > 0 && bytes < (1 << 20)) {
            throw new ConfigException("Invalid value " + bytes + " for configuration " + RAFT_WAL_SEGMENT_BYTES
                    + ": Value must be 0 (no write-ahead log) or at least 1048576");
        }
        return bytes;
    }

    private static String partitionEngine(Map<String, String> s) {
        String value = s.get(PARTITION_ENGINE);
        if (!value.equals(RATIS) && !value.equals(MULTIRAFT)) {
            throw new ConfigException("Invalid value " + value + " for configuration " + PARTITION_ENGINE
                    + ": String must be one of: " + RATIS + ", " + MULTIRAFT);
        }
        return value;
    }

    /** Whether partitions run on FluxMQ's own multi-Raft instead of Ratis ({@value #PARTITION_ENGINE}). */
    public boolean multiRaft() {
        return MULTIRAFT.equals(partitionEngine);
    }

    /** The port of node {@code id}'s multi-Raft transport: its Raft port + {@value ClusterMember#ENGINE_PORT_OFFSET}. */
    public static int enginePort(ClusterMember member) {
        return member.raftPort() + ClusterMember.ENGINE_PORT_OFFSET;
    }

    /**
     * The segment size of an internal topic: at least {@code message.max.bytes}, the default {@code max.message.bytes}
     * of the topic, since a batch is written into one segment.
     */
    private static int internalSegmentBytes(Reader r, String key) {
        int maxMessageBytes = r.intIn("message.max.bytes", 1024, 64 << 20);
        return r.intIn(key, maxMessageBytes, Integer.MAX_VALUE);
    }

    private static TxnConfig transactions(Reader r, Map<String, String> s, int nodes) {
        try {
            short rf = s.get("transaction.state.log.replication.factor").isEmpty() ? (short) Math.min(3, nodes)
                    : (short) r.intIn("transaction.state.log.replication.factor", 1, nodes);
            return new TxnConfig(r.intIn("transaction.state.log.num.partitions", 1, 1000), rf,
                    r.intIn("transaction.max.timeout.ms", 1, Integer.MAX_VALUE),
                    r.longIn("transaction.abort.timed.out.transaction.cleanup.interval.ms", 1, Long.MAX_VALUE),
                    internalSegmentBytes(r, "transaction.state.log.segment.bytes"),
                    (short) r.intIn("transaction.version", 0, TxnConfig.MAX_TRANSACTION_VERSION));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    private static AuthorizerConfig authorizer(Map<String, String> s, Reader r) {
        try {
            return AuthorizerConfig.parse(s.get(AuthorizerConfig.CLASS_NAME_KEY),
                    s.get(AuthorizerConfig.SUPER_USERS_KEY), r.bool(AuthorizerConfig.ALLOW_EVERYONE_KEY));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /**
     * The bounds on Kafka connections. {@code queued.max.request.bytes} must leave room for one request of the
     * largest size ({@code socket.request.max.bytes}), as Kafka requires, or a single large request could never be
     * read whole.
     */
    private static ConnectionLimits connectionLimits(Map<String, String> s, Reader r) {
        long memory = r.longIn(RequestMemory.KEY, -1, Long.MAX_VALUE);
        long maxRequest = r.intIn("socket.request.max.bytes", 1024, Integer.MAX_VALUE);
        if (memory == 0 || (memory > 0 && memory < maxRequest + 4)) {
            throw new ConfigException(RequestMemory.KEY + " (" + memory + ") must be -1 (unbounded) or at least "
                    + "socket.request.max.bytes + 4 (" + (maxRequest + 4) + ")");
        }
        try {
            return new ConnectionLimits(r.longIn(ConnectionLimits.MAX_IDLE_MS_KEY, 1, Long.MAX_VALUE),
                    r.intIn(ConnectionLimits.MAX_CONNECTIONS_KEY, 1, Integer.MAX_VALUE),
                    r.intIn(ConnectionLimits.MAX_PER_IP_KEY, 0, Integer.MAX_VALUE),
                    ConnectionLimits.parseOverrides(s.get(ConnectionLimits.PER_IP_OVERRIDES_KEY)), memory);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /** {@code kafka.external.nodes}: required with an external listener, then listing exactly the cluster's ids. */
    private Map<Integer, InetSocketAddress> externalNodes(Map<String, String> s, List<Integer> ids) {
        String value = s.get("kafka.external.nodes");
        if (externalPort < 0) {
            if (!value.isEmpty()) {
                throw new ConfigException("kafka.external.nodes is set but kafka.external.port is not");
            }
            return Map.of();
        }
        if (value.isEmpty()) {
            throw new ConfigException("kafka.external.port needs kafka.external.nodes (id@host:port,... for every node)");
        }
        return parseNodeAddresses("kafka.external.nodes", value, ids);
    }

    /** {@code id@host:port,...} listing exactly the ids {@code ids}; errors name {@code key}. */
    static Map<Integer, InetSocketAddress> parseNodeAddresses(String key, String value, List<Integer> ids) {
        Map<Integer, InetSocketAddress> out = new TreeMap<>();
        for (String item : value.split(",")) {
            String e = item.trim();
            int at = e.indexOf('@');
            int colon = e.lastIndexOf(':');
            try {
                if (at <= 0 || colon <= at + 1) {
                    throw new NumberFormatException();
                }
                int port = Integer.parseInt(e.substring(colon + 1));
                if (port < 1 || port > 65535 || out.put(Integer.parseInt(e.substring(0, at)),
                        InetSocketAddress.createUnresolved(e.substring(at + 1, colon), port)) != null) {
                    throw new NumberFormatException();
                }
            } catch (IllegalArgumentException x) { // NumberFormatException too
                throw new ConfigException(key + " entry '" + e + "' is not id@host:port (or repeats an id)");
            }
        }
        if (!out.keySet().equals(ids.stream().collect(Collectors.toSet()))) {
            throw new ConfigException(key + " lists ids " + out.keySet() + ", cluster.nodes " + ids
                    + ": every node needs its address on this listener");
        }
        return Map.copyOf(out);
    }

    private static GroupConfig groups(Reader r, Map<String, String> s, int nodes) {
        try {
            short rf = s.get("offsets.topic.replication.factor").isEmpty() ? (short) Math.min(3, nodes)
                    : (short) r.intIn("offsets.topic.replication.factor", 1, nodes);
            return new GroupConfig(r.intIn("offsets.topic.num.partitions", 1, 1000), rf,
                    Duration.ofMinutes(r.longIn("offsets.retention.minutes", 1, Integer.MAX_VALUE)),
                    Duration.ofMillis(r.longIn("offsets.retention.check.interval.ms", 1, Long.MAX_VALUE)),
                    r.intIn("offset.metadata.max.bytes", 0, Integer.MAX_VALUE),
                    Duration.ofMillis(r.longIn("group.min.session.timeout.ms", 1, Integer.MAX_VALUE)),
                    Duration.ofMillis(r.longIn("group.max.session.timeout.ms", 1, Integer.MAX_VALUE)),
                    Duration.ofMillis(r.longIn("group.initial.rebalance.delay.ms", 0, Integer.MAX_VALUE)),
                    Duration.ofMillis(r.longIn("group.consumer.session.timeout.ms", 1, Integer.MAX_VALUE)),
                    Duration.ofMillis(r.longIn("group.consumer.heartbeat.interval.ms", 1, Integer.MAX_VALUE)),
                    List.of(s.get("group.consumer.assignors").split("\\s*,\\s*")),
                    r.intIn("group.max.size", 1, Integer.MAX_VALUE),
                    internalSegmentBytes(r, "offsets.topic.segment.bytes"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /** This node's HTTP port (health, replica catch-up), from its cluster.nodes entry. */
    public int httpPort() {
        return member(nodeId).httpPort();
    }

    /** This node's gRPC control port, from its cluster.nodes entry (default raft.port + 100). */
    public int controlPort() {
        return member(nodeId).controlPort();
    }

    public ClusterMember member(int id) {
        return members.stream().filter(m -> m.id() == id).findFirst().orElse(null);
    }

    public RaftNodeConfig raft() {
        return new RaftNodeConfig(nodeId, raftHost, raftPort, dataDir, electionTimeoutMin, electionTimeoutMax,
                maxMessageBytes, segment, fsync, snapshotEveryEntries, raftLogSegmentBytes, purgeUptoSnapshot,
                producerIdExpirationMs, raftWriteElementLimit, raftPauseCloseThreshold, raftAppendMaxInFlight);
    }

    /** The Kafka listeners, the {@code cluster.nodes} one ({@code kafka.port}) first. */
    public List<KafkaFrontendConfig> kafkaListeners() {
        return listeners.stream().map(l -> new KafkaFrontendConfig(l.name(), l.host(), l.port(), maxRequestBytes,
                maxInFlightPerConnection, l.security())).toList();
    }

    /**
     * The address of every node on {@code listener}, for its clients; empty means the {@code cluster.nodes}
     * entries (the first listener, or an unknown name).
     */
    public Map<Integer, InetSocketAddress> listenerNodes(String listener) {
        return listeners.stream().filter(l -> l.name().equals(listener)).findFirst().map(KafkaListener::nodes)
                .orElse(Map.of());
    }

    /** A bad configuration value; the message names the key. */
    public static final class ConfigException extends RuntimeException {
        public ConfigException(String message) {
            super(message);
        }
    }

    private record Reader(Map<String, String> s) {
        int intIn(String key, int min, int max) {
            return (int) longIn(key, min, max);
        }

        long longIn(String key, long min, long max) {
            String value = s.get(key);
            long parsed;
            try {
                parsed = Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new ConfigException("invalid value '" + value + "' for " + key + ": expected an integer");
            }
            if (parsed < min || parsed > max) {
                throw new ConfigException("invalid value " + parsed + " for " + key + ": must be between " + min
                        + " and " + max);
            }
            return parsed;
        }

        boolean bool(String key) {
            String value = s.get(key);
            if (!value.equals("true") && !value.equals("false")) {
                throw new ConfigException("invalid value '" + value + "' for " + key + ": expected true or false");
            }
            return Boolean.parseBoolean(value);
        }

        String nonEmpty(String key) {
            String value = s.get(key);
            if (value.isEmpty()) {
                throw new ConfigException(key + " must not be empty");
            }
            return value;
        }
    }
}
