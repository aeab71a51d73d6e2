package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData.ComponentData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData.EntityData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData.EntryData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData.ValueData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.requests.DescribeClientQuotasRequest;

/**
 * DescribeClientQuotas v0–1 over the client quotas of cluster metadata, as Kafka's {@code ClientQuotasImage.describe}:
 * every entity that has each filter component's type (SPECIFIED), or that name (EXACT) or the default entity of it
 * (DEFAULT); with {@code strict}, only entities with no other components. Kafka's checks:
 * DESCRIBE_CONFIGS on the cluster or CLUSTER_AUTHORIZATION_FAILED; an empty or
 * repeated entity type, a match string with a DEFAULT or SPECIFIED match (or none with EXACT), an unknown match type,
 * an ip component with a user or client-id one: INVALID_REQUEST; an entity type other than user, client-id and ip:
 * UNSUPPORTED_VERSION; each with Kafka's message (its {@code ClientQuotasImage.describe}).
 */
public final class DescribeClientQuotasHandler implements ApiHandler<DescribeClientQuotasRequestData> {
    private final BrokerServices broker;

    public DescribeClientQuotasHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_CLIENT_QUOTAS;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeClientQuotasRequestData request) {
        DescribeClientQuotasResponseData response = new DescribeClientQuotasResponseData();
        if (!broker.authorization().allowedOnCluster(context, AclOperation.DESCRIBE_CONFIGS)) {
            return error(response, Errors.CLUSTER_AUTHORIZATION_FAILED, Errors.CLUSTER_AUTHORIZATION_FAILED.message());
        }
        Set<String> types = new HashSet<>();
        Map<String, String> exact = new HashMap<>(); // a null name: the default entity of that type
        Set<String> specified = new HashSet<>();
        for (ComponentData c : request.components()) {
            if (c.entityType().isEmpty()) {
                return error(response, Errors.INVALID_REQUEST, "Invalid empty entity type.");
            }
            if (!types.add(c.entityType())) {
                return error(response, Errors.INVALID_REQUEST, "Entity type " + c.entityType()
                        + " cannot appear more than once in the filter.");
            }
            if (!c.entityType().equals(ClientQuotaEntity.IP) && !c.entityType().equals(ClientQuotaEntity.USER)
                    && !c.entityType().equals(ClientQuotaEntity.CLIENT_ID)) {
                return error(response, Errors.UNSUPPORTED_VERSION, "Unsupported entity type " + c.entityType());
            }
            String invalid = switch (c.matchType()) {
                case DescribeClientQuotasRequest.MATCH_TYPE_EXACT -> c.match() == null
                        ? "Request specified MATCH_TYPE_EXACT, but set match string to null." : null;
                case DescribeClientQuotasRequest.MATCH_TYPE_DEFAULT -> c.match() != null
                        ? "Request specified MATCH_TYPE_DEFAULT, but also specified a match string." : null;
                case DescribeClientQuotasRequest.MATCH_TYPE_SPECIFIED -> c.match() != null
                        ? "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string." : null;
                default -> "Unknown match type " + c.matchType();
            };
            if (invalid != null) {
                return error(response, Errors.INVALID_REQUEST, invalid);
            }
            if (c.matchType() == DescribeClientQuotasRequest.MATCH_TYPE_SPECIFIED) {
                specified.add(c.entityType());
            } else {
                exact.put(c.entityType(), c.match());
            }
        }
        if (types.contains(ClientQuotaEntity.IP)
                && (types.contains(ClientQuotaEntity.USER) || types.contains(ClientQuotaEntity.CLIENT_ID))) {
            return error(response, Errors.INVALID_REQUEST, "Invalid entity filter component combination. IP filter "
                    + "component should not be used with user or clientId filter component.");
        }
        List<EntryData> entries = new ArrayList<>();
        broker.clientQuotas().forEach((entity, values) -> {
            if (matches(entity, exact, specified, request.strict())) {
                EntryData entry = new EntryData();
                entity.entries().forEach((type, name) -> entry.entity().add(new EntityData().setEntityType(type)
                        .setEntityName(name)));
                values.forEach((key, value) -> entry.values().add(new ValueData().setKey(key).setValue(value)));
                entries.add(entry);
            }
        });
        return CompletableFuture.completedFuture(response.setEntries(entries));
    }

    /** Kafka's {@code ClientQuotasImage.matches}. */
    static boolean matches(ClientQuotaEntity entity, Map<String, String> exact, Set<String> specified,
                           boolean strict) {
        Map<String, String> components = entity.entries();
        if (strict && components.size() != exact.size() + specified.size()) {
            return false;
        }
        for (Map.Entry<String, String> e : exact.entrySet()) {
            if (!components.containsKey(e.getKey()) || !Objects.equals(components.get(e.getKey()), e.getValue())) {
                return false;
            }
        }
        return components.keySet().containsAll(specified);
    }

    /** As Kafka's {@code getErrorResponse}: the error, and no entries (null). */
    private static CompletableFuture<ApiMessage> error(DescribeClientQuotasResponseData response, Errors error,
                                                       String message) {
        return CompletableFuture.completedFuture(response.setErrorCode(error.code()).setErrorMessage(message)
                .setEntries(null));
    }
}
