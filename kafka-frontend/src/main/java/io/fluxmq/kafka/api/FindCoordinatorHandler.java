package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnCoordinator;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;

/**
 * FindCoordinator v0–6, on the listener the client used, batched keys from v4: for a group key (type 0) the leader of
 * the group's {@code __consumer_offsets} partition; for a transactional id (type 1) the leader of its
 * {@code __transaction_state} partition (COORDINATOR_NOT_AVAILABLE without a transaction coordinator); share keys
 * get INVALID_REQUEST.
 */
public final class FindCoordinatorHandler implements ApiHandler<FindCoordinatorRequestData> {
    private final GroupCoordinator coordinator;
    private final TxnCoordinator transactions;

    public FindCoordinatorHandler(GroupCoordinator coordinator) {
        this(coordinator, null);
    }

    public FindCoordinatorHandler(GroupCoordinator coordinator, TxnCoordinator transactions) {
        this.coordinator = coordinator;
        this.transactions = transactions;
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
        if (keyType == CoordinatorType.TRANSACTION.id()) {
            if (transactions == null) {
                return out.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())
                        .setErrorMessage("no transaction coordinator");
            }
            TxnCoordinator.Coordinator found = transactions.findCoordinator(key, context.listener());
            return answer(out, found.error(), found.endpoint());
        }
        if (keyType != CoordinatorType.GROUP.id()) {
            return out.setErrorCode(Errors.INVALID_REQUEST.code())
                    .setErrorMessage("only group and transaction coordinators are supported");
        }
        if (coordinator.authorization().denies(context, AclOperation.DESCRIBE, ResourceType.GROUP, key)) {
            return out.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())
                    .setErrorMessage(Errors.GROUP_AUTHORIZATION_FAILED.message());
        }
        GroupCoordinator.Coordinator found = coordinator.findCoordinator(key, context.listener());
        return answer(out, found.error(), found.endpoint());
    }

    private static FindCoordinatorResponseData.Coordinator answer(FindCoordinatorResponseData.Coordinator out,
                                                                  Errors error, BrokerEndpoint endpoint) {
        if (error != Errors.NONE) {
            return out.setErrorCode(error.code()).setErrorMessage(error.message());
        }
        return out.setNodeId(endpoint.nodeId()).setHost(endpoint.host())
                .setPort(endpoint.port()).setErrorMessage(null);
    }
}
