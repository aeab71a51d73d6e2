package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** DescribeGroups v0–6: state, protocol and members of classic groups (metadata and assignment while Stable). An unknown group, or a KIP-848 group, is Dead before v6 and GROUP_ID_NOT_FOUND from v6, as in Kafka. */
public final class DescribeGroupsHandler implements ApiHandler<DescribeGroupsRequestData> {
    private final GroupOperations groups;

    public DescribeGroupsHandler(GroupOperations groups) {
        this.groups = groups;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_GROUPS;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeGroupsRequestData request) {
        DescribeGroupsResponseData response = new DescribeGroupsResponseData();
        Authorization auth = groups.coordinator().authorization();
        for (String groupId : request.groups()) {
            if (auth.denies(context, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
                response.groups().add(new DescribeGroupsResponseData.DescribedGroup().setGroupId(groupId)
                        .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()).setGroupState("")
                        .setProtocolType("").setProtocolData(""));
                continue;
            }
            DescribeGroupsResponseData.DescribedGroup group = groups.describeClassic(groupId, context.version() >= 6);
            if (context.version() >= 3 && request.includeAuthorizedOperations()
                    && group.errorCode() == Errors.NONE.code()) {
                group.setAuthorizedOperations(auth.authorizedOperations(context, ResourceType.GROUP, groupId));
            }
            if (context.version() < 6) {
                group.setErrorMessage(null);
            }
            if (context.version() < 4) {
                group.members().forEach(m -> m.setGroupInstanceId(null));
            }
            response.groups().add(group);
        }
        return CompletableFuture.completedFuture(response);
    }
}
