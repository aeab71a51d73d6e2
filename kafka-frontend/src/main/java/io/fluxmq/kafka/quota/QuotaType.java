package io.fluxmq.kafka.quota;

/**
 * The client quotas FluxMQ enforces, each with the quota key (Kafka's {@code QuotaConfig}) that sets its bound per
 * entity: bytes of Produce requests per second, bytes of Fetch responses per second, the share of one thread's
 * time spent handling the entity's requests, in percent (100 = one thread all the time), and partitions created or
 * deleted per second (CreateTopics, CreatePartitions, DeleteTopics; a token bucket, see
 * {@link ClientQuotaManager#chargeMutations}).
 */
public enum QuotaType {
    PRODUCE("producer_byte_rate"),
    FETCH("consumer_byte_rate"),
    REQUEST("request_percentage"),
    CONTROLLER_MUTATION("controller_mutation_rate"),
    /** New connections per second from one IP address (ip entities only; {@link ClientQuotaManager#recordConnection}). */
    CONNECTION_CREATION("connection_creation_rate");

    private final String key;

    QuotaType(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }
}
