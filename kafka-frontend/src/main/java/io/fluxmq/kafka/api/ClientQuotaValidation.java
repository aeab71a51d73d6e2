package io.fluxmq.kafka.api;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.requests.AlterClientQuotasRequest;
import org.apache.kafka.common.requests.ApiError;

/**
 * Kafka's checks of an AlterClientQuotas request (its {@code ClientQuotaControlManager.alterClientQuotas}), with its
 * messages and codes, all INVALID_REQUEST: an empty entity; an entity type other than user, client-id and ip; an empty
 * name; ip combined with user or client-id; an ip that is neither an address nor a resolvable host; a key that is not a
 * quota of the entity (user and client-id: {@code producer_byte_rate}, {@code consumer_byte_rate} (longs),
 * {@code request_percentage}, {@code controller_mutation_rate} (doubles); ip: {@code connection_creation_rate} (int));
 * a value not above 0, or fractional or too large for an integral key; a key twice in one entity; an entity twice in
 * one request (an entity with a repeated key, and every occurrence of a repeated entity, are answered "Ignoring
 * duplicate entity", as Kafka's map of results ends up answering; unlike Kafka, which still applies the first
 * occurrence, nothing of an entity answered with an error is applied). Resolving an ip's host name may block: call it
 * off the event loop when the request has ip entities. Stateless.
 */
public final class ClientQuotaValidation {
    /** The quota keys and their types (Kafka's {@code QuotaConfig.userAndClientQuotaConfigs} and {@code ipConfigs}). */
    static final Map<String, ConfigDef.Type> USER_AND_CLIENT_KEYS = Map.of(
            "producer_byte_rate", ConfigDef.Type.LONG,
            "consumer_byte_rate", ConfigDef.Type.LONG,
            "request_percentage", ConfigDef.Type.DOUBLE,
            "controller_mutation_rate", ConfigDef.Type.DOUBLE);
    static final Map<String, ConfigDef.Type> IP_KEYS = Map.of("connection_creation_rate", ConfigDef.Type.INT);

    private ClientQuotaValidation() {
    }

    /**
     * What a request asks: the result of each entity in request order (an entity once), and the alterations that
     * passed, to be stored (their results {@link ApiError#NONE} until storing says otherwise).
     */
    public record Plan(Map<ClientQuotaEntity, ApiError> results, List<ClientQuotaAlteration> valid) {
    }

    public static Plan plan(AlterClientQuotasRequestData request) {
        Map<ClientQuotaEntity, ApiError> results = new LinkedHashMap<>();
        Map<ClientQuotaEntity, ClientQuotaAlteration> valid = new LinkedHashMap<>();
        for (ClientQuotaAlteration alteration : new AlterClientQuotasRequest(request, (short) 1).entries()) {
            ClientQuotaEntity entity = alteration.entity();
            Map<String, Double> changes = new HashMap<>();
            for (ClientQuotaAlteration.Op op : alteration.ops()) {
                if (changes.containsKey(op.key())) {
                    results.put(entity, new ApiError(Errors.INVALID_REQUEST, "Duplicate quota key " + op.key()
                            + " not updating quota for this entity " + entity));
                } else {
                    changes.put(op.key(), op.value());
                }
            }
            if (results.containsKey(entity)) {
                valid.remove(entity);
                results.put(entity, new ApiError(Errors.INVALID_REQUEST, "Ignoring duplicate entity " + entity));
                continue;
            }
            ApiError error = validate(entity, changes);
            results.put(entity, error);
            if (!error.isFailure()) {
                List<ClientQuotaAlteration.Op> ops = new ArrayList<>();
                changes.forEach((key, value) -> ops.add(new ClientQuotaAlteration.Op(key, value)));
                valid.put(entity, new ClientQuotaAlteration(entity, ops));
            }
        }
        return new Plan(results, List.copyOf(valid.values()));
    }

    /** Kafka's {@code alterClientQuotaEntity} checks of one entity and its changes. */
    static ApiError validate(ClientQuotaEntity entity, Map<String, Double> changes) {
        if (entity.entries().isEmpty()) {
            return new ApiError(Errors.INVALID_REQUEST, "Invalid empty client quota entity");
        }
        for (Map.Entry<String, String> e : entity.entries().entrySet()) {
            if (!ClientQuotaEntity.isValidEntityType(e.getKey())) {
                return new ApiError(Errors.INVALID_REQUEST, "Unhandled client quota entity type: " + e.getKey());
            }
            if (e.getValue() != null && e.getValue().isEmpty()) {
                return new ApiError(Errors.INVALID_REQUEST, "Empty " + e.getKey() + " not supported");
            }
        }
        Map<String, ConfigDef.Type> keys;
        Map<String, String> entries = entity.entries();
        if (entries.containsKey(ClientQuotaEntity.IP)) {
            if (entries.containsKey(ClientQuotaEntity.USER) || entries.containsKey(ClientQuotaEntity.CLIENT_ID)) {
                return new ApiError(Errors.INVALID_REQUEST, "Invalid quota entity combination, IP entity should"
                        + "not be combined with User or ClientId"); // sic: Kafka's message lacks the space
            }
            if (!validIp(entries.get(ClientQuotaEntity.IP))) {
                return new ApiError(Errors.INVALID_REQUEST, entries.get(ClientQuotaEntity.IP)
                        + " is not a valid IP or resolvable host.");
            }
            keys = IP_KEYS;
        } else {
            keys = USER_AND_CLIENT_KEYS;
        }
        for (Map.Entry<String, Double> change : changes.entrySet()) {
            if (change.getValue() == null) {
                continue; // a removal: nothing to check, and nothing happens when the quota is not set
            }
            ApiError error = validateValue(keys, change.getKey(), change.getValue());
            if (error.isFailure()) {
                return error;
            }
        }
        return ApiError.NONE;
    }

    private static ApiError validateValue(Map<String, ConfigDef.Type> keys, String key, double value) {
        ConfigDef.Type type = keys.get(key);
        if (type == null) {
            return new ApiError(Errors.INVALID_REQUEST, "Invalid configuration key " + key);
        }
        if (value <= 0.0) {
            return new ApiError(Errors.INVALID_REQUEST, "Quota " + key + " must be greater than 0");
        }
        switch (type) {
            case DOUBLE:
                return ApiError.NONE;
            case INT:
                if (value > Integer.MAX_VALUE) {
                    return new ApiError(Errors.INVALID_REQUEST, "Proposed value for " + key
                            + " is too large for an INT.");
                }
                return integral(value, key);
            default: // LONG
                if (value > Long.MAX_VALUE) {
                    return new ApiError(Errors.INVALID_REQUEST, "Proposed value for " + key
                            + " is too large for a LONG.");
                }
                return integral(value, key);
        }
    }

    private static ApiError integral(double value, String key) {
        return Math.abs(value % 1.0) > 1e-6
                ? new ApiError(Errors.INVALID_REQUEST, key + " cannot be a fractional value.") : ApiError.NONE;
    }

    private static boolean validIp(String ip) {
        if (ip == null) {
            return true;
        }
        try {
            InetAddress.getByName(ip);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
