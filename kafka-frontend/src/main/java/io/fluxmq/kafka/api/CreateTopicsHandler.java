package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicConfigs;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * CreateTopics v2–7. -1 partitions or replication factor take the broker defaults; manual replica assignments are
 * refused with INVALID_REQUEST. Each topic gets its own result; the response waits until every created partition has
 * a leader. Each topic's partitions count against the client's {@code controller_mutation_rate} ({@link MutationQuota};
 * validate-only requests are not charged, as in Kafka).
 */
public final class CreateTopicsHandler implements ApiHandler<CreateTopicsRequestData> {
    private final BrokerServices broker;
    private final int defaultPartitions;
    private final short defaultReplicationFactor;

    public CreateTopicsHandler(BrokerServices broker, int defaultPartitions, short defaultReplicationFactor) {
        this.broker = broker;
        this.defaultPartitions = defaultPartitions;
        this.defaultReplicationFactor = defaultReplicationFactor;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.CREATE_TOPICS;
    }

    @Override
    public short minVersion() {
        return 2;
    }

    @Override
    public short maxVersion() {
        return 7;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, CreateTopicsRequestData request) {
        CreateTopicsResponseData response = new CreateTopicsResponseData();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Set<String> duplicated = new HashSet<>();
        for (CreatableTopic topic : request.topics()) {
            if (!seen.add(topic.name())) {
                duplicated.add(topic.name());
            }
        }
        Authorization auth = broker.authorization();
        MutationQuota quota = new MutationQuota(broker.quotas(), context, context.version() >= 6);
        boolean clusterCreate = !auth.enabled() || auth.allowedOnCluster(context, AclOperation.CREATE);
        for (CreatableTopic topic : request.topics()) {
            CreatableTopicResult out = new CreatableTopicResult().setName(topic.name())
                    .setNumPartitions(-1).setReplicationFactor((short) -1);
            response.topics().add(out);
            // CREATE on the cluster, or else on the topic, as Kafka
            if (!clusterCreate && !auth.allowed(context, AclOperation.CREATE, ResourceType.TOPIC, topic.name())) {
                out.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setErrorMessage("Authorization failed.");
                continue;
            }
            if (duplicated.contains(topic.name())) {
                out.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("topic " + topic.name() + " appears more than once in the request");
                continue;
            }
            if (!topic.assignments().isEmpty()) {
                out.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("manual replica assignment is not supported; give a replication factor");
                continue;
            }
            int partitions = topic.numPartitions() == -1 ? defaultPartitions : topic.numPartitions();
            short rf = topic.replicationFactor() == -1 ? defaultReplicationFactor : topic.replicationFactor();
            if (!request.validateOnly() && partitions > 0 && !quota.charge(partitions)) {
                out.setErrorCode(Errors.THROTTLING_QUOTA_EXCEEDED.code()).setErrorMessage(MutationQuota.EXCEEDED);
                continue;
            }
            Map<String, String> configs = new HashMap<>();
            topic.configs().forEach(c -> configs.put(c.name(), c.value()));
            pending.add(broker.createTopic(topic.name(), partitions, rf, configs, request.validateOnly())
                    .handle((created, failure) -> {
                        if (failure != null) {
                            return out.setErrorCode(KafkaErrors.of(failure).code())
                                    .setErrorMessage(KafkaErrors.message(failure));
                        }
                        return describe(out, created, context.version(), auth.denies(context,
                                AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, topic.name()));
                    }));
        }
        response.setThrottleTimeMs(quota.throttle());
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    /** The created topic; its configs (v5+) only with DESCRIBE_CONFIGS on it, as Kafka. */
    private CreatableTopicResult describe(CreatableTopicResult out, TopicInfo topic, short version,
                                          boolean configsDenied) {
        out.setTopicId(topic.topicId()).setNumPartitions(topic.partitions())
                .setReplicationFactor(topic.replicationFactor());
        if (version >= 5 && configsDenied) {
            out.setTopicConfigErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
        } else if (version >= 5) {
            List<CreatableTopicConfigs> configs = new ArrayList<>();
            Map<String, String> merged = new java.util.TreeMap<>(broker.topicConfigDefaults());
            merged.putAll(topic.configs());
            merged.forEach((name, value) -> configs.add(new CreatableTopicConfigs().setName(name).setValue(value)
                    .setReadOnly(false).setIsSensitive(false)
                    .setConfigSource(topic.configs().containsKey(name) ? (byte) 1 : (byte) 5)));
            out.setConfigs(configs);
        }
        return out;
    }
}
