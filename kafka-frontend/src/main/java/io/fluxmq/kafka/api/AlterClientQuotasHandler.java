package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterClientQuotasResponseData;
import org.apache.kafka.common.message.AlterClientQuotasResponseData.EntityData;
import org.apache.kafka.common.message.AlterClientQuotasResponseData.EntryData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.requests.ApiError;

/**
 * AlterClientQuotas v0–1, as Kafka's controller: ALTER_CONFIGS on the cluster, else every entry of the request gets
 * CLUSTER_AUTHORIZATION_FAILED; the checks of {@link ClientQuotaValidation}, one result per entity; the valid
 * alterations stored in cluster metadata together (every node then enforces them), or with {@code validate_only}
 * only checked. A removal of a quota that is not set succeeds and changes nothing, as in Kafka.
 */
public final class AlterClientQuotasHandler implements ApiHandler<AlterClientQuotasRequestData> {
    private final BrokerServices broker;

    public AlterClientQuotasHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ALTER_CLIENT_QUOTAS;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, AlterClientQuotasRequestData request) {
        if (!broker.authorization().allowedOnCluster(context, AclOperation.ALTER_CONFIGS)) {
            return CompletableFuture.completedFuture(refused(request)); // as Kafka's getErrorResponse
        }
        boolean resolves = request.entries().stream().anyMatch(e -> e.entity().stream()
                .anyMatch(c -> c.entityType().equals(ClientQuotaEntity.IP) && c.entityName() != null));
        CompletableFuture<ClientQuotaValidation.Plan> planned = resolves
                ? CompletableFuture.supplyAsync(() -> ClientQuotaValidation.plan(request)) // host names: off the loop
                : CompletableFuture.completedFuture(ClientQuotaValidation.plan(request));
        return planned.thenCompose(plan -> {
            if (plan.valid().isEmpty() || request.validateOnly()) {
                return CompletableFuture.completedFuture(response(plan.results()));
            }
            return broker.alterClientQuotas(plan.valid()).handle((done, failure) -> {
                if (failure != null) {
                    ApiError error = new ApiError(KafkaErrors.of(failure), KafkaErrors.message(failure));
                    plan.valid().forEach(a -> plan.results().put(a.entity(), error));
                }
                return response(plan.results());
            });
        });
    }

    private static ApiMessage response(Map<ClientQuotaEntity, ApiError> results) {
        AlterClientQuotasResponseData response = new AlterClientQuotasResponseData();
        results.forEach((entity, error) -> {
            List<EntityData> components = new ArrayList<>();
            entity.entries().forEach((type, name) -> components.add(new EntityData().setEntityType(type)
                    .setEntityName(name)));
            response.entries().add(new EntryData().setEntity(components).setErrorCode(error.error().code())
                    .setErrorMessage(error.message()));
        });
        return response;
    }

    private static ApiMessage refused(AlterClientQuotasRequestData request) {
        AlterClientQuotasResponseData response = new AlterClientQuotasResponseData();
        for (AlterClientQuotasRequestData.EntryData entry : request.entries()) {
            List<EntityData> components = new ArrayList<>();
            entry.entity().forEach(c -> components.add(new EntityData().setEntityType(c.entityType())
                    .setEntityName(c.entityName())));
            response.entries().add(new EntryData().setEntity(components)
                    .setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                    .setErrorMessage(Errors.CLUSTER_AUTHORIZATION_FAILED.message()));
        }
        return response;
    }
}
