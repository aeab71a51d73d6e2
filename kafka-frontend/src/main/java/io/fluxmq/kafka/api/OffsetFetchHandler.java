package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.group.CommittedOffset;
import io.fluxmq.kafka.group.OffsetOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** OffsetFetch v1–9: committed offsets of a group (v1–7) or of several groups (v8+); all partitions when topics is null (v2+). A partition without a commit answers offset -1. KIP-848 members are checked by epoch (v9). */
public final class OffsetFetchHandler implements ApiHandler<OffsetFetchRequestData> {
    private final OffsetOperations offsets;

    public OffsetFetchHandler(OffsetOperations offsets) {
        this.offsets = offsets;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.OFFSET_FETCH;
    }

    @Override
    public short minVersion() {
        return 1;
    }

    @Override
    public short maxVersion() {
        return 9;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, OffsetFetchRequestData request) {
        short version = context.version();
        OffsetFetchResponseData response = new OffsetFetchResponseData();
        if (version >= 8) {
            for (OffsetFetchRequestData.OffsetFetchRequestGroup g : request.groups()) {
                Map<String, List<Integer>> topics = null;
                if (g.topics() != null) {
                    topics = new LinkedHashMap<>();
                    for (OffsetFetchRequestData.OffsetFetchRequestTopics t : g.topics()) {
                        topics.put(t.name(), t.partitionIndexes());
                    }
                }
                response.groups().add(fetch(context, g.groupId(), g.memberId(), g.memberEpoch(), topics,
                        request.requireStable()));
            }
            return CompletableFuture.completedFuture(response);
        }
        Map<String, List<Integer>> topics = null;
        if (request.topics() != null) {
            topics = new LinkedHashMap<>();
            for (OffsetFetchRequestData.OffsetFetchRequestTopic t : request.topics()) {
                topics.put(t.name(), t.partitionIndexes());
            }
        }
        OffsetFetchResponseGroup group = fetch(context, request.groupId(), null, -1, topics,
                version >= 7 && request.requireStable());
        Errors groupError = Errors.forCode(group.errorCode());
        if (version >= 2) {
            response.setErrorCode(group.errorCode());
        }
        for (OffsetFetchResponseTopics t : group.topics()) {
            OffsetFetchResponseData.OffsetFetchResponseTopic out =
                    new OffsetFetchResponseData.OffsetFetchResponseTopic().setName(t.name());
            for (OffsetFetchResponsePartitions p : t.partitions()) {
                out.partitions().add(new OffsetFetchResponseData.OffsetFetchResponsePartition()
                        .setPartitionIndex(p.partitionIndex()).setCommittedOffset(p.committedOffset())
                        .setCommittedLeaderEpoch(version >= 5 ? p.committedLeaderEpoch() : -1)
                        .setMetadata(p.metadata()).setErrorCode(p.errorCode()));
            }
            response.topics().add(out);
        }
        if (version < 2 && groupError == Errors.GROUP_AUTHORIZATION_FAILED && topics != null) {
            // nothing was read: v1 carries the refusal in each requested partition (Kafka's error response)
            topics.forEach((name, partitions) -> {
                OffsetFetchResponseData.OffsetFetchResponseTopic out =
                        new OffsetFetchResponseData.OffsetFetchResponseTopic().setName(name);
                partitions.forEach(p -> out.partitions().add(new OffsetFetchResponseData.OffsetFetchResponsePartition()
                        .setPartitionIndex(p).setCommittedOffset(-1).setMetadata("")));
                response.topics().add(out);
            });
        }
        if (version < 2 && groupError != Errors.NONE) {
            // v1 has no group-level error: every requested partition carries it.
            response.topics().forEach(t -> t.partitions().forEach(p -> p.setErrorCode(groupError.code())));
        }
        return CompletableFuture.completedFuture(response);
    }

    /** One group in the v8+ shape; the older shape is derived from it. */
    /**
     * One group in the v8+ shape; the older shape is derived from it. As Kafka: DESCRIBE on the group
     * (GROUP_AUTHORIZATION_FAILED) and on each topic (requested: TOPIC_AUTHORIZATION_FAILED; all: left out).
     */
    private OffsetFetchResponseGroup fetch(RequestContext context, String groupId, String memberId, int memberEpoch,
                                           Map<String, List<Integer>> topics, boolean requireStable) {
        Authorization auth = offsets.coordinator().authorization();
        if (auth.denies(context, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
            return new OffsetFetchResponseGroup().setGroupId(groupId)
                    .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code());
        }
        OffsetFetchResponseGroup out = fetch(groupId, memberId, memberEpoch, topics, requireStable);
        if (auth.enabled()) {
            out.topics().removeIf(t -> topics == null
                    && !auth.allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name()));
            out.topics().stream().filter(t -> !auth.allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC,
                    t.name())).forEach(t -> t.partitions().forEach(p -> p.setCommittedOffset(-1)
                    .setCommittedLeaderEpoch(-1).setMetadata("")
                    .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())));
        }
        return out;
    }

    private OffsetFetchResponseGroup fetch(String groupId, String memberId, int memberEpoch,
                                           Map<String, List<Integer>> topics, boolean requireStable) {
        List<TopicPartition> requested = null;
        if (topics != null) {
            requested = new ArrayList<>();
            for (Map.Entry<String, List<Integer>> t : topics.entrySet()) {
                for (int p : t.getValue()) {
                    requested.add(new TopicPartition(t.getKey(), p));
                }
            }
        }
        OffsetOperations.Fetched fetched = offsets.fetch(groupId, memberId, memberEpoch, requested, requireStable);
        OffsetFetchResponseGroup out = new OffsetFetchResponseGroup().setGroupId(groupId)
                .setErrorCode(fetched.error().code());
        Map<TopicPartition, CommittedOffset> answer = new LinkedHashMap<>();
        if (requested != null) {
            requested.forEach(tp -> answer.put(tp, fetched.offsets().get(tp)));
        } else {
            answer.putAll(fetched.offsets());
        }
        OffsetOperations.byTopic(answer).forEach((topic, partitions) -> {
            OffsetFetchResponseTopics t = new OffsetFetchResponseTopics().setName(topic);
            partitions.forEach((p, committed) -> t.partitions().add(new OffsetFetchResponsePartitions()
                    .setPartitionIndex(p)
                    .setCommittedOffset(committed == null ? -1 : committed.offset())
                    .setCommittedLeaderEpoch(committed == null ? -1 : committed.leaderEpoch())
                    .setMetadata(committed == null ? "" : committed.metadata())
                    .setErrorCode(fetched.unstable().contains(new TopicPartition(topic, p))
                            ? Errors.UNSTABLE_OFFSET_COMMIT.code() : Errors.NONE.code())));
            out.topics().add(t);
        });
        return out;
    }
}
