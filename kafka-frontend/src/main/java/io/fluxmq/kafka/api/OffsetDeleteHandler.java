package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** OffsetDelete v0: deletes committed offsets of topics the group does not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise). */
public final class OffsetDeleteHandler implements ApiHandler<OffsetDeleteRequestData> {
    private final GroupOperations groups;

    public OffsetDeleteHandler(GroupOperations groups) {
        this.groups = groups;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.OFFSET_DELETE;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, OffsetDeleteRequestData request) {
        Authorization auth = groups.coordinator().authorization();
        if (auth.denies(context, AclOperation.DELETE, ResourceType.GROUP, request.groupId())) {
            return CompletableFuture.completedFuture(new OffsetDeleteResponseData()
                    .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()));
        }
        // READ on each topic, as Kafka; refused topics keep their offsets
        Set<String> refused = new HashSet<>();
        request.topics().stream().map(t -> t.name())
                .filter(t -> auth.denies(context, AclOperation.READ, ResourceType.TOPIC, t)).forEach(refused::add);
        List<TopicPartition> partitions = new ArrayList<>();
        request.topics().stream().filter(t -> !refused.contains(t.name())).forEach(t -> t.partitions().forEach(
                p -> partitions.add(new TopicPartition(t.name(), p.partitionIndex()))));
        return groups.deleteOffsets(request.groupId(), partitions).thenApply(result -> {
            OffsetDeleteResponseData response = new OffsetDeleteResponseData().setErrorCode(result.error().code());
            if (result.error() != Errors.NONE) {
                return response;
            }
            for (OffsetDeleteRequestData.OffsetDeleteRequestTopic t : request.topics()) {
                OffsetDeleteResponseData.OffsetDeleteResponseTopic out =
                        new OffsetDeleteResponseData.OffsetDeleteResponseTopic().setName(t.name());
                for (OffsetDeleteRequestData.OffsetDeleteRequestPartition p : t.partitions()) {
                    out.partitions().add(new OffsetDeleteResponseData.OffsetDeleteResponsePartition()
                            .setPartitionIndex(p.partitionIndex()).setErrorCode(refused.contains(t.name())
                                    ? Errors.TOPIC_AUTHORIZATION_FAILED.code() : result.partitions()
                                    .get(new TopicPartition(t.name(), p.partitionIndex())).code()));
                }
                response.topics().add(out);
            }
            return response;
        });
    }
}
