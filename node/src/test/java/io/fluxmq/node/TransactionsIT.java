package io.fluxmq.node;

import static io.fluxmq.node.DynamicConfigsIT.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transactions with Kafka 4.1's Java producer and consumer on a three-process cluster (transaction version 2, which
 * the clients use since the nodes finalize {@code transaction.version} 2; the first test also at 1, the classic
 * protocol): commit, abort and commit again;
 * {@code read_committed} consumers see exactly the committed records and stop at the last stable offset while a
 * transaction is open, {@code read_uncommitted} ones see everything; a second producer with the same transactional
 * id fences the first and aborts its open transaction; a transaction left open past its timeout is aborted by the
 * coordinator and its producer fenced; offsets sent with a transaction ({@code sendOffsetsToTransaction}) reach the
 * group only when it commits; the coordinator's node, or the leader of a partition in the transaction, killed
 * mid-transaction loses no committed transaction and exposes no aborted record.
 */
class TransactionsIT {
    private static final String TOPIC = "txn";
    private static final int PARTITIONS = 2;
    private static final Duration READ = Duration.ofSeconds(60);

    /**
     * Run with each transaction version the nodes may finalize: at 2 (the default) Kafka 4.1's clients use transaction
     * version 2 (KIP-890: no AddPartitionsToTxn or AddOffsetsToTxn, Produce v12, EndTxn v5 with an epoch bump per
     * transaction, TxnOffsetCommit v5), at 1 the classic protocol; the producer's epoch after its three transactions
     * shows which one ran.
     */
    @ParameterizedTest(name = "transaction.version={0}")
    @ValueSource(ints = {1, 2})
    void commitAbortCommitFencingAndTimeouts(int transactionVersion, @TempDir Path dir) throws Exception {
        Map<String, String> settings = Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "500",
                "transaction.version", Integer.toString(transactionVersion));
        try (TestCluster cluster = TestCluster.start(3, dir, settings)) {
            cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
            String bootstrap = cluster.bootstrap();
            List<String> committed = new ArrayList<>();
            List<String> everything = new ArrayList<>();

            KafkaProducer<String, String> first = transactional(bootstrap, "tx-a", 60_000);
            first.initTransactions();
            transaction(first, "c", 0, 10, committed, everything);
            first.commitTransaction();
            transaction(first, "a", 0, 10, null, everything);
            first.flush();
            first.abortTransaction();
            transaction(first, "c", 10, 20, committed, everything);
            first.commitTransaction();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                // EndTxn is answered once PREPARE_COMMIT is written; the markers and COMPLETE_COMMIT follow
                TransactionDescription described = eventually(() -> {
                    TransactionDescription d = admin.describeTransactions(List.of("tx-a")).description("tx-a")
                            .get(30, TimeUnit.SECONDS);
                    assertThat(d.state()).isEqualTo(TransactionState.COMPLETE_COMMIT);
                    return d;
                });
                assertThat(described.producerEpoch()).as("every end bumps the epoch under transaction version 2")
                        .isEqualTo(transactionVersion == 2 ? 3 : 0);
            }

            assertThat(values(read(bootstrap, true))).containsExactlyInAnyOrderElementsOf(committed);
            assertThat(values(read(bootstrap, false))).containsExactlyInAnyOrderElementsOf(everything);
            assertOrderedPerPartition(read(bootstrap, true));

            // an open transaction holds read_committed back at its first offset
            transaction(first, "o", 0, 4, null, everything);
            first.flush();
            assertThat(endOffsets(bootstrap, true)).as("last stable offsets stay below the open transaction")
                    .isNotEqualTo(endOffsets(bootstrap, false));
            assertThat(values(read(bootstrap, true))).containsExactlyInAnyOrderElementsOf(committed);

            // a second producer with the same transactional id fences the first and aborts its open transaction
            KafkaProducer<String, String> second = transactional(bootstrap, "tx-a", 60_000);
            second.initTransactions();
            assertThatThrownBy(first::commitTransaction).isInstanceOfAny(ProducerFencedException.class,
                    InvalidProducerEpochException.class);
            first.close(Duration.ZERO);
            eventually(() -> {
                assertThat(endOffsets(bootstrap, true)).isEqualTo(endOffsets(bootstrap, false));
                return null;
            });
            transaction(second, "c", 20, 30, committed, everything);
            second.commitTransaction();
            assertThat(values(read(bootstrap, true))).containsExactlyInAnyOrderElementsOf(committed);
            assertThat(values(read(bootstrap, false))).containsExactlyInAnyOrderElementsOf(everything);
            second.close();

            // a transaction left open past transaction.timeout.ms is aborted by the coordinator, fencing its producer
            KafkaProducer<String, String> slow = transactional(bootstrap, "tx-slow", 2_000);
            slow.initTransactions();
            transaction(slow, "t", 0, 4, null, everything);
            slow.flush();
            eventually(() -> {
                assertThat(endOffsets(bootstrap, true)).isEqualTo(endOffsets(bootstrap, false));
                return null;
            });
            assertThatThrownBy(slow::commitTransaction).isInstanceOf(KafkaException.class);
            slow.close(Duration.ZERO);
            assertThat(values(read(bootstrap, true))).containsExactlyInAnyOrderElementsOf(committed);
            assertThat(values(read(bootstrap, false))).containsExactlyInAnyOrderElementsOf(everything);

            sendOffsetsToTransactionCommitsOnlyWithTheTransaction(cluster);
        }
    }

    /**
     * The node coordinating a transactional id SIGKILLed twice: once with a transaction open (its producer aborts it
     * through the new coordinator, which loaded the open transaction from the replicated state partition), once right
     * after a commit was acknowledged (the new coordinator finds PREPARE_COMMIT or COMPLETE_COMMIT and the markers
     * reach every partition). No committed transaction is lost, no aborted record is visible to read_committed.
     */
    @Test
    void coordinatorKilledMidTransaction(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
            String bootstrap = cluster.bootstrap();
            List<String> committed = new ArrayList<>();
            List<String> everything = new ArrayList<>();
            String id = "tx-kill";
            int statePartition = Math.abs(id.hashCode()) % 3; // transaction.state.log.num.partitions default
            KafkaProducer<String, String> producer = transactional(bootstrap, id, 60_000);
            producer.initTransactions();
            transaction(producer, "c", 0, 10, committed, everything);
            producer.commitTransaction();

            transaction(producer, "a", 0, 10, null, everything);
            producer.flush();
            int first = cluster.awaitLeader("__transaction_state", statePartition, Duration.ofSeconds(30));
            cluster.node(first).kill();
            producer.abortTransaction();
            transaction(producer, "c", 10, 20, committed, everything);
            producer.commitTransaction();
            cluster.restart(first);
            awaitFullIsr(cluster);

            transaction(producer, "c", 20, 30, committed, everything);
            producer.commitTransaction();
            int second = cluster.awaitLeader("__transaction_state", statePartition, Duration.ofSeconds(30));
            cluster.node(second).kill();
            eventually(() -> {
                assertThat(values(read(bootstrap, true))).containsExactlyInAnyOrderElementsOf(committed);
                return null;
            });
            assertThat(values(read(bootstrap, false))).containsExactlyInAnyOrderElementsOf(everything);
            transaction(producer, "c", 30, 40, committed, everything);
            producer.commitTransaction();
            producer.close();
            eventually(() -> {
                assertThat(values(read(bootstrap, true))).containsExactlyInAnyOrderElementsOf(committed);
                return null;
            });
        }
    }

    /**
     * The leader of a data partition in the transaction (not the coordinator's node) killed mid-transaction, once in
     * a transaction that then commits and once in one that aborts: the records sent before and after the kill are
     * committed, or all aborted, by markers written to the partition's new leader; {@code read_committed} readers see
     * exactly the committed records, {@code read_uncommitted} ones everything, in order.
     */
    @Test
    void partitionLeaderKilledMidTransaction(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
            String bootstrap = cluster.bootstrap();
            List<String> committed = new ArrayList<>();
            List<String> everything = new ArrayList<>();
            String id = "tx-leader";
            int statePartition = Math.abs(id.hashCode()) % 3; // transaction.state.log.num.partitions default
            KafkaProducer<String, String> producer = transactional(bootstrap, id, 60_000);
            producer.initTransactions();

            transaction(producer, "c", 0, 10, committed, everything);
            producer.flush();
            int killed = dataLeaderOtherThanCoordinator(cluster, statePartition);
            cluster.node(killed).kill();
            send(producer, "c", 10, 20, committed, everything);
            producer.commitTransaction();
            cluster.restart(killed);
            awaitFullIsr(cluster);

            transaction(producer, "a", 0, 10, null, everything);
            producer.flush();
            killed = dataLeaderOtherThanCoordinator(cluster, statePartition);
            cluster.node(killed).kill();
            send(producer, "a", 10, 20, null, everything);
            producer.flush();
            producer.abortTransaction();
            transaction(producer, "c", 20, 30, committed, everything);
            producer.commitTransaction();
            producer.close();

            eventually(() -> {
                assertThat(values(read(bootstrap, true))).containsExactlyInAnyOrderElementsOf(committed);
                return null;
            });
            List<ConsumerRecord<String, String>> all = read(bootstrap, false);
            assertThat(values(all)).containsExactlyInAnyOrderElementsOf(everything);
            assertOrderedPerPartition(all.stream().filter(r -> r.value().startsWith("c")).toList());
            assertOrderedPerPartition(all.stream().filter(r -> r.value().startsWith("a")).toList());
        }
    }

    /** The leader of a data partition on another node than the one coordinating the transactional id. */
    private static int dataLeaderOtherThanCoordinator(TestCluster cluster, int statePartition) throws Exception {
        int coordinator = cluster.awaitLeader("__transaction_state", statePartition, Duration.ofSeconds(30));
        for (int p = 0; p < PARTITIONS; p++) {
            int leader = cluster.awaitLeader(TOPIC, p, Duration.ofSeconds(30));
            if (leader != coordinator) {
                return leader;
            }
        }
        throw new AssertionError("node " + coordinator + " leads every partition and coordinates the transaction");
    }

    /** Waits until every partition of the data topic and of the state topic has all three replicas in sync. */
    private static void awaitFullIsr(TestCluster cluster) throws Exception {
        eventually(() -> {
            try (Admin admin = cluster.admin()) {
                admin.describeTopics(List.of(TOPIC, "__transaction_state")).allTopicNames().get(10, TimeUnit.SECONDS)
                        .values().forEach(d -> d.partitions().forEach(p -> assertThat(p.isr()).hasSize(3)));
            }
            return null;
        });
    }

    /**
     * Offsets sent with a transaction reach the group when it commits, never when it aborts. The abort's markers are
     * written before the next transaction can add partitions (CONCURRENT_TRANSACTIONS until then), so once the third
     * transaction's offset is visible the aborted one would have been too.
     */
    private static void sendOffsetsToTransactionCommitsOnlyWithTheTransaction(TestCluster cluster) throws Exception {
        String bootstrap = cluster.bootstrap();
        TopicPartition in0 = new TopicPartition("in", 0);
        TopicPartition in1 = new TopicPartition("in", 1);
        cluster.createTopic("in", 2, (short) 3);
        ConsumerGroupMetadata group = new ConsumerGroupMetadata("eos-group");
        try (KafkaProducer<String, String> producer = transactional(bootstrap, "tx-offsets", 60_000);
             Admin admin = cluster.admin()) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(TOPIC, 0, null, "x0"));
            producer.sendOffsetsToTransaction(Map.of(in0, new OffsetAndMetadata(5)), group);
            producer.commitTransaction();
            eventually(() -> {
                assertThat(groupOffsets(admin)).containsEntry(in0, 5L);
                return null;
            });

            producer.beginTransaction();
            producer.sendOffsetsToTransaction(Map.of(in0, new OffsetAndMetadata(8)), group);
            producer.abortTransaction();

            producer.beginTransaction();
            producer.sendOffsetsToTransaction(Map.of(in1, new OffsetAndMetadata(3)), group);
            producer.commitTransaction();
            eventually(() -> {
                assertThat(groupOffsets(admin)).containsEntry(in1, 3L);
                return null;
            });
            assertThat(groupOffsets(admin)).as("the aborted offset never took effect").containsEntry(in0, 5L);
        }
    }

    private static Map<TopicPartition, Long> groupOffsets(Admin admin) throws Exception {
        Map<TopicPartition, Long> out = new java.util.HashMap<>();
        admin.listConsumerGroupOffsets("eos-group").partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                .forEach((tp, o) -> out.put(tp, o.offset()));
        return out;
    }

    static KafkaProducer<String, String> transactional(String bootstrap, String id, int timeoutMs) {
        return Clients.producer(bootstrap, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id,
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, timeoutMs,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000));
    }

    /** Begins a transaction and sends {@code prefix + i} for i in [from, to) round-robin over the partitions. */
    private static void transaction(KafkaProducer<String, String> producer, String prefix, int from, int to,
                                    List<String> committed, List<String> everything) {
        producer.beginTransaction();
        send(producer, prefix, from, to, committed, everything);
    }

    /** Sends records {@code prefix from..to-1} in the open transaction. */
    private static void send(KafkaProducer<String, String> producer, String prefix, int from, int to,
                             List<String> committed, List<String> everything) {
        for (int i = from; i < to; i++) {
            String value = prefix + i;
            producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, value));
            everything.add(value);
            if (committed != null) {
                committed.add(value);
            }
        }
    }

    private static KafkaConsumer<String, String> consumer(String bootstrap, boolean readCommitted) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        return new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    }

    private static List<TopicPartition> partitions() {
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            tps.add(new TopicPartition(TOPIC, p));
        }
        return tps;
    }

    /** End offsets as the isolation level sees them: last stable offsets for read_committed. */
    static Map<TopicPartition, Long> endOffsets(String bootstrap, boolean readCommitted) {
        try (KafkaConsumer<String, String> consumer = consumer(bootstrap, readCommitted)) {
            return consumer.endOffsets(partitions());
        }
    }

    /** Every record visible at the isolation level, from the beginning to its end offsets. */
    static List<ConsumerRecord<String, String>> read(String bootstrap, boolean readCommitted) {
        try (KafkaConsumer<String, String> consumer = consumer(bootstrap, readCommitted)) {
            List<TopicPartition> tps = partitions();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            long deadline = System.nanoTime() + READ.toNanos();
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                assertThat(System.nanoTime()).as("read up to %s in time", ends).isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            return out;
        }
    }

    static List<String> values(List<ConsumerRecord<String, String>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }

    /** Within a partition, records come back in the order they were sent (the number after the prefix grows). */
    private static void assertOrderedPerPartition(List<ConsumerRecord<String, String>> records) {
        for (int p = 0; p < PARTITIONS; p++) {
            int partition = p;
            List<Integer> numbers = records.stream().filter(r -> r.partition() == partition)
                    .map(r -> Integer.parseInt(r.value().substring(1))).toList();
            assertThat(numbers).isSorted();
        }
    }
}
