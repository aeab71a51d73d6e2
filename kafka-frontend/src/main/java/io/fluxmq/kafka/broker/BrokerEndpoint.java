package io.fluxmq.kafka.broker;

/** A node as Kafka clients see it on one listener. */
public record BrokerEndpoint(int nodeId, String host, int port, String rack) {}
