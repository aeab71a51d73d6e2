package io.fluxmq.kafka.api;

import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** LeaveGroup v0–5 (classic protocol): one member up to v2, a batch of members (by member or instance id) from v3, each with its own error. */
public final class LeaveGroupHandler implements ApiHandler<LeaveGroupRequestData> {
    private final GroupOperations groups;

    public LeaveGroupHandler(GroupOperations groups) {
        this.groups = groups;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.LEAVE_GROUP;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, LeaveGroupRequestData request) {
        if (groups.coordinator().authorization().denies(context, AclOperation.READ, ResourceType.GROUP,
                request.groupId())) {
            return CompletableFuture.completedFuture(new LeaveGroupResponseData()
                    .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()));
        }
        List<GroupOperations.Leaver> leavers = new ArrayList<>();
        if (context.version() < 3) {
            leavers.add(new GroupOperations.Leaver(request.memberId(), null));
        } else {
            request.members().forEach(m -> leavers.add(new GroupOperations.Leaver(m.memberId(), m.groupInstanceId())));
        }
        GroupOperations.LeaveResult result = groups.leaveGroup(request.groupId(), leavers);
        LeaveGroupResponseData response = new LeaveGroupResponseData().setErrorCode(result.error().code());
        if (context.version() < 3) {
            if (result.error() == Errors.NONE && !result.members().isEmpty()) {
                response.setErrorCode(result.members().get(0).code());
            }
            return CompletableFuture.completedFuture(response);
        }
        for (int i = 0; i < result.members().size(); i++) {
            response.members().add(new LeaveGroupResponseData.MemberResponse()
                    .setMemberId(leavers.get(i).memberId()).setGroupInstanceId(leavers.get(i).instanceId())
                    .setErrorCode(result.members().get(i).code()));
        }
        return CompletableFuture.completedFuture(response);
    }
}
