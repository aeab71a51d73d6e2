package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.ConfigChange;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.AlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.AlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * AlterConfigs v0–2 (the legacy, non-incremental form): the configs listed become the resource's whole set of
 * overrides, and every config not listed returns to its default, as in Kafka. Validation as IncrementalAlterConfigs
 * (see {@link BrokerServices#alterConfigs}); each resource gets its own answer.
 */
public final class AlterConfigsHandler implements ApiHandler<AlterConfigsRequestData> {
    private final BrokerServices broker;

    public AlterConfigsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ALTER_CONFIGS;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, AlterConfigsRequestData request) {
        AlterConfigsResponseData response = new AlterConfigsResponseData();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (AlterConfigsResource resource : request.resources()) {
            AlterConfigsResourceResponse out = new AlterConfigsResourceResponse()
                    .setResourceType(resource.resourceType()).setResourceName(resource.resourceName());
            response.responses().add(out);
            Errors refused = ConfigAccess.check(broker.authorization(), context, resource.resourceType(),
                    resource.resourceName(), AclOperation.ALTER_CONFIGS);
            if (refused != Errors.NONE) {
                out.setErrorCode(refused.code()).setErrorMessage(refused.message());
                continue;
            }
            List<ConfigChange> changes = new ArrayList<>();
            for (AlterableConfig c : resource.configs()) {
                changes.add(new ConfigChange(c.name(), OpType.SET, c.value()));
            }
            CompletableFuture<Void> done;
            try {
                done = broker.alterConfigs(new ConfigResource(ConfigResource.Type.forId(resource.resourceType()),
                        resource.resourceName()), changes, false, request.validateOnly());
            } catch (RuntimeException e) {
                done = CompletableFuture.failedFuture(e);
            }
            pending.add(done.handle((v, failure) -> failure == null ? out
                    : out.setErrorCode(KafkaErrors.of(failure).code()).setErrorMessage(KafkaErrors.message(failure))));
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }
}
