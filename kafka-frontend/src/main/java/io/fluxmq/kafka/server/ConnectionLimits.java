package io.fluxmq.kafka.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The node-wide bounds on Kafka client connections, with Kafka's setting names and defaults (except
 * {@code queued.max.request.bytes}, which Kafka leaves unbounded).
 *
 * @param maxIdleMs             {@value #MAX_IDLE_MS_KEY}: a connection with no request in flight that has neither
 *                              read nor written for this long is closed (default 10 minutes)
 * @param maxConnections        {@value #MAX_CONNECTIONS_KEY}: connections of all listeners together; at the bound
 *                              the node stops accepting (new connections wait in the listen backlog) until one
 *                              closes, as Kafka's acceptor does
 * @param maxConnectionsPerIp   {@value #MAX_PER_IP_KEY}: connections from one address; one more is closed at once
 * @param perIpOverrides        {@value #PER_IP_OVERRIDES_KEY}: {@code host:count,...}, bounds per address that
 *                              replace {@code maxConnectionsPerIp}
 * @param queuedMaxRequestBytes {@value RequestMemory#KEY}: bytes held by requests read but not yet answered, see
 *                              {@link RequestMemory}; -1 for unbounded
 */
public record ConnectionLimits(long maxIdleMs, int maxConnections, int maxConnectionsPerIp,
                               Map<InetAddress, Integer> perIpOverrides, long queuedMaxRequestBytes) {
    public static final String MAX_IDLE_MS_KEY = "connections.max.idle.ms";
    public static final long MAX_IDLE_MS_DEFAULT = 600_000;
    public static final String MAX_CONNECTIONS_KEY = "max.connections";
    public static final String MAX_PER_IP_KEY = "max.connections.per.ip";
    public static final String PER_IP_OVERRIDES_KEY = "max.connections.per.ip.overrides";

    /** Kafka's defaults (unbounded connections, 10 minutes idle) and {@link RequestMemory#DEFAULT}. */
    public static final ConnectionLimits DEFAULTS = new ConnectionLimits(MAX_IDLE_MS_DEFAULT, Integer.MAX_VALUE,
            Integer.MAX_VALUE, Map.of(), RequestMemory.DEFAULT);

    public ConnectionLimits {
        if (maxIdleMs < 1 || maxConnections < 1 || maxConnectionsPerIp < 0) {
            throw new IllegalArgumentException(MAX_IDLE_MS_KEY + " and " + MAX_CONNECTIONS_KEY + " must be positive, "
                    + MAX_PER_IP_KEY + " not negative");
        }
        perIpOverrides = Map.copyOf(perIpOverrides);
    }

    /** The bound for connections from {@code address}. */
    public int maxConnections(InetAddress address) {
        return perIpOverrides.getOrDefault(address, maxConnectionsPerIp);
    }

    /**
     * Parses {@value #PER_IP_OVERRIDES_KEY}: {@code host:count} entries separated by commas (an IPv6 address in
     * brackets or as its last colon's left side), each host resolved now; empty for none.
     */
    public static Map<InetAddress, Integer> parseOverrides(String value) {
        Map<InetAddress, Integer> out = new LinkedHashMap<>();
        if (value.isBlank()) {
            return out;
        }
        for (String item : value.split(",")) {
            String entry = item.trim();
            int colon = entry.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException(PER_IP_OVERRIDES_KEY + " entry '" + entry + "' is not host:count");
            }
            String host = entry.substring(0, colon).replace("[", "").replace("]", "");
            int count;
            try {
                count = Integer.parseInt(entry.substring(colon + 1).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(PER_IP_OVERRIDES_KEY + " entry '" + entry + "' has no count");
            }
            if (count < 0) {
                throw new IllegalArgumentException(PER_IP_OVERRIDES_KEY + " entry '" + entry + "': negative count");
            }
            try {
                out.put(InetAddress.getByName(host.trim()), count);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(PER_IP_OVERRIDES_KEY + " entry '" + entry
                        + "': unknown host " + host);
            }
        }
        return out;
    }
}
