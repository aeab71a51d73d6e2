package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.auth.AclAuthorizer;
import io.fluxmq.kafka.auth.AuthorizerConfig;
import io.fluxmq.kafka.fetch.FetchSessionCache;
import io.fluxmq.kafka.group.GroupConfig;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.server.FakeBrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.message.DescribeAclsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

/**
 * The checks handlers make, with Kafka's error codes, against {@link FakeBrokerServices} (topic "orders", no replicas)
 * and an {@link AclAuthorizer} whose ACLs each test sets; the principal is User:ANONYMOUS.
 */
class HandlerAuthorizationTest {
    private static final String TOPIC = FakeBrokerServices.TOPIC;
    private final AclAuthorizer acls = new AclAuthorizer(new AuthorizerConfig(true, Set.of(), false));
    private final FakeBrokerServices broker = new FakeBrokerServices(acls);
    private final GroupCoordinator groups = new GroupCoordinator(broker, GroupConfig.defaults(),
            () -> 1_700_000_000_000L, tp -> Runnable::run);

    private static RequestContext context(ApiKeys key, int version) {
        return new RequestContext(new RequestHeader(key, (short) version, "test", 1), "EXTERNAL",
                new InetSocketAddress("127.0.0.1", 40000), KafkaPrincipal.ANONYMOUS);
    }

    private void allow(ResourceType type, String name, PatternType pattern, AclOperation... ops) {
        List<AclBinding> bindings = new java.util.ArrayList<>();
        for (AclOperation op : ops) {
            bindings.add(new AclBinding(new ResourcePattern(type, name, pattern),
                    new AccessControlEntry("User:ANONYMOUS", "*", op, AclPermissionType.ALLOW)));
        }
        acls.update(bindings);
    }

    @SuppressWarnings("unchecked")
    private <R extends ApiMessage> R call(ApiHandler<?> handler, int version, ApiMessage request) {
        return (R) ((ApiHandler<ApiMessage>) handler).handle(context(handler.apiKey(), version), request).join();
    }

    private short produce() {
        ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(1000);
        request.topicData().add(new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(MemoryRecords.EMPTY))));
        ProduceResponseData response = call(new ProduceHandler(broker, tp -> Runnable::run), 11, request);
        return response.responses().iterator().next().partitionResponses().get(0).errorCode();
    }

    @Test
    void produceNeedsWriteOnTheTopic() {
        assertThat(produce()).isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code());
        allow(ResourceType.TOPIC, "ord", PatternType.PREFIXED, AclOperation.WRITE);
        assertThat(produce()).as("past the check: this fake holds no replica")
                .isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER.code());
    }

    @Test
    void produceWithATransactionalIdNeedsWriteOnIt() {
        AccessControlEntry write = new AccessControlEntry("User:ANONYMOUS", "*", AclOperation.WRITE,
                AclPermissionType.ALLOW);
        AclBinding topic = new AclBinding(new ResourcePattern(ResourceType.TOPIC, TOPIC, PatternType.LITERAL), write);
        ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(1000)
                .setTransactionalId("tx-1");
        request.topicData().add(new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(MemoryRecords.EMPTY))));
        ProduceHandler handler = new ProduceHandler(broker, tp -> Runnable::run);
        acls.update(List.of(topic));
        ProduceResponseData refused = call(handler, 11, request);
        assertThat(refused.responses().iterator().next().partitionResponses().get(0).errorCode())
                .isEqualTo(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
        acls.update(List.of(topic, new AclBinding(new ResourcePattern(ResourceType.TRANSACTIONAL_ID, "tx-1",
                PatternType.LITERAL), write)));
        ProduceResponseData allowed = call(handler, 11, request);
        assertThat(allowed.responses().iterator().next().partitionResponses().get(0).errorCode())
                .as("past the check: this fake holds no replica").isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER.code());
    }

    @Test
    void fetchNeedsReadOnTheTopic() {
        FetchRequestData request = new FetchRequestData().setMaxWaitMs(0).setMaxBytes(1 << 20).setTopics(List.of(
                new FetchRequestData.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                        new FetchRequestData.FetchPartition().setPartition(0).setPartitionMaxBytes(1 << 20)))));
        FetchHandler handler = new FetchHandler(broker, new FetchSessionCache(0, 0), Runnable::run);
        FetchResponseData refused = call(handler, 12, request);
        assertThat(refused.responses().get(0).partitions().get(0).errorCode())
                .isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code());
        allow(ResourceType.TOPIC, TOPIC, PatternType.LITERAL, AclOperation.READ);
        FetchResponseData allowed = call(handler, 12, request);
        assertThat(allowed.responses().get(0).partitions().get(0).errorCode())
                .isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER.code());
    }

    @Test
    void metadataHidesOrFlagsTopicsWithoutDescribeAndReportsAuthorizedOperations() {
        MetadataHandler handler = new MetadataHandler(broker, 1, (short) 1);
        MetadataResponseData all = call(handler, 12, new MetadataRequestData().setTopics(null));
        assertThat(all.topics()).as("all topics: unauthorized ones left out").isEmpty();
        MetadataResponseData named = call(handler, 12, new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName(TOPIC),
                new MetadataRequestData.MetadataRequestTopic().setName("missing"))));
        assertThat(named.topics()).allSatisfy(t -> assertThat(t.errorCode())
                .isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code()));

        allow(ResourceType.TOPIC, TOPIC, PatternType.LITERAL, AclOperation.READ);
        MetadataResponseData readable = call(handler, 12, new MetadataRequestData().setTopics(null)
                .setIncludeTopicAuthorizedOperations(true));
        assertThat(readable.topics()).hasSize(1);
        assertThat(readable.topics().iterator().next().topicAuthorizedOperations())
                .isEqualTo((1 << AclOperation.READ.code()) | (1 << AclOperation.DESCRIBE.code()));
    }

    @Test
    void createTopicsNeedsCreateOnTheClusterOrTheTopic() {
        CreateTopicsHandler handler = new CreateTopicsHandler(broker, 1, (short) 1);
        CreateTopicsRequestData request = new CreateTopicsRequestData().setTimeoutMs(1000);
        request.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("fresh").setNumPartitions(1)
                .setReplicationFactor((short) 1));
        CreateTopicsResponseData refused = call(handler, 7, request);
        assertThat(refused.topics().find("fresh").errorCode()).isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code());
        allow(ResourceType.TOPIC, "fr", PatternType.PREFIXED, AclOperation.CREATE);
        assertThat(((CreateTopicsResponseData) call(handler, 7, request)).topics().find("fresh").errorCode())
                .isEqualTo(Errors.NONE.code());
        allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, AclOperation.CREATE);
        assertThat(((CreateTopicsResponseData) call(handler, 7, request)).topics().find("fresh").errorCode())
                .isEqualTo(Errors.NONE.code());
    }

    @Test
    void clusterOperationsNeedTheirClusterAcl() {
        DescribeLogDirsResponseData logDirs = call(new DescribeLogDirsHandler(broker), 4,
                new DescribeLogDirsRequestData().setTopics(null));
        assertThat(logDirs.errorCode()).isEqualTo(Errors.CLUSTER_AUTHORIZATION_FAILED.code());
        InitProducerIdResponseData init = call(new InitProducerIdHandler(broker), 5,
                new InitProducerIdRequestData().setTransactionalId(null));
        assertThat(init.errorCode()).isEqualTo(Errors.CLUSTER_AUTHORIZATION_FAILED.code());
        allow(ResourceType.TOPIC, "x", PatternType.PREFIXED, AclOperation.WRITE);
        assertThat(((InitProducerIdResponseData) call(new InitProducerIdHandler(broker), 5,
                new InitProducerIdRequestData().setTransactionalId(null))).errorCode())
                .as("WRITE on some topic is enough, as in Kafka 4").isEqualTo(Errors.NONE.code());
    }

    @Test
    void aclApisNeedAlterOrDescribeOnTheClusterAndAnAuthorizer() {
        CreateAclsRequestData create = new CreateAclsRequestData().setCreations(List.of(
                new CreateAclsRequestData.AclCreation().setResourceType(ResourceType.TOPIC.code())
                        .setResourceName("t").setResourcePatternType(PatternType.LITERAL.code())
                        .setPrincipal("User:alice").setHost("*").setOperation(AclOperation.READ.code())
                        .setPermissionType(AclPermissionType.ALLOW.code())));
        assertThat(((CreateAclsResponseData) call(new CreateAclsHandler(broker), 3, create)).results().get(0)
                .errorCode()).isEqualTo(Errors.CLUSTER_AUTHORIZATION_FAILED.code());
        assertThat(((DescribeAclsResponseData) call(new DescribeAclsHandler(broker), 3, new DescribeAclsRequestData()
                .setResourceTypeFilter(ResourceType.ANY.code()).setPatternTypeFilter(PatternType.ANY.code())
                .setOperation(AclOperation.ANY.code()).setPermissionType(AclPermissionType.ANY.code())))
                .errorCode()).isEqualTo(Errors.CLUSTER_AUTHORIZATION_FAILED.code());

        FakeBrokerServices off = new FakeBrokerServices();
        assertThat(((CreateAclsResponseData) call(new CreateAclsHandler(off), 3, create)).results().get(0)
                .errorCode()).isEqualTo(Errors.SECURITY_DISABLED.code());

        allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, AclOperation.ALTER);
        CreateAclsRequestData invalid = new CreateAclsRequestData().setCreations(List.of(
                new CreateAclsRequestData.AclCreation().setResourceType(ResourceType.TOPIC.code())
                        .setResourceName("t").setResourcePatternType(PatternType.MATCH.code())
                        .setPrincipal("User:alice").setHost("*").setOperation(AclOperation.READ.code())
                        .setPermissionType(AclPermissionType.ALLOW.code()),
                new CreateAclsRequestData.AclCreation().setResourceType(ResourceType.TOPIC.code())
                        .setResourceName("t").setResourcePatternType(PatternType.LITERAL.code())
                        .setPrincipal("alice").setHost("*").setOperation(AclOperation.READ.code())
                        .setPermissionType(AclPermissionType.ALLOW.code()),
                new CreateAclsRequestData.AclCreation().setResourceType(ResourceType.CLUSTER.code())
                        .setResourceName("other").setResourcePatternType(PatternType.LITERAL.code())
                        .setPrincipal("User:alice").setHost("*").setOperation(AclOperation.ALTER.code())
                        .setPermissionType(AclPermissionType.ALLOW.code())));
        assertThat(((CreateAclsResponseData) call(new CreateAclsHandler(broker), 3, invalid)).results())
                .allSatisfy(r -> assertThat(r.errorCode()).isEqualTo(Errors.INVALID_REQUEST.code()));
    }

    @Test
    void groupApisNeedReadOnTheGroupAndCommitsReadOnTheTopic() {
        JoinGroupResponseData join = call(new JoinGroupHandler(new io.fluxmq.kafka.group.GroupOperations(groups)), 9,
                new JoinGroupRequestData().setGroupId("g").setMemberId("").setProtocolType("consumer")
                        .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000));
        assertThat(join.errorCode()).isEqualTo(Errors.GROUP_AUTHORIZATION_FAILED.code());
        HeartbeatResponseData beat = call(new HeartbeatHandler(new io.fluxmq.kafka.group.GroupOperations(groups)), 4,
                new HeartbeatRequestData().setGroupId("g").setMemberId("m").setGenerationId(1));
        assertThat(beat.errorCode()).isEqualTo(Errors.GROUP_AUTHORIZATION_FAILED.code());

        OffsetCommitRequestData commit = new OffsetCommitRequestData().setGroupId("g").setGenerationIdOrMemberEpoch(-1)
                .setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC)
                        .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                .setPartitionIndex(0).setCommittedOffset(5)))));
        OffsetCommitHandler commits = new OffsetCommitHandler(new io.fluxmq.kafka.group.OffsetOperations(groups));
        assertThat(((OffsetCommitResponseData) call(commits, 9, commit)).topics().get(0).partitions().get(0)
                .errorCode()).isEqualTo(Errors.GROUP_AUTHORIZATION_FAILED.code());
        allow(ResourceType.GROUP, "g", PatternType.LITERAL, AclOperation.READ);
        assertThat(((OffsetCommitResponseData) call(commits, 9, commit)).topics().get(0).partitions().get(0)
                .errorCode()).isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code());
    }

    @Test
    void consumerGroupDescribeHidesAGroupWhoseAssignmentsNameATopicTheClientMayNotDescribe() {
        ConsumerGroupDescribeResponseData.DescribedGroup group = new ConsumerGroupDescribeResponseData.DescribedGroup()
                .setGroupId("g").setGroupState("Stable").setMembers(List.of(
                        new ConsumerGroupDescribeResponseData.Member().setMemberId("m")
                                .setAssignment(new ConsumerGroupDescribeResponseData.Assignment().setTopicPartitions(
                                        List.of(new ConsumerGroupDescribeResponseData.TopicPartitions()
                                                .setTopicName(TOPIC).setPartitions(List.of(0)))))
                                .setTargetAssignment(new ConsumerGroupDescribeResponseData.Assignment()
                                        .setTopicPartitions(List.of(new ConsumerGroupDescribeResponseData
                                                .TopicPartitions().setTopicName("secret").setPartitions(List.of(1)))))));
        ConsumerGroupDescribeResponseData.DescribedGroup hidden = ConsumerGroupDescribeHandler
                .hidingUndescribableTopics(group, TOPIC::equals);
        assertThat(hidden.errorCode()).as("the target assignment names secret")
                .isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code());
        assertThat(hidden.errorMessage())
                .isEqualTo("The group has described topic(s) that the client is not authorized to describe.");
        assertThat(hidden.members()).isEmpty();
        assertThat(hidden.groupId()).isEqualTo("g");
        assertThat(ConsumerGroupDescribeHandler.hidingUndescribableTopics(group, t -> true)).isSameAs(group);
    }
}
