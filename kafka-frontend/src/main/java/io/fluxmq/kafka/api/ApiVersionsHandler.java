package io.fluxmq.kafka.api;

import io.fluxmq.kafka.server.ApiVersionsSupport;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** ApiVersions v0–4: the version range of every registered handler. */
public final class ApiVersionsHandler implements ApiHandler<ApiVersionsRequestData> {
    private final Supplier<ApiRegistry> registry;

    public ApiVersionsHandler(Supplier<ApiRegistry> registry) {
        this.registry = registry;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.API_VERSIONS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ApiVersionsRequestData request) {
        if (context.version() >= 3 && !validClientSoftware(request)) {
            return CompletableFuture.completedFuture(ApiVersionsSupport.response(registry.get(),
                    Errors.INVALID_REQUEST));
        }
        return CompletableFuture.completedFuture(ApiVersionsSupport.response(registry.get(), Errors.NONE));
    }

    private static boolean validClientSoftware(ApiVersionsRequestData request) {
        return valid(request.clientSoftwareName()) && valid(request.clientSoftwareVersion());
    }

    /** Kafka's rule: non-empty, letters, digits, '.', '-' only, starting and ending with a letter or digit. */
    private static boolean valid(String s) {
        return s != null && s.matches("[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?");
    }
}
