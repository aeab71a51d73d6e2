package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/** ConsumerGroupHeartbeat v0–1 (KIP-848): join (epoch 0), heartbeat, leave (epoch -1/-2); the answer carries the member's epoch and its assignment, computed on the server. Member ids are chosen by the server in v0 and by the client from v1; regex subscriptions from v1. */
public final class ConsumerGroupHeartbeatHandler implements ApiHandler<ConsumerGroupHeartbeatRequestData> {
    private final GroupOperations groups;

    public ConsumerGroupHeartbeatHandler(GroupOperations groups) {
        this.groups = groups;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.CONSUMER_GROUP_HEARTBEAT;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context, ConsumerGroupHeartbeatRequestData request) {
        Authorization auth = groups.coordinator().authorization();
        if (auth.denies(context, AclOperation.READ, ResourceType.GROUP, request.groupId())) {
            return CompletableFuture.completedFuture(new ConsumerGroupHeartbeatResponseData()
                    .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())
                    .setErrorMessage(Errors.GROUP_AUTHORIZATION_FAILED.message()));
        }
        if (auth.enabled() && request.subscribedTopicNames() != null) {
            // as Kafka: every subscribed topic needs DESCRIBE
            List<String> refused = request.subscribedTopicNames().stream()
                    .filter(t -> !auth.allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, t)).toList();
            if (!refused.isEmpty()) {
                return CompletableFuture.completedFuture(new ConsumerGroupHeartbeatResponseData()
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setErrorMessage("The group has subscribed to topics that are not authorized: " + refused));
            }
        }
        return groups.consumerGroupHeartbeat(context, request).thenApply(ApiMessage.class::cast);
    }
}
