package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnCoordinator;
import io.fluxmq.kafka.txn.TxnMetadata;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TopicData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TransactionState;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * DescribeTransactions v0 (Kafka's {@code handleDescribeTransactionsRequest}): for each transactional id this node
 * coordinates, its committed state from the {@link TxnCoordinator} (producer id and epoch, Kafka's state name, timeout,
 * start time of the current or last transaction, its partitions). Per id: TRANSACTIONAL_ID_AUTHORIZATION_FAILED
 * without DESCRIBE on it, NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE when it is not
 * served here, TRANSACTIONAL_ID_NOT_FOUND when unknown, INVALID_REQUEST when empty. Partitions of topics the caller
 * may not DESCRIBE are left out. Unlike Kafka, a transaction preparing its commit or abort lists all its partitions
 * until every marker is written, not only those still waiting for one.
 */
public final class DescribeTransactionsHandler implements ApiHandler<DescribeTransactionsRequestData> {
    private final BrokerServices broker;
    private final TxnCoordinator coordinator;

    public DescribeTransactionsHandler(BrokerServices broker, TxnCoordinator coordinator) {
        this.broker = broker;
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_TRANSACTIONS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeTransactionsRequestData request) {
        Authorization auth = broker.authorization();
        DescribeTransactionsResponseData response = new DescribeTransactionsResponseData();
        for (String id : request.transactionalIds()) {
            TransactionState state = new TransactionState().setTransactionalId(id);
            response.transactionStates().add(state);
            if (auth.denies(context, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, id)) {
                state.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
                continue;
            }
            TxnCoordinator.Description description = coordinator.describe(id);
            if (description.error() != Errors.NONE) {
                state.setErrorCode(description.error().code());
                continue;
            }
            TxnMetadata m = description.metadata();
            state.setProducerId(m.producerId()).setProducerEpoch(m.epoch())
                    .setTransactionState(m.state().kafkaName()).setTransactionTimeoutMs(m.timeoutMs())
                    .setTransactionStartTimeMs(m.txnStartMs());
            m.partitions().stream()
                    .sorted(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition))
                    .filter(tp -> !auth.denies(context, AclOperation.DESCRIBE, ResourceType.TOPIC, tp.topic()))
                    .forEach(tp -> {
                        TopicData topic = state.topics().find(tp.topic());
                        if (topic == null) {
                            topic = new TopicData().setTopic(tp.topic());
                            state.topics().add(topic);
                        }
                        topic.partitions().add(tp.partition());
                    });
        }
        return CompletableFuture.completedFuture(response);
    }
}
