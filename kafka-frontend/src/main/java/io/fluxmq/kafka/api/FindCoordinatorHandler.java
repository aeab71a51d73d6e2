package io.fluxmq.kafka.api;

import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;

/** FindCoordinator v0–6: the leader of a group's offsets partition, on the listener the client used; batched keys from v4. Only group keys (type 0); transaction and share keys get COORDINATOR_NOT_AVAILABLE and INVALID_REQUEST. */
public final class FindCoordinatorHandler implements ApiHandler<FindCoordinatorRequestData> {
    private final GroupCoordinator coordinator;

    public FindCoordinatorHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.FIND_COORDINATOR;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 6;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, FindCoordinatorRequestData request) {
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        if (context.version() < 4) {
            FindCoordinatorResponseData.Coordinator c = find(context, request.keyType(), request.key());
            return CompletableFuture.completedFuture(response.setErrorCode(c.errorCode())
                    .setErrorMessage(context.version() >= 1 ? c.errorMessage() : null)
                    .setNodeId(c.nodeId()).setHost(c.host()).setPort(c.port()));
        }
        for (String key : request.coordinatorKeys()) {
            response.coordinators().add(find(context, request.keyType(), key));
        }
        return CompletableFuture.completedFuture(response);
    }

    private FindCoordinatorResponseData.Coordinator find(RequestContext context, byte keyType, String key) {
        FindCoordinatorResponseData.Coordinator out = new FindCoordinatorResponseData.Coordinator().setKey(key)
                .setNodeId(-1).setHost("").setPort(-1);
        if (keyType != CoordinatorType.GROUP.id()) {
            Errors error = keyType == CoordinatorType.TRANSACTION.id() ? Errors.COORDINATOR_NOT_AVAILABLE
                    : Errors.INVALID_REQUEST;
            return out.setErrorCode(error.code()).setErrorMessage("only group coordinators are supported");
        }
        if (coordinator.authorization().denies(context, AclOperation.DESCRIBE, ResourceType.GROUP, key)) {
            return out.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())
                    .setErrorMessage(Errors.GROUP_AUTHORIZATION_FAILED.message());
        }
        GroupCoordinator.Coordinator found = coordinator.findCoordinator(key, context.listener());
        if (found.error() != Errors.NONE) {
            return out.setErrorCode(found.error().code()).setErrorMessage(found.error().message());
        }
        return out.setNodeId(found.endpoint().nodeId()).setHost(found.endpoint().host())
                .setPort(found.endpoint().port()).setErrorMessage(null);
    }
}
