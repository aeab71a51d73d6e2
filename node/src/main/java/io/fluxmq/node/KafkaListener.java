package io.fluxmq.node;

import io.fluxmq.kafka.security.ListenerSecurity;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * One Kafka listener of this node.
 *
 * @param name     listener name, upper case (INTERNAL, EXTERNAL, SASL_SSL, ...)
 * @param host     bind address
 * @param port     bind port (0 picks a free one; {@code FluxNode.kafkaPort(name)} reports it)
 * @param nodes    the address of every node on this listener, given to its clients; empty for the first listener,
 *                 whose addresses are the {@code cluster.nodes} entries
 * @param security the listener's security protocol, TLS engines and SASL mechanisms
 */
public record KafkaListener(String name, String host, int port, Map<Integer, InetSocketAddress> nodes,
                            ListenerSecurity security) {
}
