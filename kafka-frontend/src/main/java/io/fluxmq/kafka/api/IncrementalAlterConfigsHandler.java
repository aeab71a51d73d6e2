package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.ConfigChange;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * IncrementalAlterConfigs v0–1: SET, DELETE, APPEND and SUBTRACT on a topic's configs (see
 * {@link BrokerServices#alterConfigs}); each resource gets its own answer. As Kafka, a key named twice in one
 * resource, an unknown operation or a null value for anything but DELETE is INVALID_REQUEST.
 */
public final class IncrementalAlterConfigsHandler implements ApiHandler<IncrementalAlterConfigsRequestData> {
    private final BrokerServices broker;

    public IncrementalAlterConfigsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.INCREMENTAL_ALTER_CONFIGS;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, IncrementalAlterConfigsRequestData request) {
        IncrementalAlterConfigsResponseData response = new IncrementalAlterConfigsResponseData();
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
            CompletableFuture<Void> done;
            try {
                done = broker.alterConfigs(new ConfigResource(ConfigResource.Type.forId(resource.resourceType()),
                        resource.resourceName()), changes(resource), true, request.validateOnly());
            } catch (RuntimeException e) {
                done = CompletableFuture.failedFuture(e);
            }
            pending.add(done.handle((v, failure) -> failure == null ? out
                    : out.setErrorCode(KafkaErrors.of(failure).code()).setErrorMessage(KafkaErrors.message(failure))));
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    private static List<ConfigChange> changes(AlterConfigsResource resource) {
        List<ConfigChange> changes = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (AlterableConfig c : resource.configs()) {
            if (!seen.add(c.name())) {
                throw new AdminException(Errors.INVALID_REQUEST, "Error due to duplicate config keys: " + c.name());
            }
            OpType op;
            try {
                op = OpType.forId(c.configOperation());
            } catch (IllegalArgumentException e) {
                op = null;
            }
            if (op == null) {
                throw new AdminException(Errors.INVALID_REQUEST, "unknown config operation " + c.configOperation()
                        + " for " + c.name());
            }
            if (c.value() == null && op != OpType.DELETE) {
                throw new AdminException(Errors.INVALID_REQUEST, "Null value not supported for : " + c.name());
            }
            changes.add(new ConfigChange(c.name(), op, c.value()));
        }
        return changes;
    }
}
