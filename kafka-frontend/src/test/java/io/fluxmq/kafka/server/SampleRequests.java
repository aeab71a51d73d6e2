package io.fluxmq.kafka.server;

import static io.fluxmq.kafka.server.FakeBrokerServices.TOPIC;
import static io.fluxmq.kafka.server.FakeBrokerServices.TOPIC_ID;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableReplicaAssignment;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicConfig;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderPartition;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData;
import org.apache.kafka.common.message.ProduceRequestData.TopicProduceData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;

/**
 * One representative request body per API and version, as a Kafka client would fill it: non-default values in every
 * field the version has (and only there, since kafka-clients refuses to write a non-default value a version lacks),
 * naming {@link FakeBrokerServices#TOPIC} and an unknown topic.
 */
final class SampleRequests {
    static final String UNKNOWN = "no-such-topic";
    static final String GROUP = "group-1";

    private SampleRequests() {
    }

    static ApiMessage of(ApiKeys key, short v) {
        return switch (key) {
            case API_VERSIONS -> v >= 3 ? new ApiVersionsRequestData().setClientSoftwareName("apache-kafka-java")
                    .setClientSoftwareVersion("4.1.1") : new ApiVersionsRequestData();
            case METADATA -> metadata(v);
            case PRODUCE -> produce((short) -1);
            case FETCH -> fetch(v);
            case LIST_OFFSETS -> listOffsets(v);
            case OFFSET_FOR_LEADER_EPOCH -> new OffsetForLeaderEpochRequestData().setReplicaId(v >= 3 ? -1 : -2)
                    .setTopics(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection(List.of(
                            new OffsetForLeaderTopic().setTopic(TOPIC).setPartitions(List.of(
                                    new OffsetForLeaderPartition().setPartition(1).setCurrentLeaderEpoch(5)
                                            .setLeaderEpoch(4))),
                            new OffsetForLeaderTopic().setTopic(UNKNOWN).setPartitions(List.of(
                                    new OffsetForLeaderPartition().setPartition(0).setLeaderEpoch(0))))
                            .iterator()));
            case CREATE_TOPICS -> createTopics(v);
            case DELETE_TOPICS -> v >= 6 ? new DeleteTopicsRequestData().setTimeoutMs(15_000).setTopics(List.of(
                    new DeleteTopicsRequestData.DeleteTopicState().setName(TOPIC),
                    new DeleteTopicsRequestData.DeleteTopicState().setTopicId(Uuid.fromString("AAAAAAAAAAAAAAAAAAAAEg")),
                    new DeleteTopicsRequestData.DeleteTopicState().setName(UNKNOWN)))
                    : new DeleteTopicsRequestData().setTimeoutMs(15_000).setTopicNames(List.of(TOPIC, UNKNOWN));
            case CREATE_PARTITIONS -> new CreatePartitionsRequestData().setTimeoutMs(15_000).setValidateOnly(true)
                    .setTopics(new CreatePartitionsRequestData.CreatePartitionsTopicCollection(List.of(
                            new CreatePartitionsTopic().setName(TOPIC).setCount(6).setAssignments(null),
                            new CreatePartitionsTopic().setName(UNKNOWN).setCount(2).setAssignments(null),
                            new CreatePartitionsTopic().setName("manual").setCount(2).setAssignments(List.of(
                                    new CreatePartitionsRequestData.CreatePartitionsAssignment()
                                            .setBrokerIds(List.of(1))))).iterator()));
            case INIT_PRODUCER_ID -> v >= 3
                    ? new InitProducerIdRequestData().setTransactionTimeoutMs(60_000).setProducerId(4000)
                            .setProducerEpoch((short) 2)
                    : new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000);
            case DESCRIBE_CLUSTER -> new DescribeClusterRequestData().setIncludeClusterAuthorizedOperations(true)
                    .setIncludeFencedBrokers(v >= 2);
            case DESCRIBE_CONFIGS -> new DescribeConfigsRequestData().setIncludeSynonyms(true)
                    .setIncludeDocumentation(v >= 3).setResources(List.of(
                            new DescribeConfigsResource().setResourceType((byte) 2).setResourceName(TOPIC)
                                    .setConfigurationKeys(null),
                            new DescribeConfigsResource().setResourceType((byte) 4).setResourceName("1")
                                    .setConfigurationKeys(List.of("num.partitions")),
                            new DescribeConfigsResource().setResourceType((byte) 2).setResourceName(UNKNOWN)));
            case ALTER_CONFIGS -> new AlterConfigsRequestData().setValidateOnly(true).setResources(
                    new AlterConfigsRequestData.AlterConfigsResourceCollection(List.of(
                            new AlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                                    .setResourceName(TOPIC).setConfigs(
                                            new AlterConfigsRequestData.AlterableConfigCollection(List.of(
                                                    new AlterConfigsRequestData.AlterableConfig()
                                                            .setName("retention.ms").setValue("1000")).iterator())),
                            new AlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                                    .setResourceName(UNKNOWN)).iterator()));
            case INCREMENTAL_ALTER_CONFIGS -> new IncrementalAlterConfigsRequestData().setResources(
                    new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection(List.of(
                            new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                                    .setResourceName(TOPIC).setConfigs(
                                            new IncrementalAlterConfigsRequestData.AlterableConfigCollection(List.of(
                                                    new IncrementalAlterConfigsRequestData.AlterableConfig()
                                                            .setName("retention.ms").setConfigOperation((byte) 0)
                                                            .setValue("1000"),
                                                    new IncrementalAlterConfigsRequestData.AlterableConfig()
                                                            .setName("bogus").setConfigOperation((byte) 1)
                                                            .setValue(null)).iterator())),
                            new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 4)
                                    .setResourceName("1")).iterator()));
            case DELETE_RECORDS -> new DeleteRecordsRequestData().setTimeoutMs(15_000).setTopics(List.of(
                    new DeleteRecordsRequestData.DeleteRecordsTopic().setName(TOPIC).setPartitions(List.of(
                            new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0).setOffset(-1),
                            new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(7)
                                    .setOffset(10))),
                    new DeleteRecordsRequestData.DeleteRecordsTopic().setName(UNKNOWN).setPartitions(List.of(
                            new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0)
                                    .setOffset(3)))));
            case ELECT_LEADERS -> {
                ElectLeadersRequestData.TopicPartitionsCollection topics =
                        new ElectLeadersRequestData.TopicPartitionsCollection();
                topics.add(new ElectLeadersRequestData.TopicPartitions().setTopic(TOPIC).setPartitions(List.of(0, 7)));
                topics.add(new ElectLeadersRequestData.TopicPartitions().setTopic(UNKNOWN).setPartitions(List.of(0)));
                yield new ElectLeadersRequestData().setElectionType((byte) 0).setTopicPartitions(topics)
                        .setTimeoutMs(15_000);
            }
            case DESCRIBE_LOG_DIRS -> new DescribeLogDirsRequestData().setTopics(null);
            case ALTER_PARTITION_REASSIGNMENTS -> new AlterPartitionReassignmentsRequestData().setTimeoutMs(15_000)
                    .setAllowReplicationFactorChange(v < 1).setTopics(List.of(
                            new AlterPartitionReassignmentsRequestData.ReassignableTopic().setName(TOPIC)
                                    .setPartitions(List.of(
                                            new AlterPartitionReassignmentsRequestData.ReassignablePartition()
                                                    .setPartitionIndex(0).setReplicas(List.of(1, 2, 3)),
                                            new AlterPartitionReassignmentsRequestData.ReassignablePartition()
                                                    .setPartitionIndex(1).setReplicas(null)))));
            case LIST_PARTITION_REASSIGNMENTS -> new ListPartitionReassignmentsRequestData().setTimeoutMs(15_000)
                    .setTopics(List.of(new ListPartitionReassignmentsRequestData.ListPartitionReassignmentsTopics()
                            .setName(TOPIC).setPartitionIndexes(List.of(0, 2))));
            case FIND_COORDINATOR -> v >= 4
                    ? new FindCoordinatorRequestData().setKeyType((byte) 0).setCoordinatorKeys(List.of(GROUP, "other"))
                    : new FindCoordinatorRequestData().setKey(GROUP).setKeyType((byte) 0);
            case JOIN_GROUP -> new JoinGroupRequestData().setGroupId(GROUP).setSessionTimeoutMs(10_000)
                    .setRebalanceTimeoutMs(v >= 1 ? 30_000 : -1).setMemberId("")
                    .setGroupInstanceId(v >= 5 ? "instance-1" : null).setProtocolType("consumer")
                    .setReason(v >= 8 ? "first join" : null)
                    .setProtocols(new JoinGroupRequestData.JoinGroupRequestProtocolCollection(List.of(
                            new JoinGroupRequestData.JoinGroupRequestProtocol().setName("cooperative-sticky")
                                    .setMetadata(bytes("subscription")),
                            new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                                    .setMetadata(bytes("range-subscription"))).iterator()));
            case SYNC_GROUP -> new SyncGroupRequestData().setGroupId(GROUP).setGenerationId(3).setMemberId("m-1")
                    .setGroupInstanceId(v >= 3 ? "instance-1" : null)
                    .setProtocolType(v >= 5 ? "consumer" : null).setProtocolName(v >= 5 ? "range" : null)
                    .setAssignments(List.of(new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId("m-1")
                            .setAssignment(bytes("assignment"))));
            case HEARTBEAT -> new HeartbeatRequestData().setGroupId(GROUP).setGenerationId(3).setMemberId("m-1")
                    .setGroupInstanceId(v >= 3 ? "instance-1" : null);
            case LEAVE_GROUP -> v >= 3
                    ? new LeaveGroupRequestData().setGroupId(GROUP).setMembers(List.of(
                            new LeaveGroupRequestData.MemberIdentity().setMemberId("m-1")
                                    .setReason(v >= 5 ? "shutting down" : null),
                            new LeaveGroupRequestData.MemberIdentity().setMemberId("")
                                    .setGroupInstanceId("instance-1")))
                    : new LeaveGroupRequestData().setGroupId(GROUP).setMemberId("m-1");
            case OFFSET_COMMIT -> new OffsetCommitRequestData().setGroupId(GROUP).setGenerationIdOrMemberEpoch(3)
                    .setMemberId("m-1").setGroupInstanceId(v >= 7 ? "instance-1" : null)
                    .setRetentionTimeMs(v <= 4 ? 60_000 : -1).setTopics(List.of(
                            new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC).setPartitions(List.of(
                                    new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                            .setCommittedOffset(42).setCommittedLeaderEpoch(v >= 6 ? 5 : -1)
                                            .setCommittedMetadata("meta"),
                                    new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(2)
                                            .setCommittedOffset(7).setCommittedMetadata(null))),
                            new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(UNKNOWN).setPartitions(
                                    List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                            .setPartitionIndex(0).setCommittedOffset(1)))));
            case OFFSET_FETCH -> offsetFetch(v);
            case LIST_GROUPS -> new ListGroupsRequestData().setStatesFilter(v >= 4 ? List.of("Stable") : List.of())
                    .setTypesFilter(v >= 5 ? List.of("classic") : List.of());
            case DESCRIBE_GROUPS -> new DescribeGroupsRequestData().setGroups(List.of(GROUP, "other"))
                    .setIncludeAuthorizedOperations(v >= 3);
            case DELETE_GROUPS -> new DeleteGroupsRequestData().setGroupsNames(List.of(GROUP, "other"));
            case OFFSET_DELETE -> new OffsetDeleteRequestData().setGroupId(GROUP).setTopics(
                    new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection(List.of(
                            new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName(TOPIC).setPartitions(List.of(
                                    new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0),
                                    new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(1))))
                            .iterator()));
            case CONSUMER_GROUP_HEARTBEAT -> new ConsumerGroupHeartbeatRequestData().setGroupId(GROUP)
                    .setMemberId(v >= 1 ? "d4bW3x5sQ1yLjP0ZtdnS0A" : "").setMemberEpoch(0).setRackId("rack-a")
                    .setRebalanceTimeoutMs(300_000).setSubscribedTopicNames(List.of(TOPIC))
                    .setSubscribedTopicRegex(null).setServerAssignor("uniform").setTopicPartitions(List.of());
            case ADD_PARTITIONS_TO_TXN -> new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId("tx")
                    .setV3AndBelowProducerId(4000).setV3AndBelowProducerEpoch((short) 2)
                    .setV3AndBelowTopics(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection(List.of(
                            new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName(TOPIC)
                                    .setPartitions(List.of(0, 1))).iterator()));
            case ADD_OFFSETS_TO_TXN -> new AddOffsetsToTxnRequestData().setTransactionalId("tx").setProducerId(4000)
                    .setProducerEpoch((short) 2).setGroupId(GROUP);
            case END_TXN -> new EndTxnRequestData().setTransactionalId("tx").setProducerId(4000)
                    .setProducerEpoch((short) 2).setCommitted(true);
            case TXN_OFFSET_COMMIT -> new TxnOffsetCommitRequestData().setTransactionalId("tx").setGroupId(GROUP)
                    .setProducerId(4000).setProducerEpoch((short) 2).setGenerationId(v >= 3 ? 3 : -1)
                    .setMemberId(v >= 3 ? "m-1" : "").setGroupInstanceId(null)
                    .setTopics(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(TOPIC)
                            .setPartitions(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                                    .setPartitionIndex(0).setCommittedOffset(42)
                                    .setCommittedLeaderEpoch(v >= 2 ? 5 : -1).setCommittedMetadata("m")))));
            case CONSUMER_GROUP_DESCRIBE -> new ConsumerGroupDescribeRequestData().setGroupIds(List.of(GROUP, "other"))
                    .setIncludeAuthorizedOperations(true);
            case SASL_HANDSHAKE -> new SaslHandshakeRequestData().setMechanism("SCRAM-SHA-512");
            case SASL_AUTHENTICATE -> new SaslAuthenticateRequestData().setAuthBytes(new byte[] {1, 2, 3});
            case CREATE_ACLS -> new CreateAclsRequestData().setCreations(List.of(new CreateAclsRequestData.AclCreation()
                    .setResourceType(ResourceType.TOPIC.code()).setResourceName("orders")
                    .setResourcePatternType(PatternType.PREFIXED.code()).setPrincipal("User:alice").setHost("*")
                    .setOperation(AclOperation.WRITE.code()).setPermissionType(AclPermissionType.ALLOW.code())));
            case DESCRIBE_ACLS -> new DescribeAclsRequestData().setResourceTypeFilter(ResourceType.TOPIC.code())
                    .setResourceNameFilter("orders").setPatternTypeFilter(PatternType.MATCH.code())
                    .setPrincipalFilter("User:alice").setHostFilter(null).setOperation(AclOperation.ANY.code())
                    .setPermissionType(AclPermissionType.ANY.code());
            case DELETE_ACLS -> new DeleteAclsRequestData().setFilters(List.of(new DeleteAclsRequestData.DeleteAclsFilter()
                    .setResourceTypeFilter(ResourceType.ANY.code()).setResourceNameFilter(null)
                    .setPatternTypeFilter(PatternType.ANY.code()).setPrincipalFilter("User:alice").setHostFilter("*")
                    .setOperation(AclOperation.ANY.code()).setPermissionType(AclPermissionType.ANY.code())));
            case ALTER_USER_SCRAM_CREDENTIALS -> new AlterUserScramCredentialsRequestData()
                    .setDeletions(List.of(new AlterUserScramCredentialsRequestData.ScramCredentialDeletion()
                            .setName("bob").setMechanism((byte) 1)))
                    .setUpsertions(List.of(new AlterUserScramCredentialsRequestData.ScramCredentialUpsertion()
                            .setName("alice").setMechanism((byte) 2).setIterations(8192).setSalt(new byte[] {1, 2})
                            .setSaltedPassword(new byte[] {3, 4, 5})));
            case DESCRIBE_USER_SCRAM_CREDENTIALS -> new DescribeUserScramCredentialsRequestData().setUsers(List.of(
                    new DescribeUserScramCredentialsRequestData.UserName().setName("alice")));
            case DESCRIBE_CLIENT_QUOTAS -> new DescribeClientQuotasRequestData().setStrict(false).setComponents(List.of(
                    new DescribeClientQuotasRequestData.ComponentData().setEntityType("user").setMatchType((byte) 0)
                            .setMatch("alice")));
            case DESCRIBE_PRODUCERS -> new DescribeProducersRequestData().setTopics(List.of(
                    new DescribeProducersRequestData.TopicRequest().setName(TOPIC).setPartitionIndexes(List.of(0, 1))));
            case DESCRIBE_TRANSACTIONS -> new DescribeTransactionsRequestData()
                    .setTransactionalIds(List.of("tx", "other"));
            case LIST_TRANSACTIONS -> new ListTransactionsRequestData().setStateFilters(List.of("Ongoing"))
                    .setProducerIdFilters(List.of(4000L)).setDurationFilter(v >= 1 ? 60_000 : -1)
                    .setTransactionalIdPattern(v >= 2 ? "tx.*" : null);
            case ALTER_CLIENT_QUOTAS -> new AlterClientQuotasRequestData().setValidateOnly(true).setEntries(List.of(
                    new AlterClientQuotasRequestData.EntryData().setEntity(List.of(
                            new AlterClientQuotasRequestData.EntityData().setEntityType("client-id")
                                    .setEntityName(null))).setOps(List.of(new AlterClientQuotasRequestData.OpData()
                            .setKey("producer_byte_rate").setValue(1024)))));
            default -> throw new IllegalArgumentException("no sample request for " + key);
        };
    }

    private static OffsetFetchRequestData offsetFetch(short v) {
        if (v < 8) {
            return new OffsetFetchRequestData().setGroupId(GROUP).setRequireStable(v >= 7).setTopics(List.of(
                    new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(TOPIC)
                            .setPartitionIndexes(List.of(0, 1))));
        }
        return new OffsetFetchRequestData().setRequireStable(true).setGroups(List.of(
                new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(GROUP)
                        .setMemberId(v >= 9 ? "m-1" : null).setMemberEpoch(v >= 9 ? 3 : -1)
                        .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName(TOPIC)
                                .setPartitionIndexes(List.of(0, 1)))),
                new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("other").setTopics(null)));
    }

    static MemoryRecords records() {
        return MemoryRecords.withRecords(Compression.NONE,
                new SimpleRecord(1_700_000_000_000L, bytes("k1"), bytes("v1")),
                new SimpleRecord(1_700_000_000_001L, null, bytes("v2")));
    }

    static ProduceRequestData produce(short acks) {
        return new ProduceRequestData().setAcks(acks).setTimeoutMs(30_000).setTransactionalId(null)
                .setTopicData(new ProduceRequestData.TopicProduceDataCollection(List.of(
                        new TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                                new PartitionProduceData().setIndex(0).setRecords(records()),
                                new PartitionProduceData().setIndex(2).setRecords(records()),
                                new PartitionProduceData().setIndex(7).setRecords(records()))),
                        new TopicProduceData().setName(UNKNOWN).setPartitionData(List.of(
                                new PartitionProduceData().setIndex(0).setRecords(records())))).iterator()));
    }

    private static MetadataRequestData metadata(short v) {
        List<MetadataRequestTopic> topics = new ArrayList<>(List.of(new MetadataRequestTopic().setName(TOPIC),
                new MetadataRequestTopic().setName(UNKNOWN), new MetadataRequestTopic().setName("bad/name")));
        if (v >= 10) {
            topics.add(new MetadataRequestTopic().setName(null).setTopicId(TOPIC_ID));
        }
        return new MetadataRequestData().setTopics(topics).setAllowAutoTopicCreation(v < 4)
                .setIncludeClusterAuthorizedOperations(v >= 8 && v <= 10).setIncludeTopicAuthorizedOperations(v >= 8);
    }

    private static FetchRequestData fetch(short v) {
        FetchRequestData.FetchTopic known = new FetchRequestData.FetchTopic();
        FetchRequestData.FetchTopic unknown = new FetchRequestData.FetchTopic();
        if (v >= 13) {
            known.setTopicId(TOPIC_ID);
            unknown.setTopicId(Uuid.fromString("AAAAAAAAAAAAAAAAAAAAEg"));
        } else {
            known.setTopic(TOPIC);
            unknown.setTopic(UNKNOWN);
        }
        known.setPartitions(List.of(fetchPartition(v, 0), fetchPartition(v, 1), fetchPartition(v, 9)));
        unknown.setPartitions(List.of(fetchPartition(v, 0)));
        FetchRequestData data = new FetchRequestData().setMaxWaitMs(500).setMinBytes(1).setMaxBytes(52_428_800)
                .setIsolationLevel((byte) 1).setTopics(List.of(known, unknown));
        if (v >= 7) {
            data.setSessionId(0).setSessionEpoch(0);
        }
        if (v >= 11) {
            data.setRackId("rack-a");
        }
        return data;
    }

    private static FetchRequestData.FetchPartition fetchPartition(short v, int partition) {
        return new FetchRequestData.FetchPartition().setPartition(partition).setFetchOffset(10 + partition)
                .setPartitionMaxBytes(1_048_576).setCurrentLeaderEpoch(v >= 9 ? 5 : -1)
                .setLastFetchedEpoch(v >= 12 ? 4 : -1).setLogStartOffset(v >= 5 ? 3 : -1);
    }

    private static ListOffsetsRequestData listOffsets(short v) {
        ListOffsetsTopic known = new ListOffsetsTopic().setName(TOPIC).setPartitions(List.of(
                new ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1)
                        .setCurrentLeaderEpoch(v >= 4 ? 5 : -1),
                new ListOffsetsPartition().setPartitionIndex(1).setTimestamp(1_700_000_000_000L),
                new ListOffsetsPartition().setPartitionIndex(5).setTimestamp(-2)));
        ListOffsetsTopic unknown = new ListOffsetsTopic().setName(UNKNOWN).setPartitions(List.of(
                new ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-2)));
        return new ListOffsetsRequestData().setReplicaId(-1).setIsolationLevel((byte) (v >= 2 ? 1 : 0))
                .setTimeoutMs(v >= 10 ? 30_000 : 0).setTopics(List.of(known, unknown));
    }

    private static CreateTopicsRequestData createTopics(short v) {
        CreatableTopic fresh = new CreatableTopic().setName("payments").setNumPartitions(6)
                .setReplicationFactor((short) 1);
        fresh.configs().add(new CreatableTopicConfig().setName("retention.ms").setValue("1000"));
        CreatableTopic defaults = new CreatableTopic().setName("defaults").setNumPartitions(-1)
                .setReplicationFactor((short) -1);
        CreatableTopic existing = new CreatableTopic().setName(TOPIC).setNumPartitions(3)
                .setReplicationFactor((short) 1);
        CreatableTopic manual = new CreatableTopic().setName("manual").setNumPartitions(-1)
                .setReplicationFactor((short) -1);
        manual.assignments().add(new CreatableReplicaAssignment().setPartitionIndex(0).setBrokerIds(List.of(1)));
        return new CreateTopicsRequestData().setTimeoutMs(15_000).setValidateOnly(v % 2 == 1)
                .setTopics(new CreateTopicsRequestData.CreatableTopicCollection(
                        List.of(fresh, defaults, existing, manual).iterator()));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
