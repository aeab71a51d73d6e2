package io.fluxmq.kafka.api;

import io.fluxmq.kafka.server.RequestContext;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * SaslHandshake v0–1 where no SASL exchange is due: on a PLAINTEXT or SSL listener, or after the connection
 * authenticated without a session lifetime (or a second re-authentication within a second). Answers
 * {@code ILLEGAL_SASL_STATE}, as Kafka's request handler does. The exchange itself, on SASL
 * listeners before authentication, never reaches the registry (the frontend's SASL handler answers it); this handler
 * is what makes ApiVersions advertise the API.
 */
public final class SaslHandshakeHandler implements ApiHandler<SaslHandshakeRequestData> {
    @Override
    public ApiKeys apiKey() {
        return ApiKeys.SASL_HANDSHAKE;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 1;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, SaslHandshakeRequestData request) {
        return CompletableFuture.completedFuture(new SaslHandshakeResponseData()
                .setErrorCode(Errors.ILLEGAL_SASL_STATE.code()).setMechanisms(List.of()));
    }
}
