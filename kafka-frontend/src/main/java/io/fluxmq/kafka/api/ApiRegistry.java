package io.fluxmq.kafka.api;

import io.fluxmq.kafka.quota.ClientQuotaManager;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * The handlers of this node by API key; ApiVersions advertises exactly these ranges. It owns the services its
 * handlers share (such as the group coordinator) and closes them with the listener.
 */
public final class ApiRegistry implements AutoCloseable {
    private static final org.slf4j.Logger LOGGER = org.slf4j.LoggerFactory.getLogger(ApiRegistry.class);

    private final Map<ApiKeys, ApiHandler<?>> handlers = new EnumMap<>(ApiKeys.class);
    private final List<AutoCloseable> resources;
    private final ClientQuotaManager quotas;

    public ApiRegistry(List<ApiHandler<?>> handlers) {
        this(handlers, List.of());
    }

    /** Handlers plus the services they share, closed (in reverse order) by {@link #close()}. */
    public ApiRegistry(List<ApiHandler<?>> handlers, List<AutoCloseable> resources) {
        this(handlers, resources, ClientQuotaManager.NONE);
    }

    /** As above, with the node's client quotas: every request's handling time is charged to {@code request_percentage}. */
    public ApiRegistry(List<ApiHandler<?>> handlers, List<AutoCloseable> resources, ClientQuotaManager quotas) {
        this.resources = List.copyOf(resources);
        this.quotas = quotas;
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

    /** The node's client quotas ({@link ClientQuotaManager#NONE} without). */
    public ClientQuotaManager quotas() {
        return quotas;
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

    @Override
    public void close() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                LOGGER.warn("Closing {} failed: {}", resources.get(i), e.toString());
            }
        }
    }
}
