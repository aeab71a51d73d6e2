package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.StubBrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnConfig;
import io.fluxmq.kafka.txn.TxnCoordinator;
import io.fluxmq.kafka.txn.TxnShard;
import io.fluxmq.raft.partition.AppendResult;
import io.fluxmq.raft.partition.Partition;
import io.fluxmq.raft.partition.ProducerState;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeProducersResponseData.PartitionResponse;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TransactionState;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DescribeTransactions, ListTransactions and DescribeProducers against a started {@link TxnCoordinator} that leads the
 * one partition of {@code __transaction_state} (a stand-in partition that accepts every write) and a topic "orders"
 * whose partition 0 is led here and partition 1 is not. Three transactional ids: "a" with an open transaction on both
 * partitions (started at 1000), "b" committed (started at 2000), "c" only initialised.
 */
class TxnAdminHandlersTest {
    private static final TopicPartition STATE = new TopicPartition(TxnCoordinator.STATE_TOPIC, 0);
    private static final TopicPartition ORDERS_0 = new TopicPartition("orders", 0);
    private static final TopicPartition ORDERS_1 = new TopicPartition("orders", 1);
    private static final long NOW = 10_000;
    private static final List<ProducerState> PRODUCERS = List.of(
            new ProducerState(1000, (short) 0, 4, 1_700_000_000_000L, -1, 17),
            new ProducerState(1001, (short) 2, 9, 1_700_000_000_500L, -1, -1));

    private final Broker broker = new Broker(true);
    private final TxnCoordinator coordinator = new TxnCoordinator(broker, TxnConfig.defaults(), () -> NOW,
            tp -> Runnable::run, (tp, pid, epoch, commit, coordinatorEpoch) ->
            CompletableFuture.completedFuture(Errors.NONE));
    private long producerA;
    private long producerB;
    private long producerC;

    /** Topics "orders" (2 partitions) and, when {@code stateTopic}, the transaction state topic (1 partition). */
    private static final class Broker extends StubBrokerServices {
        final boolean stateTopic;
        final AtomicLong producerIds = new AtomicLong(1000);
        final AtomicInteger topicsCreated = new AtomicInteger();
        Authorization authorization = Authorization.DISABLED;

        Broker(boolean stateTopic) {
            this.stateTopic = stateTopic;
        }

        @Override
        public Collection<TopicInfo> topics() {
            TopicInfo orders = new TopicInfo("orders", Uuid.randomUuid(), 2, (short) 1, Map.of(), false);
            return stateTopic ? List.of(orders, new TopicInfo(STATE.topic(), Uuid.randomUuid(), 1, (short) 1,
                    Map.of(), true)) : List.of(orders);
        }

        @Override
        public Optional<TopicInfo> topic(String name) {
            return topics().stream().filter(t -> t.name().equals(name)).findFirst();
        }

        @Override
        public Partition replica(TopicPartition tp) {
            if (tp.equals(STATE) && stateTopic) {
                return partition(tp, true, List.of());
            }
            if (tp.equals(ORDERS_0)) {
                return partition(tp, true, PRODUCERS);
            }
            return tp.equals(ORDERS_1) ? partition(tp, false, List.of()) : null;
        }

        @Override
        public CompletableFuture<TopicInfo> createTopic(String name, int partitions, short replicationFactor,
                                                        Map<String, String> configs, boolean validateOnly) {
            topicsCreated.incrementAndGet();
            return new CompletableFuture<>();
        }

        @Override
        public CompletableFuture<Long> nextProducerId() {
            return CompletableFuture.completedFuture(producerIds.getAndIncrement());
        }

        @Override
        public Authorization authorization() {
            return authorization;
        }
    }

    /** A replica that is empty, accepts every append, and reports {@code producers}. */
    private static Partition partition(TopicPartition tp, boolean leader, List<ProducerState> producers) {
        return (Partition) Proxy.newProxyInstance(Partition.class.getClassLoader(), new Class<?>[] {Partition.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "topicPartition" -> tp;
                    case "isLeader" -> leader;
                    case "leaderEpoch" -> 1;
                    case "logStartOffset", "highWatermark" -> 0L;
                    case "read" -> MemoryRecords.EMPTY;
                    case "append" -> CompletableFuture.completedFuture(new AppendResult(0, 0));
                    case "activeProducers" -> producers;
                    case "toString" -> "partition " + tp;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    /** Denies DESCRIBE on transactional id "b" and on topic "orders", and READ on topic "orders". */
    private static final Authorization DENYING_B_AND_ORDERS = new Authorization() {
        @Override
        public boolean enabled() {
            return true;
        }

        @Override
        public boolean allowed(RequestContext context, AclOperation operation, ResourceType type, String name) {
            return !(type == ResourceType.TRANSACTIONAL_ID && name.equals("b")
                    || type == ResourceType.TOPIC && name.equals("orders"));
        }

        @Override
        public boolean allowed(org.apache.kafka.common.security.auth.KafkaPrincipal principal, String host,
                               AclOperation operation, ResourceType type, String name) {
            return allowed((RequestContext) null, operation, type, name);
        }

        @Override
        public boolean allowedOnAny(RequestContext context, AclOperation operation, ResourceType type) {
            return true;
        }
    };

    @BeforeEach
    void startAndRunThreeTransactionalIds() {
        coordinator.start();
        TxnShard shard = awaitShard(coordinator, "a");
        producerA = shard.initProducerId("a", 60_000, -1, (short) -1, 500).join().producerId();
        assertThat(shard.addPartitions("a", producerA, (short) 0, Set.of(ORDERS_0, ORDERS_1), 1000).join())
                .isEqualTo(Errors.NONE);
        producerB = shard.initProducerId("b", 30_000, -1, (short) -1, 500).join().producerId();
        assertThat(shard.addPartitions("b", producerB, (short) 0, Set.of(ORDERS_0), 2000).join())
                .isEqualTo(Errors.NONE);
        assertThat(shard.endTxn("b", producerB, (short) 0, true, 3000).join()).isEqualTo(Errors.NONE);
        producerC = shard.initProducerId("c", 60_000, -1, (short) -1, 500).join().producerId();
    }

    @AfterEach
    void close() {
        coordinator.close();
    }

    /** Waits (bounded) until the coordinator's tick loaded the state partition and serves {@code id}. */
    private static TxnShard awaitShard(TxnCoordinator coordinator, String id) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            TxnCoordinator.Route route = coordinator.route(id);
            if (route instanceof TxnCoordinator.Route.Served served) {
                return served.shard();
            }
            assertThat(System.nanoTime()).as("the state partition is loaded in time").isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    private static RequestContext context(ApiKeys key, short version) {
        return new RequestContext(new RequestHeader(key, version, "test", 1), "EXTERNAL",
                new InetSocketAddress("127.0.0.1", 40000), KafkaPrincipal.ANONYMOUS);
    }

    private static <Q extends ApiMessage> ApiMessage call(ApiHandler<Q> handler, short version, Q request) {
        return handler.handle(context(handler.apiKey(), version), request).join();
    }

    private DescribeTransactionsResponseData describe(TxnCoordinator coordinator, String... ids) {
        return (DescribeTransactionsResponseData) call(new DescribeTransactionsHandler(broker, coordinator),
                (short) 0, new DescribeTransactionsRequestData().setTransactionalIds(List.of(ids)));
    }

    private ListTransactionsResponseData list(short version, ListTransactionsRequestData request) {
        return (ListTransactionsResponseData) call(new ListTransactionsHandler(broker, coordinator), version, request);
    }

    @Test
    void describeTransactionsReportsStateProducerEpochTimesAndPartitions() {
        DescribeTransactionsResponseData response = describe(coordinator, "a", "b", "c", "unknown", "");
        assertThat(response.transactionStates()).extracting(TransactionState::transactionalId,
                TransactionState::errorCode, TransactionState::transactionState, TransactionState::producerId,
                TransactionState::producerEpoch, TransactionState::transactionTimeoutMs,
                TransactionState::transactionStartTimeMs).containsExactly(
                tuple("a", Errors.NONE.code(), "Ongoing", producerA, (short) 0, 60_000, 1000L),
                tuple("b", Errors.NONE.code(), "CompleteCommit", producerB, (short) 0, 30_000, 2000L),
                tuple("c", Errors.NONE.code(), "Empty", producerC, (short) 0, 60_000, -1L),
                tuple("unknown", Errors.TRANSACTIONAL_ID_NOT_FOUND.code(), "", 0L, (short) 0, 0, 0L),
                tuple("", Errors.INVALID_REQUEST.code(), "", 0L, (short) 0, 0, 0L));
        TransactionState a = response.transactionStates().get(0);
        assertThat(a.topics()).hasSize(1);
        assertThat(a.topics().find("orders").partitions()).containsExactly(0, 1);
        assertThat(response.transactionStates().get(1).topics()).as("a completed transaction has none").isEmpty();
    }

    @Test
    void describeTransactionsWhereTheIdIsNotCoordinated() {
        TxnCoordinator elsewhere = new TxnCoordinator(broker, TxnConfig.defaults(), () -> NOW, tp -> Runnable::run,
                (tp, pid, epoch, commit, ce) -> CompletableFuture.completedFuture(Errors.NONE));
        assertThat(describe(elsewhere, "a").transactionStates().get(0).errorCode())
                .as("the state partition is not led by this coordinator").isEqualTo(Errors.NOT_COORDINATOR.code());

        Broker noStateTopic = new Broker(false);
        TxnCoordinator none = new TxnCoordinator(noStateTopic, TxnConfig.defaults(), () -> NOW, tp -> Runnable::run,
                (tp, pid, epoch, commit, ce) -> CompletableFuture.completedFuture(Errors.NONE));
        DescribeTransactionsResponseData response = (DescribeTransactionsResponseData) call(
                new DescribeTransactionsHandler(noStateTopic, none), (short) 0,
                new DescribeTransactionsRequestData().setTransactionalIds(List.of("a")));
        assertThat(response.transactionStates().get(0).errorCode()).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE.code());
        assertThat(noStateTopic.topicsCreated).as("a describe creates no state topic").hasValue(0);
    }

    @Test
    void authorizationHidesIdsAndTopics() {
        broker.authorization = DENYING_B_AND_ORDERS;
        DescribeTransactionsResponseData described = describe(coordinator, "a", "b");
        assertThat(described.transactionStates()).extracting(TransactionState::errorCode)
                .containsExactly(Errors.NONE.code(), Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
        assertThat(described.transactionStates().get(0).topics()).as("orders may not be described").isEmpty();
        assertThat(ids(list((short) 0, new ListTransactionsRequestData()))).containsExactly("a", "c");

        DescribeProducersResponseData producers = describeProducers(new DescribeProducersRequestData.TopicRequest()
                .setName("orders").setPartitionIndexes(List.of(0)));
        assertThat(producers.topics().get(0).partitions().get(0).errorCode())
                .isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code());
    }

    @Test
    void listTransactionsFilters() {
        assertThat(ids(list((short) 0, new ListTransactionsRequestData()))).containsExactly("a", "b", "c");
        assertThat(list((short) 0, new ListTransactionsRequestData()).transactionStates())
                .extracting(ListTransactionsResponseData.TransactionState::producerId,
                        ListTransactionsResponseData.TransactionState::transactionState)
                .containsExactly(tuple(producerA, "Ongoing"), tuple(producerB, "CompleteCommit"),
                        tuple(producerC, "Empty"));

        ListTransactionsResponseData byState = list((short) 0, new ListTransactionsRequestData()
                .setStateFilters(List.of("Ongoing", "Bogus", "Dead")));
        assertThat(ids(byState)).containsExactly("a");
        assertThat(byState.unknownStateFilters()).as("Dead is a Kafka state, Bogus is not").containsExactly("Bogus");

        assertThat(ids(list((short) 0, new ListTransactionsRequestData().setProducerIdFilters(List.of(producerB)))))
                .containsExactly("b");
        // running longer than 8500 ms at 10000: a (started at 1000), not b (2000); c has no start time and passes,
        // as in Kafka
        assertThat(ids(list((short) 1, new ListTransactionsRequestData().setDurationFilter(8_500))))
                .containsExactly("a", "c");
        assertThat(ids(list((short) 2, new ListTransactionsRequestData().setTransactionalIdPattern("[ab]"))))
                .containsExactly("a", "b");
        assertThat(ids(list((short) 2, new ListTransactionsRequestData().setTransactionalIdPattern(""))))
                .as("an empty pattern filters nothing").containsExactly("a", "b", "c");
        assertThat(list((short) 2, new ListTransactionsRequestData().setTransactionalIdPattern("(")).errorCode())
                .isEqualTo(Errors.INVALID_REGULAR_EXPRESSION.code());
    }

    private static List<String> ids(ListTransactionsResponseData response) {
        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        return response.transactionStates().stream()
                .map(ListTransactionsResponseData.TransactionState::transactionalId).toList();
    }

    private DescribeProducersResponseData describeProducers(DescribeProducersRequestData.TopicRequest... topics) {
        return (DescribeProducersResponseData) call(new DescribeProducersHandler(broker), (short) 0,
                new DescribeProducersRequestData().setTopics(List.of(topics)));
    }

    @Test
    void describeProducersAnswersTheLeadersProducerStatePerPartition() {
        DescribeProducersResponseData response = describeProducers(
                new DescribeProducersRequestData.TopicRequest().setName("orders").setPartitionIndexes(List.of(0, 1, 7)),
                new DescribeProducersRequestData.TopicRequest().setName("missing").setPartitionIndexes(List.of(0)),
                new DescribeProducersRequestData.TopicRequest().setName("bad/name").setPartitionIndexes(List.of(0)));
        List<PartitionResponse> orders = response.topics().get(0).partitions();
        assertThat(orders).extracting(PartitionResponse::partitionIndex, PartitionResponse::errorCode)
                .containsExactly(tuple(0, Errors.NONE.code()), tuple(1, Errors.NOT_LEADER_OR_FOLLOWER.code()),
                        tuple(7, Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
        assertThat(orders.get(0).activeProducers()).extracting(
                DescribeProducersResponseData.ProducerState::producerId,
                DescribeProducersResponseData.ProducerState::producerEpoch,
                DescribeProducersResponseData.ProducerState::lastSequence,
                DescribeProducersResponseData.ProducerState::lastTimestamp,
                DescribeProducersResponseData.ProducerState::coordinatorEpoch,
                DescribeProducersResponseData.ProducerState::currentTxnStartOffset).containsExactly(
                tuple(1000L, 0, 4, 1_700_000_000_000L, -1, 17L),
                tuple(1001L, 2, 9, 1_700_000_000_500L, -1, -1L));
        assertThat(orders.get(1).activeProducers()).isEmpty();
        assertThat(response.topics().get(1).partitions().get(0).errorCode())
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        assertThat(response.topics().get(2).partitions().get(0).errorCode())
                .isEqualTo(Errors.INVALID_TOPIC_EXCEPTION.code());
    }
}
