package io.fluxmq.kafka.api;

import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

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
        return CompletableFuture.completedFuture(groups.consumerGroupHeartbeat(context, request));
    }
}
