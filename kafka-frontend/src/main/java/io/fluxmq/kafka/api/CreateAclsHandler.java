package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsRequestData.AclCreation;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.CreateAclsResponseData.AclCreationResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * CreateAcls v1–3 (v0 is gone from kafka-clients 4), as Kafka: ALTER on the cluster or CLUSTER_AUTHORIZATION_FAILED;
 * no authorizer → SECURITY_DISABLED; each invalid binding INVALID_REQUEST with Kafka's message, the valid ones stored
 * in cluster metadata together (an existing binding stays, without error).
 */
public final class CreateAclsHandler implements ApiHandler<CreateAclsRequestData> {
    private final BrokerServices broker;

    public CreateAclsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.CREATE_ACLS;
    }

    @Override
    public short minVersion() {
        return 1;
    }

    @Override
    public short maxVersion() {
        return 3;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, CreateAclsRequestData request) {
        Authorization auth = broker.authorization();
        CreateAclsResponseData response = new CreateAclsResponseData();
        Errors refused = auth.aclApiRefusal(context, AclOperation.ALTER);
        if (refused != Errors.NONE) {
            return completed(response, request, refused,
                    refused == Errors.SECURITY_DISABLED ? Authorization.NO_AUTHORIZER_MESSAGE : null);
        }
        List<AclBinding> valid = new ArrayList<>();
        List<AclCreationResult> pending = new ArrayList<>();
        for (AclCreation c : request.creations()) {
            AclBinding binding = null;
            String invalid;
            try {
                binding = binding(c);
                invalid = AclValidation.invalidBinding(binding);
            } catch (IllegalArgumentException | NullPointerException e) {
                invalid = e.getMessage(); // kafka-clients refuses ANY/MATCH elements in a binding
            }
            AclCreationResult result = new AclCreationResult();
            response.results().add(result);
            if (invalid != null) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(invalid);
            } else {
                valid.add(binding);
                pending.add(result);
            }
        }
        if (valid.isEmpty()) {
            return CompletableFuture.completedFuture(response);
        }
        return broker.createAcls(valid).handle((v, failure) -> {
            if (failure != null) {
                Errors error = KafkaErrors.of(failure);
                String message = KafkaErrors.message(failure);
                pending.forEach(r -> r.setErrorCode(error.code()).setErrorMessage(message));
            }
            return response;
        });
    }

    private static CompletableFuture<ApiMessage> completed(CreateAclsResponseData response,
                                                           CreateAclsRequestData request, Errors error,
                                                           String message) {
        for (int i = 0; i < request.creations().size(); i++) {
            response.results().add(new AclCreationResult().setErrorCode(error.code())
                    .setErrorMessage(message != null ? message : error.message()));
        }
        return CompletableFuture.completedFuture(response);
    }

    static AclBinding binding(AclCreation c) {
        return new AclBinding(new ResourcePattern(ResourceType.fromCode(c.resourceType()), c.resourceName(),
                PatternType.fromCode(c.resourcePatternType())), new AccessControlEntry(c.principal(), c.host(),
                AclOperation.fromCode(c.operation()), AclPermissionType.fromCode(c.permissionType())));
    }
}
