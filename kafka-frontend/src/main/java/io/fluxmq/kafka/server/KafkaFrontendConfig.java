package io.fluxmq.kafka.server;

/**
 * Settings of one Kafka listener.
 *
 * @param listener        listener name (e.g. EXTERNAL) used to pick advertised addresses
 * @param host            bind address
 * @param port            bind port (0 picks a free one)
 * @param maxRequestBytes largest request frame accepted (Kafka's {@code socket.request.max.bytes}); larger closes
 * @param maxInFlightPerConnection requests read ahead on one connection before reading pauses (the node's
 *                        {@value #MAX_IN_FLIGHT_KEY}, default {@value #MAX_IN_FLIGHT_DEFAULT}); answered in order
 */
public record KafkaFrontendConfig(String listener, String host, int port, int maxRequestBytes,
                                  int maxInFlightPerConnection) {
    public static final String MAX_IN_FLIGHT_KEY = "connection.max.in.flight.requests";
    public static final int MAX_IN_FLIGHT_DEFAULT = 1000;

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
    }
}
