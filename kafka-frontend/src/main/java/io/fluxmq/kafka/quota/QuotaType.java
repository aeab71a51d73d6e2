package io.fluxmq.kafka.quota;

/**
 * The client quotas FluxMQ enforces, each with the quota key (Kafka's {@code QuotaConfig}) that sets its bound per
 * entity: bytes of Produce requests per second, bytes of Fetch responses per second.
 */
public enum QuotaType {
    PRODUCE("producer_byte_rate"),
    FETCH("consumer_byte_rate");

    private final String key;

    QuotaType(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }
}
