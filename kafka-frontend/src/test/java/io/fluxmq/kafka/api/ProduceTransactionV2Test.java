package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.broker.StubBrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.raft.partition.AppendResult;
import io.fluxmq.raft.partition.Partition;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

/**
 * Transaction version 2 on the produce path (Produce v12): the leader adds a transactional batch's partition to its
 * transaction before appending it, once per producer epoch and partition; appends wait for the addition and keep
 * their order; the coordinator's errors are answered as Kafka's leader answers them; v11 and non-transactional
 * batches are appended without asking.
 */
class ProduceTransactionV2Test {
    private static final String TOPIC = "orders";
    private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);

    private record Call(String transactionalId, long producerId, short epoch, Set<TopicPartition> partitions) {}

    private final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
    private final List<String> appended = Collections.synchronizedList(new ArrayList<>());
    /** What the coordinator answers next; null: a future the test completes itself. */
    private volatile Errors answer = Errors.NONE;
    private volatile CompletableFuture<Errors> held;
    private final AtomicInteger concurrentAnswers = new AtomicInteger();

    private final StubBrokerServices broker = new StubBrokerServices() {
        @Override
        public Collection<TopicInfo> topics() {
            return List.of(new TopicInfo(TOPIC, Uuid.randomUuid(), 2, (short) 1, Map.of(), false));
        }

        @Override
        public java.util.Optional<TopicInfo> topic(String name) {
            return topics().stream().filter(t -> t.name().equals(name)).findFirst();
        }

        @Override
        public Partition replica(TopicPartition tp) {
            return partition(tp);
        }
    };

    private final ProduceHandler handler = new ProduceHandler(broker, tp -> Runnable::run,
            io.fluxmq.kafka.metrics.FrontendMetrics.NONE, (id, producerId, epoch, partitions) -> {
                calls.add(new Call(id, producerId, epoch, partitions));
                if (concurrentAnswers.getAndDecrement() > 0) {
                    return CompletableFuture.completedFuture(Errors.CONCURRENT_TRANSACTIONS);
                }
                if (answer == null) {
                    held = new CompletableFuture<>();
                    return held;
                }
                return CompletableFuture.completedFuture(answer);
            });

    /** A replica that records the value of each batch it is asked to append. */
    private Partition partition(TopicPartition tp) {
        return (Partition) Proxy.newProxyInstance(Partition.class.getClassLoader(), new Class<?>[] {Partition.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "topicPartition" -> tp;
                    case "isLeader" -> true;
                    case "append" -> {
                        MemoryRecords records = (MemoryRecords) args[0];
                        appended.add(tp.partition() + ":" + new String(
                                org.apache.kafka.common.utils.Utils.toArray(
                                        records.records().iterator().next().value())));
                        yield CompletableFuture.completedFuture(new AppendResult(0, 0));
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> "partition " + tp;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static MemoryRecords transactional(long producerId, short epoch, int sequence, String value) {
        return MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, epoch, sequence,
                new SimpleRecord(value.getBytes()));
    }

    private static ProduceRequestData request(String transactionalId, Map<Integer, MemoryRecords> byPartition) {
        List<ProduceRequestData.PartitionProduceData> partitions = new ArrayList<>();
        byPartition.forEach((p, records) -> partitions.add(new ProduceRequestData.PartitionProduceData().setIndex(p)
                .setRecords(records)));
        return new ProduceRequestData().setAcks((short) -1).setTimeoutMs(5_000).setTransactionalId(transactionalId)
                .setTopicData(new ProduceRequestData.TopicProduceDataCollection(List.of(
                        new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(partitions))
                        .iterator()));
    }

    private CompletableFuture<Map<Integer, Errors>> send(int version, ProduceRequestData request) {
        RequestContext context = new RequestContext(new RequestHeader(ApiKeys.PRODUCE, (short) version, "c", 1),
                "EXTERNAL", new InetSocketAddress(InetAddress.getLoopbackAddress(), 50_000), KafkaPrincipal.ANONYMOUS);
        return handler.handle(context, request).thenApply(message -> {
            Map<Integer, Errors> errors = new java.util.TreeMap<>();
            for (ProduceResponseData.TopicProduceResponse t : ((ProduceResponseData) message).responses()) {
                t.partitionResponses().forEach(p -> errors.put(p.index(), Errors.forCode(p.errorCode())));
            }
            return errors;
        });
    }

    private Map<Integer, Errors> sendNow(int version, ProduceRequestData request) throws Exception {
        return send(version, request).get(5, TimeUnit.SECONDS);
    }

    @Test
    void theFirstBatchOfAnEpochAddsItsPartitionsOnceThenBatchesGoStraightIn() throws Exception {
        assertThat(sendNow(12, request("tx", Map.of(0, transactional(7, (short) 3, 0, "a"),
                1, transactional(7, (short) 3, 0, "b"))))).isEqualTo(Map.of(0, Errors.NONE, 1, Errors.NONE));
        assertThat(calls).containsExactly(new Call("tx", 7, (short) 3, Set.of(P0, P1)));
        assertThat(sendNow(12, request("tx", Map.of(0, transactional(7, (short) 3, 1, "c"))))).containsEntry(0,
                Errors.NONE);
        assertThat(calls).as("already added at this epoch").hasSize(1);
        assertThat(sendNow(12, request("tx", Map.of(0, transactional(7, (short) 4, 0, "d"))))).containsEntry(0,
                Errors.NONE);
        assertThat(calls).as("the next transaction's epoch").hasSize(2).last()
                .isEqualTo(new Call("tx", 7, (short) 4, Set.of(P0)));
        assertThat(appended).containsExactlyInAnyOrder("0:a", "1:b", "0:c", "0:d");
    }

    @Test
    void version11AndIdempotentBatchesAreNotAdded() throws Exception {
        assertThat(sendNow(11, request("tx", Map.of(0, transactional(7, (short) 3, 0, "a"))))).containsEntry(0,
                Errors.NONE);
        MemoryRecords idempotent = MemoryRecords.withIdempotentRecords(Compression.NONE, 8, (short) 0, 0,
                new SimpleRecord("b".getBytes()));
        assertThat(sendNow(12, request(null, Map.of(0, idempotent)))).containsEntry(0, Errors.NONE);
        assertThat(calls).isEmpty();
        assertThat(appended).containsExactly("0:a", "0:b");
    }

    @Test
    void appendsWaitForTheAdditionAndKeepTheirOrder() throws Exception {
        answer = null;
        CompletableFuture<Map<Integer, Errors>> first = send(12, request("tx",
                Map.of(0, transactional(7, (short) 3, 0, "first"))));
        MemoryRecords plain = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("second".getBytes()));
        CompletableFuture<Map<Integer, Errors>> second = send(12, request(null, Map.of(0, plain)));
        assertThat(appended).as("nothing appended before the coordinator answered").isEmpty();
        assertThat(first).isNotDone();
        assertThat(second).isNotDone();
        held.complete(Errors.NONE);
        assertThat(first.get(5, TimeUnit.SECONDS)).containsEntry(0, Errors.NONE);
        assertThat(second.get(5, TimeUnit.SECONDS)).containsEntry(0, Errors.NONE);
        assertThat(appended).containsExactly("0:first", "0:second");
    }

    @Test
    void coordinatorErrorsAreAnsweredAsKafkasLeaderAnswersThem() throws Exception {
        Map<Errors, Errors> expected = Map.of(
                Errors.NOT_COORDINATOR, Errors.NOT_ENOUGH_REPLICAS,
                Errors.COORDINATOR_NOT_AVAILABLE, Errors.NOT_ENOUGH_REPLICAS,
                Errors.COORDINATOR_LOAD_IN_PROGRESS, Errors.NOT_ENOUGH_REPLICAS,
                Errors.PRODUCER_FENCED, Errors.INVALID_PRODUCER_EPOCH,
                Errors.INVALID_PRODUCER_ID_MAPPING, Errors.INVALID_PRODUCER_ID_MAPPING,
                Errors.INVALID_TXN_STATE, Errors.INVALID_TXN_STATE);
        short epoch = 0;
        for (Map.Entry<Errors, Errors> e : expected.entrySet()) {
            answer = e.getKey();
            assertThat(sendNow(12, request("tx", Map.of(1, transactional(9, epoch++, 0, "x")))))
                    .as("coordinator answered %s", e.getKey()).containsEntry(1, e.getValue());
        }
        assertThat(appended).isEmpty();
    }

    @Test
    void concurrentTransactionsIsRetriedBrieflyThenAnswered() throws Exception {
        concurrentAnswers.set(2);
        assertThat(sendNow(12, request("tx", Map.of(0, transactional(7, (short) 1, 0, "a"))))).containsEntry(0,
                Errors.NONE);
        assertThat(calls).as("two refusals, then added").hasSize(3);
        concurrentAnswers.set(1_000);
        calls.clear();
        assertThat(sendNow(12, request("tx", Map.of(0, transactional(7, (short) 2, 0, "b"))))).containsEntry(0,
                Errors.CONCURRENT_TRANSACTIONS);
        assertThat(calls.size()).as("retried every %d ms for at most %d ms", TxnProduceGate.RETRY_BACKOFF_MS,
                TxnProduceGate.RETRY_MAX_MS).isBetween(2, (int) (TxnProduceGate.RETRY_MAX_MS
                / TxnProduceGate.RETRY_BACKOFF_MS) + 1);
        assertThat(appended).containsExactly("0:a");
    }
}
