package io.fluxmq.kafka.api;

import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;

/** The handlers of this node by API key; ApiVersions advertises exactly these ranges. */
public final class ApiRegistry {
    private final Map<ApiKeys, ApiHandler<?>> handlers = new EnumMap<>(ApiKeys.class);

    public ApiRegistry(List<ApiHandler<?>> handlers) {
        for (ApiHandler<?> handler : handlers) {
            if (this.handlers.put(handler.apiKey(), handler) != null) {
                throw new IllegalArgumentException("two handlers for " + handler.apiKey());
            }
            if (handler.minVersion() < handler.apiKey().oldestVersion()
                    || handler.maxVersion() > handler.apiKey().latestVersion(true)) {
                throw new IllegalArgumentException(handler.apiKey() + " handler declares versions beyond kafka-clients'");
            }
        }
    }

    public ApiHandler<?> handler(ApiKeys key) {
        return handlers.get(key);
    }

    public Collection<ApiHandler<?>> handlers() {
        return Collections.unmodifiableCollection(handlers.values());
    }

    public boolean supports(ApiKeys key, short version) {
        ApiHandler<?> handler = handlers.get(key);
        return handler != null && version >= handler.minVersion() && version <= handler.maxVersion();
    }
}
