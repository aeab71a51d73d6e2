package io.fluxmq.kafka.api;

import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * SaslAuthenticate v0–2 where no SASL exchange is due (see {@link SaslHandshakeHandler}): {@code ILLEGAL_SASL_STATE}
 * with Kafka's message. Re-authentication ({@code connections.max.reauth.ms}, KIP-368) never reaches the registry:
 * the connection's SASL session serves it.
 */
public final class SaslAuthenticateHandler implements ApiHandler<SaslAuthenticateRequestData> {
    @Override
    public ApiKeys apiKey() {
        return ApiKeys.SASL_AUTHENTICATE;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, SaslAuthenticateRequestData request) {
        return CompletableFuture.completedFuture(new SaslAuthenticateResponseData()
                .setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                .setErrorMessage("SaslAuthenticate request received after successful authentication")
                .setAuthBytes(new byte[0]));
    }
}
