package io.fluxmq.kafka.server;

import io.fluxmq.kafka.api.ApiHandler;
import io.fluxmq.kafka.api.ApiRegistry;
import java.util.Comparator;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.Errors;

/** Builds the ApiVersions answer from the registry: one range per registered handler. */
public final class ApiVersionsSupport {
    private ApiVersionsSupport() {
    }

    public static ApiVersionsResponseData response(ApiRegistry registry, Errors error) {
        ApiVersionsResponseData data = new ApiVersionsResponseData().setErrorCode(error.code());
        registry.handlers().stream()
                .sorted(Comparator.comparingInt(h -> h.apiKey().id))
                .forEach(h -> data.apiKeys().add(version(h)));
        return data;
    }

    private static ApiVersionsResponseData.ApiVersion version(ApiHandler<?> handler) {
        return new ApiVersionsResponseData.ApiVersion()
                .setApiKey(handler.apiKey().id)
                .setMinVersion(handler.minVersion())
                .setMaxVersion(handler.maxVersion());
    }
}
