package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** DeleteTopics v1–6: by name, and from v6 by name or topic id. */
public final class DeleteTopicsHandler implements ApiHandler<DeleteTopicsRequestData> {
    private final BrokerServices broker;

    public DeleteTopicsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DELETE_TOPICS;
    }

    @Override
    public short minVersion() {
        return 1;
    }

    @Override
    public short maxVersion() {
        return 6;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DeleteTopicsRequestData request) {
        DeleteTopicsResponseData response = new DeleteTopicsResponseData();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        List<DeleteTopicsRequestData.DeleteTopicState> targets = new ArrayList<>(request.topics());
        request.topicNames().forEach(n -> targets.add(new DeleteTopicsRequestData.DeleteTopicState().setName(n)));
        MutationQuota quota = new MutationQuota(broker.quotas(), context, context.version() >= 5);
        for (DeleteTopicsRequestData.DeleteTopicState target : targets) {
            DeletableTopicResult out = new DeletableTopicResult().setName(target.name()).setTopicId(target.topicId());
            response.responses().add(out);
            Optional<TopicInfo> topic = target.name() != null ? broker.topic(target.name())
                    : broker.topic(target.topicId());
            if (topic.isEmpty() && target.name() != null
                    && broker.authorization().denies(context, AclOperation.DELETE, ResourceType.TOPIC, target.name())) {
                out.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                continue;
            }
            if (topic.isEmpty()) {
                boolean byId = target.name() == null && !Uuid.ZERO_UUID.equals(target.topicId());
                out.setErrorCode((byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code());
                continue;
            }
            out.setName(topic.get().name()).setTopicId(topic.get().topicId());
            if (broker.authorization().denies(context, AclOperation.DELETE, ResourceType.TOPIC, topic.get().name())) {
                out.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                continue;
            }
            if (topic.get().internal()) {
                out.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setErrorMessage("internal topics cannot be deleted");
                continue;
            }
            if (!quota.charge(topic.get().partitions())) {
                out.setErrorCode(Errors.THROTTLING_QUOTA_EXCEEDED.code()).setErrorMessage(MutationQuota.EXCEEDED);
                continue;
            }
            pending.add(broker.deleteTopic(topic.get().name()).handle((v, failure) -> failure == null ? out
                    : out.setErrorCode(KafkaErrors.of(failure).code()).setErrorMessage(KafkaErrors.message(failure))));
        }
        response.setThrottleTimeMs(quota.throttle());
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }
}
