package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsRequestData.DeleteAclsFilter;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.DeleteAclsResponseData.DeleteAclsFilterResult;
import org.apache.kafka.common.message.DeleteAclsResponseData.DeleteAclsMatchingAcl;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DeleteAcls v1–3, as Kafka: ALTER on the cluster or CLUSTER_AUTHORIZATION_FAILED; no authorizer →
 * SECURITY_DISABLED; a filter with unknown elements → INVALID_REQUEST for that filter; the others delete every binding
 * they match (one metadata change) and list what they matched.
 */
public final class DeleteAclsHandler implements ApiHandler<DeleteAclsRequestData> {
    private final BrokerServices broker;

    public DeleteAclsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DELETE_ACLS;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, DeleteAclsRequestData request) {
        Authorization auth = broker.authorization();
        DeleteAclsResponseData response = new DeleteAclsResponseData();
        Errors refused = auth.aclApiRefusal(context, AclOperation.ALTER);
        if (refused != Errors.NONE) {
            String message = refused == Errors.SECURITY_DISABLED ? Authorization.NO_AUTHORIZER_MESSAGE
                    : refused.message();
            request.filters().forEach(f -> response.filterResults().add(new DeleteAclsFilterResult()
                    .setErrorCode(refused.code()).setErrorMessage(message)));
            return CompletableFuture.completedFuture(response);
        }
        List<AclBindingFilter> valid = new ArrayList<>();
        List<DeleteAclsFilterResult> pending = new ArrayList<>();
        for (DeleteAclsFilter f : request.filters()) {
            AclBindingFilter filter = AclValidation.filter(f.resourceTypeFilter(), f.resourceNameFilter(),
                    f.patternTypeFilter(), f.principalFilter(), f.hostFilter(), f.operation(), f.permissionType());
            DeleteAclsFilterResult result = new DeleteAclsFilterResult();
            response.filterResults().add(result);
            String invalid = AclValidation.invalidFilter(filter);
            if (invalid != null) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(invalid);
            } else {
                valid.add(filter);
                pending.add(result);
            }
        }
        if (valid.isEmpty()) {
            return CompletableFuture.completedFuture(response);
        }
        return broker.deleteAcls(valid).handle((deleted, failure) -> {
            for (int i = 0; i < pending.size(); i++) {
                DeleteAclsFilterResult result = pending.get(i);
                if (failure != null) {
                    result.setErrorCode(KafkaErrors.of(failure).code()).setErrorMessage(KafkaErrors.message(failure));
                } else {
                    deleted.get(i).forEach(b -> result.matchingAcls().add(matching(b)));
                }
            }
            return response;
        });
    }

    private static DeleteAclsMatchingAcl matching(AclBinding b) {
        return new DeleteAclsMatchingAcl().setResourceType(b.pattern().resourceType().code())
                .setResourceName(b.pattern().name()).setPatternType(b.pattern().patternType().code())
                .setPrincipal(b.entry().principal()).setHost(b.entry().host())
                .setOperation(b.entry().operation().code()).setPermissionType(b.entry().permissionType().code());
    }
}
