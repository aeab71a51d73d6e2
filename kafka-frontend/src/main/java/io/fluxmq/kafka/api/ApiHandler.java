package io.fluxmq.kafka.api;

import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Serves one Kafka API over a declared version range. {@link #handle} must not block: long work completes the
 * returned future later. A failed partition is an error code in the response, not a failed future; a failed future
 * means the whole request failed and the connection is closed.
 */
public interface ApiHandler<Q extends ApiMessage> {
    ApiKeys apiKey();

    short minVersion();

    short maxVersion();

    CompletableFuture<ApiMessage> handle(RequestContext context, Q request);

    /** Whether this request gets no response at all (only Produce with acks=0). */
    default boolean expectsResponse(Q request) {
        return true;
    }
}
