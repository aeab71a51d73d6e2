package io.fluxmq.kafka.api;

import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** JoinGroup v0–9 (classic protocol): MEMBER_ID_REQUIRED on a first join from v4, static members from v5, protocol metadata passed to the leader untouched; the answer waits for the rebalance. */
public final class JoinGroupHandler implements ApiHandler<JoinGroupRequestData> {
    private final GroupOperations groups;

    public JoinGroupHandler(GroupOperations groups) {
        this.groups = groups;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.JOIN_GROUP;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 9;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, JoinGroupRequestData request) {
        short version = context.version();
        if (groups.coordinator().authorization().denies(context, AclOperation.READ, ResourceType.GROUP,
                request.groupId())) {
            return CompletableFuture.completedFuture(new JoinGroupResponseData().setMemberId(request.memberId())
                    .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())
                    .setProtocolName(version < 7 ? "" : null).setProtocolType(null));
        }
        return groups.joinGroup(context, request).thenApply(response -> {
            if (version < 7) {
                response.setProtocolType(null);
                if (response.protocolName() == null) {
                    response.setProtocolName("");
                }
            }
            if (version < 9) {
                response.setSkipAssignment(false);
            }
            return response;
        });
    }
}
