package io.fluxmq.kafka.group;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The group operations the API handlers call, on top of {@link GroupCoordinator#route}: each resolves the group's
 * shard (or answers the routing error) and runs under the shard's lock. Offsets are in {@link OffsetOperations}.
 */
public final class GroupOperations {
    private final GroupCoordinator coordinator;

    public GroupOperations(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    public GroupCoordinator coordinator() {
        return coordinator;
    }

    static String clientHost(RequestContext context) {
        return "/" + context.clientAddress().getHostString();
    }

    static String clientId(RequestContext context) {
        String id = context.header().clientId();
        return id == null ? "" : id;
    }

    // ---------------------------------------------------------------- classic protocol

    public CompletableFuture<JoinGroupResponseData> joinGroup(RequestContext context, JoinGroupRequestData request) {
        GroupCoordinator.Route route = coordinator.route(request.groupId());
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            return CompletableFuture.completedFuture(new JoinGroupResponseData().setErrorCode(refused.error().code())
                    .setMemberId(request.memberId()).setGenerationId(-1).setProtocolName(null).setLeader(""));
        }
        GroupShard shard = ((GroupCoordinator.Route.Served) route).shard();
        Map<String, byte[]> protocols = new LinkedHashMap<>();
        request.protocols().forEach(p -> protocols.putIfAbsent(p.name(), p.metadata()));
        short version = context.version();
        ClassicGroup.Join join = new ClassicGroup.Join(request.memberId(), request.groupInstanceId(),
                clientId(context), clientHost(context), request.sessionTimeoutMs(),
                version >= 1 ? request.rebalanceTimeoutMs() : request.sessionTimeoutMs(), request.protocolType(),
                protocols, version);
        long now = coordinator.now();
        return shard.withClassicGroup(request.groupId(), true, now, group -> group == null
                ? CompletableFuture.completedFuture(new JoinGroupResponseData()
                        .setErrorCode(Errors.INCONSISTENT_GROUP_PROTOCOL.code()).setMemberId(request.memberId())
                        .setGenerationId(-1).setProtocolName(null).setLeader(""))
                : group.join(join, now));
    }

    public CompletableFuture<SyncGroupResponseData> syncGroup(SyncGroupRequestData request) {
        GroupCoordinator.Route route = coordinator.route(request.groupId());
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            return CompletableFuture.completedFuture(new SyncGroupResponseData().setErrorCode(refused.error().code()));
        }
        Map<String, byte[]> assignments = new LinkedHashMap<>();
        request.assignments().forEach(a -> assignments.put(a.memberId(), a.assignment()));
        long now = coordinator.now();
        return ((GroupCoordinator.Route.Served) route).shard().withClassicGroup(request.groupId(), false, now,
                group -> group == null
                        ? CompletableFuture.completedFuture(new SyncGroupResponseData()
                                .setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()))
                        : group.sync(request.memberId(), request.groupInstanceId(), request.generationId(),
                                request.protocolType(), request.protocolName(), assignments, now));
    }

    public Errors heartbeat(String groupId, String memberId, String instanceId, int generation) {
        GroupCoordinator.Route route = coordinator.route(groupId);
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            return refused.error();
        }
        long now = coordinator.now();
        return ((GroupCoordinator.Route.Served) route).shard().withClassicGroup(groupId, false, now,
                group -> group == null ? Errors.UNKNOWN_MEMBER_ID
                        : group.heartbeat(memberId, instanceId, generation, now));
    }

    /** One member leaving; {@code instanceId} null for dynamic members. */
    public record Leaver(String memberId, String instanceId) {}

    /** The group-level error (routing), or NONE with one error per leaver. */
    public record LeaveResult(Errors error, List<Errors> members) {}

    public LeaveResult leaveGroup(String groupId, List<Leaver> leavers) {
        GroupCoordinator.Route route = coordinator.route(groupId);
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            return new LeaveResult(refused.error(), List.of());
        }
        long now = coordinator.now();
        return ((GroupCoordinator.Route.Served) route).shard().withClassicGroup(groupId, false, now, group -> {
            if (group == null) {
                return new LeaveResult(Errors.UNKNOWN_MEMBER_ID, List.of());
            }
            List<Errors> errors = new ArrayList<>();
            for (Leaver leaver : leavers) {
                errors.add(group.leave(leaver.memberId() == null ? "" : leaver.memberId(), leaver.instanceId(), now));
            }
            return new LeaveResult(Errors.NONE, errors);
        });
    }

    // ---------------------------------------------------------------- KIP-848

    /**
     * ConsumerGroupHeartbeat; answered once the group record it changed is committed. A failed write answers the
     * coordinator error the client retries on (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE), except a record too large
     * for the offsets topic: then the heartbeat is answered and the group goes on unwritten (a new coordinator would
     * make its members rejoin).
     */
    public CompletableFuture<ConsumerGroupHeartbeatResponseData> consumerGroupHeartbeat(
            RequestContext context, ConsumerGroupHeartbeatRequestData request) {
        GroupCoordinator.Route route = coordinator.route(request.groupId());
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            return CompletableFuture.completedFuture(new ConsumerGroupHeartbeatResponseData()
                    .setErrorCode(refused.error().code()).setErrorMessage(refused.error().message()).setMemberId(null)
                    .setMemberEpoch(-1));
        }
        long now = coordinator.now();
        boolean join = request.memberEpoch() == 0;
        Authorization auth = coordinator.authorization();
        Predicate<String> describable = auth.enabled()
                ? topic -> auth.allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, topic) : topic -> true;
        return ((GroupCoordinator.Route.Served) route).shard().withConsumerGroupWritten(request.groupId(), join, now,
                group -> {
                    if (group == null) {
                        Errors error = join ? Errors.GROUP_ID_NOT_FOUND : Errors.UNKNOWN_MEMBER_ID;
                        return new ConsumerGroupHeartbeatResponseData().setErrorCode(error.code())
                                .setErrorMessage(join ? "group " + request.groupId() + " is not a consumer group"
                                        : error.message())
                                .setMemberId(null).setMemberEpoch(-1);
                    }
                    return group.heartbeat(request, context.version(), clientId(context), clientHost(context),
                            describable, now);
                },
                (answer, failure) -> {
                    Errors error = KafkaErrors.ofCoordinatorWrite(failure);
                    if (error == Errors.INVALID_COMMIT_OFFSET_SIZE) {
                        return answer;
                    }
                    return new ConsumerGroupHeartbeatResponseData().setErrorCode(error.code())
                            .setErrorMessage(KafkaErrors.message(failure)).setMemberId(null).setMemberEpoch(-1);
                });
    }

    // ---------------------------------------------------------------- administration

    /**
     * DescribeGroups' view of one group. An unknown or KIP-848 group is {@code Dead} with no error, or
     * GROUP_ID_NOT_FOUND when {@code unknownIsError} (v6+).
     */
    public DescribeGroupsResponseData.DescribedGroup describeClassic(String groupId, boolean unknownIsError) {
        DescribeGroupsResponseData.DescribedGroup out = new DescribeGroupsResponseData.DescribedGroup()
                .setGroupId(groupId).setGroupState("Dead").setProtocolType("").setProtocolData("");
        GroupCoordinator.Route route = coordinator.route(groupId);
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            return out.setErrorCode(refused.error().code());
        }
        GroupShard shard = ((GroupCoordinator.Route.Served) route).shard();
        return shard.withClassicGroup(groupId, false, coordinator.now(), group -> {
            Group any = shard.group(groupId);
            if (group == null) {
                if (unknownIsError) {
                    out.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage(any == null
                            ? "group " + groupId + " not found" : "group " + groupId + " is not a classic group");
                }
                return out;
            }
            out.setGroupState(group.stateName()).setProtocolType(group.protocolType() == null ? ""
                    : group.protocolType());
            boolean stable = group.state() == ClassicGroup.State.STABLE;
            if (stable) {
                out.setProtocolData(group.protocolName());
            }
            for (ClassicMember m : group.members().values()) {
                DescribeGroupsResponseData.DescribedGroupMember member =
                        new DescribeGroupsResponseData.DescribedGroupMember().setMemberId(m.memberId)
                                .setGroupInstanceId(m.instanceId).setClientId(m.clientId).setClientHost(m.clientHost);
                if (stable) {
                    member.setMemberMetadata(m.protocols.get(group.protocolName())).setMemberAssignment(m.assignment);
                }
                out.members().add(member);
            }
            return out;
        });
    }

    public ConsumerGroupDescribeResponseData.DescribedGroup describeConsumer(String groupId) {
        ConsumerGroupDescribeResponseData.DescribedGroup out = new ConsumerGroupDescribeResponseData.DescribedGroup()
                .setGroupId(groupId).setGroupState("Dead");
        GroupCoordinator.Route route = coordinator.route(groupId);
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            return out.setErrorCode(refused.error().code()).setErrorMessage(refused.error().message());
        }
        GroupShard shard = ((GroupCoordinator.Route.Served) route).shard();
        return shard.withConsumerGroup(groupId, false, coordinator.now(), group -> {
            if (group == null) {
                return out.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage(shard.group(groupId) == null
                        ? "group " + groupId + " not found" : "group " + groupId + " is not a consumer group");
            }
            out.setGroupState(group.stateName()).setGroupEpoch(group.groupEpoch())
                    .setAssignmentEpoch(group.assignmentEpoch()).setAssignorName(group.assignorName());
            for (ConsumerMember m : group.members().values()) {
                out.members().add(new ConsumerGroupDescribeResponseData.Member().setMemberId(m.memberId)
                        .setInstanceId(m.instanceId).setRackId(m.rackId).setMemberEpoch(m.memberEpoch)
                        .setClientId(m.clientId).setClientHost(m.clientHost)
                        .setSubscribedTopicNames(new ArrayList<>(m.subscribedTopicNames))
                        .setSubscribedTopicRegex(m.subscribedTopicRegex)
                        .setAssignment(assignment(m.assigned))
                        .setTargetAssignment(assignment(group.targetOf(m.memberId)))
                        .setMemberType((byte) 1));
            }
            return out;
        });
    }

    private ConsumerGroupDescribeResponseData.Assignment assignment(
            Map<org.apache.kafka.common.Uuid, java.util.Set<Integer>> partitions) {
        ConsumerGroupDescribeResponseData.Assignment out = new ConsumerGroupDescribeResponseData.Assignment();
        partitions.forEach((id, ps) -> {
            Optional<TopicLookup.Topic> topic = coordinator.topics().byId(id);
            out.topicPartitions().add(new ConsumerGroupDescribeResponseData.TopicPartitions().setTopicId(id)
                    .setTopicName(topic.map(TopicLookup.Topic::name).orElse("")).setPartitions(new ArrayList<>(ps)));
        });
        return out;
    }

    public CompletableFuture<Errors> deleteGroup(String groupId) {
        GroupCoordinator.Route route = coordinator.route(groupId);
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            return CompletableFuture.completedFuture(refused.error());
        }
        return ((GroupCoordinator.Route.Served) route).shard().deleteGroup(groupId, coordinator.now())
                .exceptionally(KafkaErrors::ofCoordinatorWrite);
    }

    /** Per-partition results of an OffsetDelete, or the group-level error. */
    public record OffsetDeleteResult(Errors error, Map<TopicPartition, Errors> partitions) {}

    public CompletableFuture<OffsetDeleteResult> deleteOffsets(String groupId, List<TopicPartition> partitions) {
        GroupCoordinator.Route route = coordinator.route(groupId);
        if (route instanceof GroupCoordinator.Route.Refused refused) {
            return CompletableFuture.completedFuture(new OffsetDeleteResult(refused.error(), Map.of()));
        }
        GroupShard shard = ((GroupCoordinator.Route.Served) route).shard();
        if (shard.group(groupId) == null) {
            return CompletableFuture.completedFuture(new OffsetDeleteResult(Errors.GROUP_ID_NOT_FOUND, Map.of()));
        }
        return shard.deleteOffsets(groupId, partitions, coordinator.now())
                .thenApply(result -> new OffsetDeleteResult(Errors.NONE, result))
                .exceptionally(failure -> new OffsetDeleteResult(KafkaErrors.ofCoordinatorWrite(failure), Map.of()));
    }
}
