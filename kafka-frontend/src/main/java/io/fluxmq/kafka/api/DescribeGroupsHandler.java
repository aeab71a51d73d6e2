package io.fluxmq.kafka.api;

import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

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
        for (String groupId : request.groups()) {
            DescribeGroupsResponseData.DescribedGroup group = groups.describeClassic(groupId, context.version() >= 6);
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
