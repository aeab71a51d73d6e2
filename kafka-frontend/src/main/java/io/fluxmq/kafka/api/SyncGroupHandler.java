package io.fluxmq.kafka.api;

import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** SyncGroup v0–5 (classic protocol): the leader hands in every member's assignment; each member gets its own. */
public final class SyncGroupHandler implements ApiHandler<SyncGroupRequestData> {
    private final GroupOperations groups;

    public SyncGroupHandler(GroupOperations groups) {
        this.groups = groups;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.SYNC_GROUP;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, SyncGroupRequestData request) {
        short version = context.version();
        if (groups.coordinator().authorization().denies(context, AclOperation.READ, ResourceType.GROUP,
                request.groupId())) {
            return CompletableFuture.completedFuture(new SyncGroupResponseData()
                    .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()).setProtocolType(null)
                    .setProtocolName(null));
        }
        return groups.syncGroup(request).thenApply(response -> version < 5
                ? response.setProtocolType(null).setProtocolName(null) : response);
    }
}
