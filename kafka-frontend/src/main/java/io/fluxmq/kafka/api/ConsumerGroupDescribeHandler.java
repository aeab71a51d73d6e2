package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ConsumerGroupDescribe v0–1 (KIP-848): epochs, assignor, and each member's subscription, current and target
 * assignment. A classic or unknown group is GROUP_ID_NOT_FOUND (the Admin client then falls back to DescribeGroups).
 * Needs DESCRIBE on the group and, as Kafka 4.1, on every topic of the members' current and target assignments: a
 * group naming a topic the client may not describe is answered TOPIC_AUTHORIZATION_FAILED without its members.
 */
public final class ConsumerGroupDescribeHandler implements ApiHandler<ConsumerGroupDescribeRequestData> {
    private final GroupOperations groups;

    public ConsumerGroupDescribeHandler(GroupOperations groups) {
        this.groups = groups;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.CONSUMER_GROUP_DESCRIBE;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 1;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ConsumerGroupDescribeRequestData request) {
        ConsumerGroupDescribeResponseData response = new ConsumerGroupDescribeResponseData();
        Authorization auth = groups.coordinator().authorization();
        for (String groupId : request.groupIds()) {
            if (auth.denies(context, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
                response.groups().add(new ConsumerGroupDescribeResponseData.DescribedGroup().setGroupId(groupId)
                        .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())
                        .setErrorMessage(Errors.GROUP_AUTHORIZATION_FAILED.message()));
                continue;
            }
            ConsumerGroupDescribeResponseData.DescribedGroup group = groups.describeConsumer(groupId);
            if (auth.enabled()) {
                group = hidingUndescribableTopics(group,
                        topic -> auth.allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, topic));
            }
            if (request.includeAuthorizedOperations() && group.errorCode() == Errors.NONE.code()) {
                group.setAuthorizedOperations(auth.authorizedOperations(context, ResourceType.GROUP, groupId));
            }
            if (context.version() < 1) {
                group.members().forEach(m -> m.setMemberType((byte) -1));
            }
            response.groups().add(group);
        }
        return CompletableFuture.completedFuture(response);
    }

    /**
     * The group, or, when its members' assignments name a topic that is not {@code describable}, Kafka 4.1's answer:
     * the group id with TOPIC_AUTHORIZATION_FAILED and nothing else. Topics whose name is unknown (deleted) are skipped.
     */
    static ConsumerGroupDescribeResponseData.DescribedGroup hidingUndescribableTopics(
            ConsumerGroupDescribeResponseData.DescribedGroup group, Predicate<String> describable) {
        boolean refused = group.members().stream()
                .flatMap(m -> Stream.of(m.assignment(), m.targetAssignment()))
                .flatMap(a -> a == null ? Stream.empty() : a.topicPartitions().stream())
                .map(ConsumerGroupDescribeResponseData.TopicPartitions::topicName)
                .anyMatch(topic -> topic != null && !topic.isEmpty() && !describable.test(topic));
        if (!refused) {
            return group;
        }
        return new ConsumerGroupDescribeResponseData.DescribedGroup().setGroupId(group.groupId())
                .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                .setErrorMessage("The group has described topic(s) that the client is not authorized to describe.");
    }
}
