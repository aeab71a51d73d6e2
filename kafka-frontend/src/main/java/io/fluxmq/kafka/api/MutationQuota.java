package io.fluxmq.kafka.api;

import io.fluxmq.kafka.quota.ClientQuotaManager;
import io.fluxmq.kafka.server.RequestContext;

/**
 * The {@code controller_mutation_rate} quota of one CreateTopics, CreatePartitions or DeleteTopics request: charges
 * each topic's partitions ({@link ClientQuotaManager#chargeMutations}) and, at the end, mutes the connection for the
 * longest throttle time any charge gave, which the handler puts in its response's {@code throttle_time_ms}. Used by
 * one request's handler thread only.
 */
final class MutationQuota {
    /** Kafka's message for {@code THROTTLING_QUOTA_EXCEEDED}. */
    static final String EXCEEDED = "The throttling quota has been exceeded.";

    private final ClientQuotaManager quotas;
    private final RequestContext context;
    private final boolean strict;
    private int throttleMs;

    /** {@code strict}: the request's version knows THROTTLING_QUOTA_EXCEEDED (its topics may be refused with it). */
    MutationQuota(ClientQuotaManager quotas, RequestContext context, boolean strict) {
        this.quotas = quotas;
        this.context = context;
        this.strict = strict;
    }

    /** Charges a topic's {@code partitions}; false when it must be refused with THROTTLING_QUOTA_EXCEEDED. */
    boolean charge(int partitions) {
        ClientQuotaManager.MutationCharge charge = quotas.chargeMutations(context, partitions, strict);
        throttleMs = Math.max(throttleMs, charge.throttleMs());
        return charge.allowed();
    }

    /** Mutes the connection when a charge asked for it; returns the throttle time for the response (0: none). */
    int throttle() {
        if (throttleMs > 0) {
            context.throttle(throttleMs);
        }
        return throttleMs;
    }
}
