package io.fluxmq.kafka.server;

import io.fluxmq.kafka.security.ListenerSecurity;

/**
 * Settings of one Kafka listener.
 *
 * @param listener        listener name (e.g. EXTERNAL) used to pick advertised addresses
 * @param host            bind address
 * @param port            bind port (0 picks a free one)
 * @param maxRequestBytes largest request frame accepted (Kafka's {@code socket.request.max.bytes}); larger closes
 * @param maxInFlightPerConnection requests read ahead on one connection before reading pauses (the node's
 *                        {@value #MAX_IN_FLIGHT_KEY}, default {@value #MAX_IN_FLIGHT_DEFAULT}); answered in order
 * @param security        the listener's security protocol with its TLS engines and SASL mechanisms
 */
public record KafkaFrontendConfig(String listener, String host, int port, int maxRequestBytes,
                                  int maxInFlightPerConnection, ListenerSecurity security) {
    public static final String MAX_IN_FLIGHT_KEY = "connection.max.in.flight.requests";
    public static final int MAX_IN_FLIGHT_DEFAULT = 1000;

    /** A PLAINTEXT listener. */
    public KafkaFrontendConfig(String listener, String host, int port, int maxRequestBytes,
                               int maxInFlightPerConnection) {
        this(listener, host, port, maxRequestBytes, maxInFlightPerConnection, ListenerSecurity.PLAINTEXT);
    }

    public KafkaFrontendConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be a TCP port, got " + port);
        }
        if (maxRequestBytes < 1024) {
            throw new IllegalArgumentException("maxRequestBytes must be >= 1024, got " + maxRequestBytes);
        }
        if (maxInFlightPerConnection < 1) {
            throw new IllegalArgumentException("maxInFlightPerConnection must be >= 1");
        }
        if (security == null) {
            throw new IllegalArgumentException("security must be given (ListenerSecurity.PLAINTEXT for none)");
        }
    }
}
