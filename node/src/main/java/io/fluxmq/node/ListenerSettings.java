package io.fluxmq.node;

import io.fluxmq.kafka.security.ListenerSecurity;
import io.fluxmq.kafka.security.SecurityConfigs;
import io.fluxmq.node.NodeConfig.ConfigException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.security.auth.SecurityProtocol;

/**
 * The node's Kafka listeners from Kafka's settings ({@code listeners}, {@code advertised.listeners},
 * {@code listener.security.protocol.map}) or FluxMQ's older ones ({@code kafka.host}/{@code kafka.port},
 * {@code kafka.external.*}), which map onto them:
 * <ul>
 *   <li>{@code kafka.host:kafka.port} alone is {@code listeners=EXTERNAL://kafka.host:kafka.port};</li>
 *   <li>with {@code kafka.external.port} it is {@code listeners=INTERNAL://kafka.host:kafka.port,
 *       EXTERNAL://kafka.external.host:kafka.external.port} and {@code kafka.external.nodes} is
 *       {@code listener.name.external.nodes}.</li>
 * </ul>
 * The first listener is the one whose addresses are the {@code cluster.nodes} entries (host:kafkaPort). Clients of
 * another listener are given the addresses of {@code listener.name.<name>.nodes} ({@code id@host:port,...}, every
 * node; FluxMQ's static counterpart of the addresses Kafka brokers register), or, on a node without
 * {@code cluster.nodes}, its {@code advertised.listeners} entry. The security protocol of a listener is its entry in
 * {@code listener.security.protocol.map}, whose defaults map PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL to
 * themselves and INTERNAL and EXTERNAL to PLAINTEXT; entries given are added to those.
 */
final class ListenerSettings {
    static final String LISTENERS = "listeners";
    static final String ADVERTISED = "advertised.listeners";
    static final String PROTOCOL_MAP = "listener.security.protocol.map";
    private static final Pattern ENDPOINT = Pattern.compile("^([A-Za-z0-9_]+)://(\\[[0-9a-fA-F:.]+]|[^:/\\[\\]]*):(\\d+)$");
    private static final Pattern NODES_KEY = Pattern.compile("^listener\\.name\\.([a-z0-9_]+)\\.nodes$");

    private ListenerSettings() {
    }

    /** Whether {@code key} is {@code listener.name.<name>.nodes}. */
    static boolean isNodesKey(String key) {
        return NODES_KEY.matcher(key).matches();
    }

    /** An endpoint of {@code listeners} or {@code advertised.listeners}. */
    record Endpoint(String name, String host, int port) {
    }

    /**
     * Parses {@code NAME://host:port,...}; a bad entry or a repeated name is an error naming {@code key}, in the
     * words of Kafka's ConfigDef ("Invalid value ... for configuration ...").
     */
    static List<Endpoint> endpoints(String key, String value) {
        Map<String, Endpoint> out = new LinkedHashMap<>();
        for (String item : value.split(",")) {
            String e = item.trim();
            Matcher m = ENDPOINT.matcher(e);
            if (!m.matches()) {
                throw invalid(key, value, "'" + e + "' is not NAME://host:port");
            }
            int port = Integer.parseInt(m.group(3));
            if (port > 65535) {
                throw invalid(key, value, "port " + port + " of '" + e + "' is not a TCP port");
            }
            String name = m.group(1).toUpperCase(Locale.ROOT);
            String host = m.group(2).isEmpty() ? "0.0.0.0" : m.group(2).replaceAll("^\\[|]$", "");
            if (out.put(name, new Endpoint(name, host, port)) != null) {
                throw invalid(key, value, "listener name " + name + " appears twice");
            }
        }
        return List.copyOf(out.values());
    }

    /** {@code listener.security.protocol.map} over its defaults. */
    static Map<String, SecurityProtocol> protocolMap(String value) {
        Map<String, SecurityProtocol> map = new TreeMap<>();
        for (SecurityProtocol p : SecurityProtocol.values()) {
            map.put(p.name, p);
        }
        map.put(NodeConfig.INTERNAL, SecurityProtocol.PLAINTEXT);
        map.put(NodeConfig.EXTERNAL, SecurityProtocol.PLAINTEXT);
        if (value.isEmpty()) {
            return map;
        }
        for (String item : value.split(",")) {
            String[] kv = item.trim().split(":");
            if (kv.length != 2 || !kv[0].matches("[A-Za-z0-9_]+")) {
                throw invalid(PROTOCOL_MAP, value, "'" + item.trim() + "' is not NAME:PROTOCOL");
            }
            SecurityProtocol protocol;
            try {
                protocol = SecurityProtocol.forName(kv[1].trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw invalid(PROTOCOL_MAP, value, "unknown security protocol '" + kv[1].trim() + "' (one of "
                        + SecurityProtocol.names() + ")");
            }
            map.put(kv[0].trim().toUpperCase(Locale.ROOT), protocol);
        }
        return map;
    }

    private static ConfigException invalid(String key, String value, String reason) {
        return new ConfigException("Invalid value " + value + " for configuration " + key + ": " + reason);
    }

    /**
     * The listeners, first the {@code cluster.nodes} one. {@code s} holds every setting with its default,
     * {@code security} the listener security settings and
     * {@code listener.name.*} keys; {@code ids} the cluster's node ids, {@code clustered} whether
     * {@code cluster.nodes} is set.
     */
    static List<KafkaListener> parse(Map<String, String> s, Map<String, String> security,
                                     int nodeId, List<Integer> ids, boolean clustered,
                                     Map<Integer, InetSocketAddress> externalNodes) {
        Map<String, SecurityProtocol> protocols = protocolMap(s.get(PROTOCOL_MAP));
        List<Endpoint> endpoints = endpoints(s);
        Map<String, Endpoint> advertised = new LinkedHashMap<>();
        if (!s.get(ADVERTISED).isEmpty()) {
            for (Endpoint e : endpoints(ADVERTISED, s.get(ADVERTISED))) {
                if (endpoints.stream().noneMatch(l -> l.name().equals(e.name()))) {
                    throw invalid(ADVERTISED, s.get(ADVERTISED), "listener " + e.name() + " is not in listeners");
                }
                advertised.put(e.name(), e);
            }
        }
        for (String key : security.keySet()) {
            Matcher m = NODES_KEY.matcher(key);
            if (m.matches() && endpoints.stream().noneMatch(l -> l.name().equalsIgnoreCase(m.group(1)))) {
                throw new ConfigException(key + " names no listener in " + LISTENERS + " " + endpoints);
            }
        }
        List<KafkaListener> out = new ArrayList<>();
        for (int i = 0; i < endpoints.size(); i++) {
            Endpoint e = endpoints.get(i);
            SecurityProtocol protocol = protocols.get(e.name());
            if (protocol == null) {
                throw new ConfigException("listener " + e.name() + " has no security protocol in " + PROTOCOL_MAP
                        + " (e.g. " + e.name() + ":SASL_SSL)");
            }
            Map<Integer, InetSocketAddress> nodes = i == 0 ? Map.of()
                    : nodes(e, security, nodeId, ids, clustered, advertised.get(e.name()), externalNodes);
            ListenerSecurity listenerSecurity;
            try {
                listenerSecurity = ListenerSecurity.of(e.name(), protocol, security);
            } catch (KafkaException | IllegalArgumentException x) { // Kafka's ConfigException among them
                throw new ConfigException("listener " + e.name() + " (" + protocol + "): " + x.getMessage());
            }
            out.add(new KafkaListener(e.name(), e.host(), e.port(), nodes, listenerSecurity));
        }
        return List.copyOf(out);
    }

    /** {@code listeners}, or the endpoints the older kafka.* keys stand for. */
    private static List<Endpoint> endpoints(Map<String, String> s) {
        if (!s.get(LISTENERS).isEmpty()) {
            return endpoints(LISTENERS, s.get(LISTENERS));
        }
        Endpoint main = new Endpoint(NodeConfig.EXTERNAL, s.get("kafka.host"), Integer.parseInt(s.get("kafka.port")));
        if (s.get("kafka.external.port").isEmpty()) {
            return List.of(main);
        }
        String externalHost = s.get("kafka.external.host").isEmpty() ? s.get("kafka.host")
                : s.get("kafka.external.host");
        return List.of(new Endpoint(NodeConfig.INTERNAL, main.host(), main.port()),
                new Endpoint(NodeConfig.EXTERNAL, externalHost, Integer.parseInt(s.get("kafka.external.port"))));
    }

    private static Map<Integer, InetSocketAddress> nodes(Endpoint e, Map<String, String> security, int nodeId,
                                                         List<Integer> ids, boolean clustered, Endpoint advertised,
                                                         Map<Integer, InetSocketAddress> externalNodes) {
        String key = SecurityConfigs.listenerPrefix(e.name()) + "nodes";
        String value = security.get(key);
        if (value != null) {
            return NodeConfig.parseNodeAddresses(key, value, ids);
        }
        if (e.name().equals(NodeConfig.EXTERNAL) && !externalNodes.isEmpty()) {
            return externalNodes;
        }
        if (clustered) {
            throw new ConfigException("listener " + e.name() + " needs " + key + " (id@host:port,... for every node "
                    + "of cluster.nodes): its clients must be told every node's address on it");
        }
        Endpoint a = advertised != null ? advertised : e;
        if (a.host().equals("0.0.0.0")) {
            throw new ConfigException("listener " + e.name() + " binds 0.0.0.0: set its address in " + ADVERTISED);
        }
        return Map.of(nodeId, InetSocketAddress.createUnresolved(a.host(), a.port()));
    }

    /** The names of the listeners, for messages. */
    static String names(List<KafkaListener> listeners) {
        return listeners.stream().map(KafkaListener::name).collect(Collectors.joining(","));
    }
}
