package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.group.GroupListing;
import io.fluxmq.kafka.server.RequestContext;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** ListGroups v0–5: the groups this node coordinates, filtered by state (v4+, case-insensitive) and type (v5+). */
public final class ListGroupsHandler implements ApiHandler<ListGroupsRequestData> {
    private final GroupCoordinator coordinator;

    public ListGroupsHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.LIST_GROUPS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 5;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ListGroupsRequestData request) {
        Set<String> states = request.statesFilter().stream().map(GroupCoordinator::normalize)
                .collect(Collectors.toSet());
        Set<String> types = request.typesFilter().stream().map(GroupCoordinator::normalize)
                .collect(Collectors.toSet());
        GroupCoordinator.Listing listing = coordinator.listGroups();
        ListGroupsResponseData response = new ListGroupsResponseData().setErrorCode(listing.error().code());
        Authorization auth = coordinator.authorization();
        // as Kafka: every group with DESCRIBE on the cluster, else those with DESCRIBE on the group
        boolean all = !auth.enabled() || auth.allowedOnCluster(context, AclOperation.DESCRIBE);
        for (GroupListing g : listing.groups()) {
            if (!all && !auth.allowed(context, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId())) {
                continue;
            }
            if ((states.isEmpty() || states.contains(GroupCoordinator.normalize(g.state())))
                    && (types.isEmpty() || types.contains(g.type().label()))) {
                ListGroupsResponseData.ListedGroup out = new ListGroupsResponseData.ListedGroup()
                        .setGroupId(g.groupId()).setProtocolType(g.protocolType());
                if (context.version() >= 4) {
                    out.setGroupState(g.state());
                }
                if (context.version() >= 5) {
                    out.setGroupType(g.type().label());
                }
                response.groups().add(out);
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
