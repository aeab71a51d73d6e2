package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.auth.AclAuthorizer;
import io.fluxmq.kafka.auth.AuthorizerConfig;
import io.fluxmq.kafka.group.GroupConfig;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.server.FakeBrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnConfig;
import io.fluxmq.kafka.txn.TxnCoordinator;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

/**
 * The transaction APIs check what Kafka 4.1's {@code KafkaApis} checks, with its error codes, against
 * {@link FakeBrokerServices} (topic "orders" with 3 partitions; neither {@code __transaction_state} nor
 * {@code __consumer_offsets} exists, so a request past the checks ends at COORDINATOR_NOT_AVAILABLE). The principal is
 * User:ANONYMOUS; each test grants ACLs step by step and sees the next check answer.
 */
class TxnAuthorizationTest {
    private static final String TXN = "tx-1";
    private static final String GROUP = "g";
    private final AclAuthorizer acls = new AclAuthorizer(new AuthorizerConfig(true, Set.of(), false));
    private final List<AclBinding> granted = new ArrayList<>();
    private final FakeBrokerServices broker = new FakeBrokerServices(acls);
    private final TxnCoordinator transactions = new TxnCoordinator(broker, TxnConfig.defaults(), () -> 1_000L,
            tp -> Runnable::run, (tp, pid, epoch, commit, coordinatorEpoch) ->
            CompletableFuture.completedFuture(Errors.NONE));
    private final GroupCoordinator groups = new GroupCoordinator(broker, GroupConfig.defaults(), () -> 1_000L,
            tp -> Runnable::run);

    private void allow(ResourceType type, String name, AclOperation operation) {
        granted.add(new AclBinding(new ResourcePattern(type, name, PatternType.LITERAL),
                new AccessControlEntry("User:ANONYMOUS", "*", operation, AclPermissionType.ALLOW)));
        acls.update(List.copyOf(granted));
    }

    @SuppressWarnings("unchecked")
    private <R extends ApiMessage> R call(ApiHandler<?> handler, int version, ApiMessage request) {
        RequestContext context = new RequestContext(new RequestHeader(handler.apiKey(), (short) version, "test", 1),
                "EXTERNAL", new InetSocketAddress("127.0.0.1", 40000), KafkaPrincipal.ANONYMOUS);
        return (R) ((ApiHandler<ApiMessage>) handler).handle(context, request).join();
    }

    @Test
    void initProducerIdWithATransactionalIdNeedsWriteOnIt() {
        InitProducerIdHandler handler = new InitProducerIdHandler(broker, transactions);
        InitProducerIdRequestData request = new InitProducerIdRequestData().setTransactionalId(TXN)
                .setTransactionTimeoutMs(60_000);
        allow(ResourceType.CLUSTER, "kafka-cluster", AclOperation.IDEMPOTENT_WRITE);
        assertThat(((InitProducerIdResponseData) call(handler, 5, request)).errorCode())
                .as("IDEMPOTENT_WRITE on the cluster does not stand in for the transactional id")
                .isEqualTo(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
        allow(ResourceType.TRANSACTIONAL_ID, TXN, AclOperation.WRITE);
        assertThat(((InitProducerIdResponseData) call(handler, 5, request)).errorCode())
                .isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE.code());
    }

    /** AddPartitionsToTxn v3's error per partition, as "topic-partition". */
    private Map<String, Errors> added(AddPartitionsToTxnRequestData request) {
        AddPartitionsToTxnResponseData response = call(new AddPartitionsToTxnHandler(broker, transactions), 3,
                request);
        Map<String, Errors> out = new TreeMap<>();
        response.resultsByTopicV3AndBelow().forEach(topic -> topic.resultsByPartition().forEach(p -> out.put(
                topic.name() + "-" + p.partitionIndex(), Errors.forCode(p.partitionErrorCode()))));
        return out;
    }

    @Test
    void addPartitionsToTxnNeedsWriteOnTheTransactionalIdThenOnEachTopic() {
        AddPartitionsToTxnTopicCollection topics = new AddPartitionsToTxnTopicCollection();
        topics.add(new AddPartitionsToTxnTopic().setName("orders").setPartitions(List.of(0, 1)));
        topics.add(new AddPartitionsToTxnTopic().setName("secret").setPartitions(List.of(0)));
        AddPartitionsToTxnRequestData request = new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId(TXN)
                .setV3AndBelowProducerId(7).setV3AndBelowProducerEpoch((short) 0).setV3AndBelowTopics(topics);

        allow(ResourceType.TOPIC, "orders", AclOperation.WRITE);
        assertThat(added(request)).containsOnly(
                Map.entry("orders-0", Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
                Map.entry("orders-1", Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
                Map.entry("secret-0", Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));

        allow(ResourceType.TRANSACTIONAL_ID, TXN, AclOperation.WRITE);
        assertThat(added(request)).as("nothing is added when one topic is refused").containsOnly(
                Map.entry("orders-0", Errors.OPERATION_NOT_ATTEMPTED),
                Map.entry("orders-1", Errors.OPERATION_NOT_ATTEMPTED),
                Map.entry("secret-0", Errors.TOPIC_AUTHORIZATION_FAILED));

        allow(ResourceType.TOPIC, "secret", AclOperation.WRITE);
        assertThat(added(request)).as("authorized, but secret does not exist").containsOnly(
                Map.entry("orders-0", Errors.OPERATION_NOT_ATTEMPTED),
                Map.entry("orders-1", Errors.OPERATION_NOT_ATTEMPTED),
                Map.entry("secret-0", Errors.UNKNOWN_TOPIC_OR_PARTITION));

        topics.remove(topics.find("secret"));
        assertThat(added(request)).as("past the checks: no __transaction_state here")
                .containsOnly(Map.entry("orders-0", Errors.COORDINATOR_NOT_AVAILABLE),
                        Map.entry("orders-1", Errors.COORDINATOR_NOT_AVAILABLE));
    }

    @Test
    void aClientMayNotAddAnInternalTopicToItsTransaction() {
        allow(ResourceType.TRANSACTIONAL_ID, TXN, AclOperation.WRITE);
        allow(ResourceType.TOPIC, "*", AclOperation.WRITE);
        AddPartitionsToTxnTopicCollection topics = new AddPartitionsToTxnTopicCollection();
        topics.add(new AddPartitionsToTxnTopic().setName(GroupCoordinator.OFFSETS_TOPIC).setPartitions(List.of(0)));
        assertThat(added(new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId(TXN)
                .setV3AndBelowProducerId(7).setV3AndBelowProducerEpoch((short) 0).setV3AndBelowTopics(topics)))
                .as("refused even with WRITE on every topic, as Kafka")
                .containsOnly(Map.entry(GroupCoordinator.OFFSETS_TOPIC + "-0", Errors.TOPIC_AUTHORIZATION_FAILED));
    }

    @Test
    void addOffsetsToTxnNeedsWriteOnTheTransactionalIdThenReadOnTheGroup() {
        AddOffsetsToTxnHandler handler = new AddOffsetsToTxnHandler(broker, transactions);
        AddOffsetsToTxnRequestData request = new AddOffsetsToTxnRequestData().setTransactionalId(TXN)
                .setProducerId(7).setProducerEpoch((short) 0).setGroupId(GROUP);
        allow(ResourceType.GROUP, GROUP, AclOperation.READ);
        assertThat(((AddOffsetsToTxnResponseData) call(handler, 3, request)).errorCode())
                .isEqualTo(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
        granted.clear();
        allow(ResourceType.TRANSACTIONAL_ID, TXN, AclOperation.WRITE);
        assertThat(((AddOffsetsToTxnResponseData) call(handler, 3, request)).errorCode())
                .isEqualTo(Errors.GROUP_AUTHORIZATION_FAILED.code());
        allow(ResourceType.GROUP, GROUP, AclOperation.READ);
        assertThat(((AddOffsetsToTxnResponseData) call(handler, 3, request)).errorCode())
                .isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE.code());
    }

    @Test
    void endTxnNeedsWriteOnTheTransactionalId() {
        EndTxnHandler handler = new EndTxnHandler(broker, transactions);
        EndTxnRequestData request = new EndTxnRequestData().setTransactionalId(TXN).setProducerId(7)
                .setProducerEpoch((short) 0).setCommitted(true);
        allow(ResourceType.TRANSACTIONAL_ID, "tx-other", AclOperation.WRITE);
        allow(ResourceType.TRANSACTIONAL_ID, TXN, AclOperation.DESCRIBE);
        assertThat(((EndTxnResponseData) call(handler, 4, request)).errorCode())
                .isEqualTo(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
        allow(ResourceType.TRANSACTIONAL_ID, TXN, AclOperation.WRITE);
        assertThat(((EndTxnResponseData) call(handler, 4, request)).errorCode())
                .isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE.code());
    }

    /** TxnOffsetCommit v3's error per partition, as "topic-partition". */
    private Map<String, Errors> committed(TxnOffsetCommitRequestData request) {
        TxnOffsetCommitResponseData response = call(new TxnOffsetCommitHandler(groups), 3, request);
        Map<String, Errors> out = new TreeMap<>();
        response.topics().forEach(topic -> topic.partitions().forEach(p -> out.put(
                topic.name() + "-" + p.partitionIndex(), Errors.forCode(p.errorCode()))));
        return out;
    }

    @Test
    void txnOffsetCommitNeedsWriteOnTheTransactionalIdReadOnTheGroupAndReadOnEachTopic() {
        TxnOffsetCommitRequestData request = new TxnOffsetCommitRequestData().setTransactionalId(TXN)
                .setGroupId(GROUP).setProducerId(7).setProducerEpoch((short) 0).setTopics(List.of(
                        new TxnOffsetCommitRequestTopic().setName("orders").setPartitions(List.of(
                                new TxnOffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(5))),
                        new TxnOffsetCommitRequestTopic().setName("secret").setPartitions(List.of(
                                new TxnOffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(5)))));

        allow(ResourceType.GROUP, GROUP, AclOperation.READ);
        allow(ResourceType.TOPIC, "orders", AclOperation.READ);
        assertThat(committed(request)).containsOnly(
                Map.entry("orders-0", Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
                Map.entry("secret-0", Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));

        granted.clear();
        allow(ResourceType.TRANSACTIONAL_ID, TXN, AclOperation.WRITE);
        assertThat(committed(request)).containsOnly(
                Map.entry("orders-0", Errors.GROUP_AUTHORIZATION_FAILED),
                Map.entry("secret-0", Errors.GROUP_AUTHORIZATION_FAILED));

        allow(ResourceType.GROUP, GROUP, AclOperation.READ);
        assertThat(committed(request)).containsOnly(
                Map.entry("orders-0", Errors.TOPIC_AUTHORIZATION_FAILED),
                Map.entry("secret-0", Errors.TOPIC_AUTHORIZATION_FAILED));

        allow(ResourceType.TOPIC, "orders", AclOperation.READ);
        assertThat(committed(request)).as("orders goes on to the group coordinator").containsOnly(
                Map.entry("orders-0", Errors.COORDINATOR_NOT_AVAILABLE),
                Map.entry("secret-0", Errors.TOPIC_AUTHORIZATION_FAILED));
    }
}
