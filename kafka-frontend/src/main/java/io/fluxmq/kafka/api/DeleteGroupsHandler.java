package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** DeleteGroups v0–2: deletes empty groups with their offsets (tombstones in the offsets topic). */
public final class DeleteGroupsHandler implements ApiHandler<DeleteGroupsRequestData> {
    private final GroupOperations groups;

    public DeleteGroupsHandler(GroupOperations groups) {
        this.groups = groups;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DELETE_GROUPS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DeleteGroupsRequestData request) {
        List<CompletableFuture<Errors>> results = new ArrayList<>();
        Authorization auth = groups.coordinator().authorization();
        for (String groupId : request.groupsNames()) {
            results.add(auth.denies(context, AclOperation.DELETE, ResourceType.GROUP, groupId)
                    ? CompletableFuture.completedFuture(Errors.GROUP_AUTHORIZATION_FAILED)
                    : groups.deleteGroup(groupId));
        }
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenApply(done -> {
            DeleteGroupsResponseData response = new DeleteGroupsResponseData();
            for (int i = 0; i < results.size(); i++) {
                response.results().add(new DeleteGroupsResponseData.DeletableGroupResult()
                        .setGroupId(request.groupsNames().get(i)).setErrorCode(results.get(i).join().code()));
            }
            return response;
        });
    }
}
