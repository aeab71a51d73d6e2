package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.message.DescribeAclsResponseData;
import org.apache.kafka.common.message.DescribeAclsResponseData.AclDescription;
import org.apache.kafka.common.message.DescribeAclsResponseData.DescribeAclsResource;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourcePattern;

/**
 * DescribeAcls v1–3, as Kafka: DESCRIBE on the cluster or CLUSTER_AUTHORIZATION_FAILED; no authorizer →
 * SECURITY_DISABLED; a filter with unknown elements → INVALID_REQUEST; otherwise the matching bindings (Kafka's
 * filter semantics, MATCH and ANY included) grouped by resource pattern, from this node's copy of the metadata.
 */
public final class DescribeAclsHandler implements ApiHandler<DescribeAclsRequestData> {
    private final BrokerServices broker;

    public DescribeAclsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_ACLS;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeAclsRequestData request) {
        Authorization auth = broker.authorization();
        DescribeAclsResponseData response = new DescribeAclsResponseData();
        Errors refused = auth.aclApiRefusal(context, AclOperation.DESCRIBE);
        if (refused != Errors.NONE) {
            return error(response, refused,
                    refused == Errors.SECURITY_DISABLED ? Authorization.NO_AUTHORIZER_MESSAGE : refused.message());
        }
        AclBindingFilter filter = AclValidation.filter(request.resourceTypeFilter(), request.resourceNameFilter(),
                request.patternTypeFilter(), request.principalFilter(), request.hostFilter(), request.operation(),
                request.permissionType());
        String invalid = AclValidation.invalidFilter(filter);
        if (invalid != null) {
            return error(response, Errors.INVALID_REQUEST, invalid);
        }
        response.setResources(resources(broker.acls(filter)));
        return CompletableFuture.completedFuture(response);
    }

    private static CompletableFuture<ApiMessage> error(DescribeAclsResponseData response, Errors error,
                                                       String message) {
        return CompletableFuture.completedFuture(response.setErrorCode(error.code()).setErrorMessage(message));
    }

    static List<DescribeAclsResource> resources(List<AclBinding> acls) {
        Map<ResourcePattern, DescribeAclsResource> byPattern = new LinkedHashMap<>();
        for (AclBinding b : acls) {
            byPattern.computeIfAbsent(b.pattern(), p -> new DescribeAclsResource()
                    .setResourceType(p.resourceType().code()).setResourceName(p.name())
                    .setPatternType(p.patternType().code()))
                    .acls().add(new AclDescription().setPrincipal(b.entry().principal()).setHost(b.entry().host())
                            .setOperation(b.entry().operation().code())
                            .setPermissionType(b.entry().permissionType().code()));
        }
        return List.copyOf(byPattern.values());
    }
}
