package io.fluxmq.kafka.server;

import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * One decoded request. {@code frame} is the heap buffer the body was parsed from; record sets in the body are views
 * of it, so it lives as long as the request.
 */
public record KafkaRequest(RequestHeader header, ApiMessage body, ByteBuffer frame) {
    public ApiKeys apiKey() {
        return header.apiKey();
    }

    public short version() {
        return header.apiVersion();
    }

    public int correlationId() {
        return header.correlationId();
    }
}
