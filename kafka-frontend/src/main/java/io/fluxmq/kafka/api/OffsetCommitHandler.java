package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.group.OffsetOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** OffsetCommit v2–9: writes the commits to the group's offsets partition and answers once they are replicated. Members are checked by generation (classic) or member epoch (KIP-848); generation -1 with no member commits for an empty group (admin tools, assign() consumers). The retention time of v2–4 is ignored, as in Kafka. */
public final class OffsetCommitHandler implements ApiHandler<OffsetCommitRequestData> {
    private final OffsetOperations offsets;

    public OffsetCommitHandler(OffsetOperations offsets) {
        this.offsets = offsets;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.OFFSET_COMMIT;
    }

    @Override
    public short minVersion() {
        return 2;
    }

    @Override
    public short maxVersion() {
        return 9;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, OffsetCommitRequestData request) {
        Authorization auth = offsets.coordinator().authorization();
        if (auth.denies(context, AclOperation.READ, ResourceType.GROUP, request.groupId())) {
            return CompletableFuture.completedFuture(answer(request, tp -> Errors.GROUP_AUTHORIZATION_FAILED));
        }
        // READ on each topic, as Kafka; refused topics are not committed
        Set<String> refused = new HashSet<>();
        request.topics().stream().map(t -> t.name())
                .filter(t -> auth.denies(context, AclOperation.READ, ResourceType.TOPIC, t)).forEach(refused::add);
        List<OffsetOperations.Commit> commits = new ArrayList<>();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : request.topics()) {
            if (refused.contains(t.name())) {
                continue;
            }
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                commits.add(new OffsetOperations.Commit(new TopicPartition(t.name(), p.partitionIndex()),
                        p.committedOffset(), p.committedLeaderEpoch(), p.committedMetadata()));
            }
        }
        return offsets.commit(request.groupId(), request.memberId(), request.groupInstanceId(),
                request.generationIdOrMemberEpoch(), commits).thenApply(errors -> answer(request,
                        tp -> refused.contains(tp.topic()) ? Errors.TOPIC_AUTHORIZATION_FAILED : errors.get(tp)));
    }

    private static OffsetCommitResponseData answer(OffsetCommitRequestData request,
                                                   Function<TopicPartition, Errors> errorOf) {
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : request.topics()) {
            OffsetCommitResponseData.OffsetCommitResponseTopic out =
                    new OffsetCommitResponseData.OffsetCommitResponseTopic().setName(t.name());
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                out.partitions().add(new OffsetCommitResponseData.OffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex())
                        .setErrorCode(errorOf.apply(new TopicPartition(t.name(), p.partitionIndex())).code()));
            }
            response.topics().add(out);
        }
        return response;
    }
}
