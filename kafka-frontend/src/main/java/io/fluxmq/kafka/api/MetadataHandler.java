package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.broker.PartitionState;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * Metadata v0–12: brokers on the listener the client used, and per topic its id and partitions (leader = Raft
 * leader, epoch = Raft term). Unknown topics are created only when auto-creation is on and the client allows it.
 * Authorization as Kafka: a topic needs DESCRIBE (asked for all topics, the others are left out; asked by name or id,
 * they answer TOPIC_AUTHORIZATION_FAILED, also when they do not exist), auto-creation CREATE on the cluster or the
 * topic; authorized operations of topics (v8+) and of the cluster (v8–10) when asked.
 */
public final class MetadataHandler implements ApiHandler<MetadataRequestData> {
    private static final int AUTHORIZED_OPERATIONS_OMITTED = Integer.MIN_VALUE;
    private final BrokerServices broker;
    private final int defaultPartitions;
    private final short defaultReplicationFactor;

    public MetadataHandler(BrokerServices broker, int defaultPartitions, short defaultReplicationFactor) {
        this.broker = broker;
        this.defaultPartitions = defaultPartitions;
        this.defaultReplicationFactor = defaultReplicationFactor;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.METADATA;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 12;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, MetadataRequestData request) {
        short version = context.version();
        Authorization auth = broker.authorization();
        MetadataResponseData response = new MetadataResponseData()
                .setClusterId(broker.clusterId())
                .setControllerId(broker.controllerId())
                .setClusterAuthorizedOperations(AUTHORIZED_OPERATIONS_OMITTED);
        if (version >= 8 && version <= 10 && request.includeClusterAuthorizedOperations()) {
            response.setClusterAuthorizedOperations(auth.allowedOnCluster(context, AclOperation.DESCRIBE)
                    ? auth.authorizedOperations(context, ResourceType.CLUSTER, Authorization.CLUSTER_NAME) : 0);
        }
        boolean withOperations = version >= 8 && request.includeTopicAuthorizedOperations();
        for (BrokerEndpoint b : broker.brokers(context.listener())) {
            response.brokers().add(new MetadataResponseBroker().setNodeId(b.nodeId()).setHost(b.host())
                    .setPort(b.port()).setRack(b.rack()));
        }
        boolean allTopics = request.topics() == null || (version == 0 && request.topics().isEmpty());
        if (allTopics) {
            for (TopicInfo topic : broker.topics()) {
                if (describable(auth, context, topic.name())) {
                    response.topics().add(operations(describe(topic), auth, context, withOperations));
                }
            }
            return CompletableFuture.completedFuture(response);
        }
        List<CompletableFuture<MetadataResponseTopic>> pending = new ArrayList<>();
        for (MetadataRequestData.MetadataRequestTopic requested : request.topics()) {
            pending.add(topic(context, requested, version >= 4 ? request.allowAutoTopicCreation() : true)
                    .thenApply(t -> operations(t, auth, context, withOperations)));
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(v -> {
            pending.forEach(f -> response.topics().add(f.join()));
            return response;
        });
    }

    private static boolean describable(Authorization auth, RequestContext context, String topic) {
        return !auth.enabled() || auth.allowed(context, AclOperation.DESCRIBE, ResourceType.TOPIC, topic);
    }

    /** The topic's authorized operations when asked, for a topic answered without error. */
    private static MetadataResponseTopic operations(MetadataResponseTopic topic, Authorization auth,
                                                    RequestContext context, boolean asked) {
        if (asked && topic.errorCode() == Errors.NONE.code() && topic.name() != null) {
            topic.setTopicAuthorizedOperations(auth.authorizedOperations(context, ResourceType.TOPIC, topic.name()));
        }
        return topic;
    }

    private CompletableFuture<MetadataResponseTopic> topic(RequestContext context,
                                                           MetadataRequestData.MetadataRequestTopic requested,
                                                           boolean clientAllowsCreation) {
        Authorization auth = broker.authorization();
        if (requested.name() == null) {
            Uuid id = requested.topicId();
            Optional<TopicInfo> byId = broker.topic(id);
            if (byId.isPresent() && !describable(auth, context, byId.get().name())) {
                // topic ids are not secret: Kafka answers TOPIC_AUTHORIZATION_FAILED with the id and no name
                return CompletableFuture.completedFuture(new MetadataResponseTopic().setTopicId(id)
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setTopicAuthorizedOperations(AUTHORIZED_OPERATIONS_OMITTED));
            }
            return CompletableFuture.completedFuture(byId.map(this::describe).orElseGet(() ->
                    new MetadataResponseTopic().setTopicId(id).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code())));
        }
        String name = requested.name();
        if (!describable(auth, context, name)) {
            return CompletableFuture.completedFuture(error(name, Errors.TOPIC_AUTHORIZATION_FAILED));
        }
        Optional<TopicInfo> topic = broker.topic(name);
        if (topic.isPresent()) {
            return CompletableFuture.completedFuture(describe(topic.get()));
        }
        try {
            Topic.validate(name);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(error(name, Errors.INVALID_TOPIC_EXCEPTION));
        }
        if (!broker.autoCreateTopics() || !clientAllowsCreation || Topic.isInternal(name)) {
            return CompletableFuture.completedFuture(error(name, Errors.UNKNOWN_TOPIC_OR_PARTITION));
        }
        if (auth.enabled() && !auth.allowedOnCluster(context, AclOperation.CREATE)
                && !auth.allowed(context, AclOperation.CREATE, ResourceType.TOPIC, name)) {
            return CompletableFuture.completedFuture(error(name, Errors.TOPIC_AUTHORIZATION_FAILED));
        }
        return broker.createTopic(name, defaultPartitions, defaultReplicationFactor, java.util.Map.of(), false)
                .handle((created, failure) -> {
                    if (failure == null) {
                        return describe(created);
                    }
                    Errors error = KafkaErrors.of(failure);
                    return error == Errors.TOPIC_ALREADY_EXISTS
                            ? broker.topic(name).map(this::describe).orElse(error(name, Errors.LEADER_NOT_AVAILABLE))
                            : error(name, Errors.LEADER_NOT_AVAILABLE);
                });
    }

    private static MetadataResponseTopic error(String name, Errors error) {
        return new MetadataResponseTopic().setName(name).setErrorCode(error.code())
                .setTopicAuthorizedOperations(AUTHORIZED_OPERATIONS_OMITTED);
    }

    private MetadataResponseTopic describe(TopicInfo topic) {
        MetadataResponseTopic out = new MetadataResponseTopic()
                .setName(topic.name())
                .setTopicId(topic.topicId())
                .setIsInternal(topic.internal())
                .setTopicAuthorizedOperations(AUTHORIZED_OPERATIONS_OMITTED);
        for (int p = 0; p < topic.partitions(); p++) {
            PartitionState state = broker.partitionState(new TopicPartition(topic.name(), p));
            out.partitions().add(new MetadataResponsePartition()
                    .setPartitionIndex(p)
                    .setErrorCode(state.leader() < 0 ? Errors.LEADER_NOT_AVAILABLE.code() : Errors.NONE.code())
                    .setLeaderId(state.leader())
                    .setLeaderEpoch(state.leaderEpoch())
                    .setReplicaNodes(state.replicas())
                    .setIsrNodes(state.isr())
                    .setOfflineReplicas(state.offline()));
        }
        return out;
    }
}
