package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** CreatePartitions v0–3: raises a topic's partition count; manual assignments are refused. */
public final class CreatePartitionsHandler implements ApiHandler<CreatePartitionsRequestData> {
    private final BrokerServices broker;

    public CreatePartitionsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.CREATE_PARTITIONS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 3;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, CreatePartitionsRequestData request) {
        CreatePartitionsResponseData response = new CreatePartitionsResponseData();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        MutationQuota quota = new MutationQuota(broker.quotas(), context, context.version() >= 3);
        for (CreatePartitionsRequestData.CreatePartitionsTopic topic : request.topics()) {
            CreatePartitionsTopicResult out = new CreatePartitionsTopicResult().setName(topic.name());
            response.results().add(out);
            if (broker.authorization().denies(context, AclOperation.ALTER, ResourceType.TOPIC, topic.name())) {
                out.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()).setErrorMessage("Authorization failed.");
                continue;
            }
            if (topic.assignments() != null) {
                out.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("manual replica assignment is not supported");
                continue;
            }
            int added = broker.topic(topic.name()).map(t -> topic.count() - t.partitions()).orElse(0);
            if (!request.validateOnly() && added > 0 && !quota.charge(added)) {
                out.setErrorCode(Errors.THROTTLING_QUOTA_EXCEEDED.code()).setErrorMessage(MutationQuota.EXCEEDED);
                continue;
            }
            pending.add(broker.createPartitions(topic.name(), topic.count(), request.validateOnly())
                    .handle((v, failure) -> failure == null ? out : out.setErrorCode(KafkaErrors.of(failure).code())
                            .setErrorMessage(KafkaErrors.message(failure))));
        }
        response.setThrottleTimeMs(quota.throttle());
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }
}
