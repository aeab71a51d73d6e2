package io.fluxmq.node;

import static io.fluxmq.node.DynamicConfigsIT.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeProducersOptions;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.tools.TransactionsCommand;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transaction admin APIs on a three-process cluster, with Kafka 4.1's Admin client and Kafka's own
 * {@code kafka-transactions} tool: one transactional id with a committed transaction ("tx-done"), one with a
 * transaction open on both partitions ("tx-open"). ListTransactions (merged over every node) and DescribeTransactions
 * (at the coordinator) report their states, producer ids, epochs, timeouts and partitions; DescribeProducers on the
 * partition leader reports both producers, the open transaction's first offset (which is the partition's last stable
 * offset and the offset of its first record) and none for the committed one; a follower asked directly answers
 * NOT_LEADER_OR_FOLLOWER. A second producer with the open id fences the first: its transaction is aborted and the
 * epoch bumped, which all three APIs then show. Run on both partition engines (Ratis and FluxMQ's multi-Raft), whose
 * replicas each implement {@code Partition.activeProducers}.
 */
class TransactionAdminIT {
    private static final String TOPIC = "txn-admin";
    private static final TopicPartition TP0 = new TopicPartition(TOPIC, 0);
    private static final TopicPartition TP1 = new TopicPartition(TOPIC, 1);
    private static final int OPEN_TIMEOUT_MS = 120_000;

    @ParameterizedTest(name = "partition.engine={0}")
    @ValueSource(strings = {NodeConfig.RATIS, NodeConfig.MULTIRAFT})
    void describeAndListTransactionsAndProducers(String engine, @TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of(NodeConfig.PARTITION_ENGINE, engine));
             Admin admin = cluster.admin()) {
            cluster.createTopic(TOPIC, 2, (short) 3);
            String bootstrap = cluster.bootstrap();
            long startedBefore = System.currentTimeMillis();

            KafkaProducer<String, String> done = TransactionsIT.transactional(bootstrap, "tx-done", 60_000);
            done.initTransactions();
            done.beginTransaction();
            for (int i = 0; i < 3; i++) {
                done.send(new ProducerRecord<>(TOPIC, 0, null, "done-" + i));
            }
            done.commitTransaction();
            done.close();

            KafkaProducer<String, String> open = TransactionsIT.transactional(bootstrap, "tx-open", OPEN_TIMEOUT_MS);
            open.initTransactions();
            open.beginTransaction();
            open.send(new ProducerRecord<>(TOPIC, 0, null, "open-0"));
            open.send(new ProducerRecord<>(TOPIC, 1, null, "open-1"));
            open.flush();

            // ListTransactions, asked of every node and merged
            Map<String, TransactionListing> listed = listings(admin, new ListTransactionsOptions());
            assertThat(listed).containsKeys("tx-done", "tx-open");
            assertThat(listed.get("tx-done").state()).isEqualTo(TransactionState.COMPLETE_COMMIT);
            assertThat(listed.get("tx-open").state()).isEqualTo(TransactionState.ONGOING);
            long donePid = listed.get("tx-done").producerId();
            long openPid = listed.get("tx-open").producerId();
            assertThat(donePid).isNotEqualTo(openPid).isNotNegative();
            assertThat(openPid).isNotNegative();
            assertThat(listings(admin, new ListTransactionsOptions().filterStates(List.of(TransactionState.ONGOING))))
                    .containsOnlyKeys("tx-open");
            assertThat(listings(admin, new ListTransactionsOptions().filterProducerIds(List.of(donePid))))
                    .containsOnlyKeys("tx-done");
            assertThat(listings(admin, new ListTransactionsOptions().filterOnDuration(3_600_000)))
                    .as("neither transaction started an hour ago").doesNotContainKeys("tx-done", "tx-open");
            assertThat(listings(admin, new ListTransactionsOptions().filterOnTransactionalIdPattern("tx-d.*")))
                    .containsOnlyKeys("tx-done");

            // DescribeTransactions, at each id's coordinator
            Map<String, TransactionDescription> described = admin.describeTransactions(List.of("tx-done", "tx-open"))
                    .all().get(30, TimeUnit.SECONDS);
            TransactionDescription openTxn = described.get("tx-open");
            assertThat(openTxn.state()).isEqualTo(TransactionState.ONGOING);
            assertThat(openTxn.producerId()).isEqualTo(openPid);
            assertThat(openTxn.producerEpoch()).isZero();
            assertThat(openTxn.transactionTimeoutMs()).isEqualTo(OPEN_TIMEOUT_MS);
            assertThat(openTxn.topicPartitions()).containsExactlyInAnyOrder(TP0, TP1);
            assertThat(openTxn.transactionStartTimeMs().getAsLong()).isBetween(startedBefore,
                    System.currentTimeMillis());
            int coordinator = cluster.awaitLeader("__transaction_state", Math.abs("tx-open".hashCode()) % 3,
                    Duration.ofSeconds(30));
            assertThat(openTxn.coordinatorId()).isEqualTo(coordinator);
            TransactionDescription doneTxn = described.get("tx-done");
            assertThat(doneTxn.state()).isEqualTo(TransactionState.COMPLETE_COMMIT);
            assertThat(doneTxn.producerId()).isEqualTo(donePid);
            assertThat(doneTxn.producerEpoch()).as("bumped by the commit (transaction version 2)").isEqualTo(1);
            assertThat(doneTxn.topicPartitions()).isEmpty();
            assertThatThrownBy(() -> admin.describeTransactions(List.of("tx-never")).all().get(30, TimeUnit.SECONDS))
                    .cause().isInstanceOf(org.apache.kafka.common.errors.TransactionalIdNotFoundException.class);

            // DescribeProducers, at the partition leader
            long firstOpenOffset = firstOffsetOf(bootstrap, "open-0");
            // 4 on Ratis; the multi-Raft engine also writes a LEADER_CHANGE control batch at the start of each term
            assertThat(firstOpenOffset).as("after the 3 committed records and their marker").isGreaterThanOrEqualTo(4);
            assertThat(lastStableOffset(bootstrap)).isEqualTo(firstOpenOffset);
            Map<Long, ProducerState> producers = producers(admin, TP0, new DescribeProducersOptions());
            assertThat(producers).containsOnlyKeys(donePid, openPid);
            ProducerState openState = producers.get(openPid);
            assertThat(openState.producerEpoch()).isZero();
            assertThat(openState.lastSequence()).isZero();
            assertThat(openState.lastTimestamp()).isBetween(startedBefore, System.currentTimeMillis());
            assertThat(openState.currentTransactionStartOffset()).hasValue(firstOpenOffset);
            assertThat(openState.coordinatorEpoch()).as("not kept by FluxMQ").isEmpty();
            ProducerState doneState = producers.get(donePid);
            // the COMMIT marker carries the bumped epoch, which starts the producer's sequences afresh, as in Kafka
            assertThat(doneState.producerEpoch()).isEqualTo(1);
            assertThat(doneState.lastSequence()).isEqualTo(-1);
            assertThat(doneState.currentTransactionStartOffset()).isEmpty();
            assertThat(producers(admin, TP1, new DescribeProducersOptions())).containsOnlyKeys(openPid);
            int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
            int follower = (leader + 1) % 3;
            // a fresh client: Kafka 4.1's Admin sends to a partition leader it has cached whatever brokerId says
            try (Admin fresh = cluster.admin()) {
                assertThatThrownBy(() -> producers(fresh, TP0, new DescribeProducersOptions().brokerId(follower)))
                        .hasRootCauseInstanceOf(NotLeaderOrFollowerException.class);
            }

            // kafka-transactions
            String list = tool(bootstrap, "list");
            assertThat(list).contains("TransactionalId", "Coordinator", "ProducerId", "TransactionState");
            assertThat(row(list, 0, "tx-open")).containsExactly("tx-open", Integer.toString(coordinator),
                    Long.toString(openPid), "Ongoing");
            assertThat(row(list, 0, "tx-done")).contains(Long.toString(donePid), "CompleteCommit");
            String describe = tool(bootstrap, "describe", "--transactional-id", "tx-open");
            List<String> describedRow = row(describe, 1, "tx-open");
            assertThat(describedRow.subList(0, 6)).containsExactly(Integer.toString(coordinator), "tx-open",
                    Long.toString(openPid), "0", "Ongoing", Integer.toString(OPEN_TIMEOUT_MS));
            assertThat(Long.parseLong(describedRow.get(6))).isEqualTo(openTxn.transactionStartTimeMs().getAsLong());
            assertThat(describedRow.get(8).split(",")).containsExactlyInAnyOrder(TP0.toString(), TP1.toString());
            String describeProducers = tool(bootstrap, "describe-producers", "--topic", TOPIC, "--partition", "0");
            assertThat(describeProducers).contains("ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch",
                    "LastSequence", "LastTimestamp", "CurrentTransactionStartOffset");
            assertThat(row(describeProducers, 0, Long.toString(openPid))).containsExactly(Long.toString(openPid), "0",
                    "-1", "0", Long.toString(openState.lastTimestamp()), Long.toString(firstOpenOffset));
            assertThat(row(describeProducers, 0, Long.toString(donePid))).containsExactly(Long.toString(donePid), "1",
                    "-1", "-1", Long.toString(doneState.lastTimestamp()), "None");

            // a second producer with the open id fences the first: the open transaction is aborted, the epoch bumped
            KafkaProducer<String, String> fencing = TransactionsIT.transactional(bootstrap, "tx-open", 60_000);
            fencing.initTransactions();
            open.close(Duration.ZERO);
            TransactionDescription fenced = admin.describeTransactions(List.of("tx-open")).description("tx-open")
                    .get(30, TimeUnit.SECONDS);
            assertThat(fenced.state()).isEqualTo(TransactionState.EMPTY);
            assertThat(fenced.producerId()).isEqualTo(openPid);
            assertThat(fenced.producerEpoch()).as("bumped to abort, then again for the new producer").isEqualTo(2);
            assertThat(fenced.topicPartitions()).isEmpty();
            assertThat(listings(admin, new ListTransactionsOptions().filterStates(List.of(TransactionState.ONGOING))))
                    .isEmpty();
            eventually(() -> {
                ProducerState aborted = producers(admin, TP0, new DescribeProducersOptions()).get(openPid);
                assertThat(aborted.currentTransactionStartOffset()).as("the ABORT marker closed it").isEmpty();
                assertThat(aborted.producerEpoch()).as("the marker's epoch").isEqualTo(1);
                return null;
            });
            fencing.close();
        }
    }

    private static Map<String, TransactionListing> listings(Admin admin, ListTransactionsOptions options)
            throws Exception {
        Collection<TransactionListing> all = admin.listTransactions(options).all().get(30, TimeUnit.SECONDS);
        return all.stream().collect(Collectors.toMap(TransactionListing::transactionalId, Function.identity()));
    }

    private static Map<Long, ProducerState> producers(Admin admin, TopicPartition tp, DescribeProducersOptions options)
            throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        return admin.describeProducers(List.of(tp), options).partitionResult(tp).get(30, TimeUnit.SECONDS)
                .activeProducers().stream().collect(Collectors.toMap(ProducerState::producerId, Function.identity()));
    }

    private static KafkaConsumer<String, String> consumer(String bootstrap, String isolation) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        return new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    }

    /** Partition 0's end offset for read_committed: its last stable offset. */
    private static long lastStableOffset(String bootstrap) {
        try (KafkaConsumer<String, String> consumer = consumer(bootstrap, "read_committed")) {
            return consumer.endOffsets(List.of(TP0)).get(TP0);
        }
    }

    /** The offset of the record with this value on partition 0, read uncommitted. */
    private static long firstOffsetOf(String bootstrap, String value) {
        try (KafkaConsumer<String, String> consumer = consumer(bootstrap, "read_uncommitted")) {
            consumer.assign(List.of(TP0));
            consumer.seekToBeginning(List.of(TP0));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value().equals(value)) {
                        return r.offset();
                    }
                }
            }
        }
        throw new AssertionError(value + " not found on " + TP0);
    }

    /** The cells of the table row whose cell in {@code column} is {@code key}. */
    private static List<String> row(String table, int column, String key) {
        return table.lines().map(l -> List.of(l.trim().split("\\s+")))
                .filter(cells -> cells.size() > column && cells.get(column).equals(key)).findFirst()
                .orElseThrow(() -> new AssertionError("no row with " + key + " in\n" + table));
    }

    /** Runs kafka-transactions in this JVM and returns what it printed; fails unless it exits with 0. */
    private static synchronized String tool(String bootstrap, String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", bootstrap));
        all.addAll(List.of(args));
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        Exit.setExitProcedure((status, message) -> {
            throw new ToolExit(status);
        });
        int status = -1;
        try (PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            System.setErr(capture);
            TransactionsCommand.main(all.toArray(String[]::new));
        } catch (ToolExit e) {
            status = e.status;
        } catch (Exception e) {
            throw new AssertionError("kafka-transactions " + String.join(" ", args) + " failed", e);
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
            Exit.resetExitProcedure();
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        originalOut.println("kafka-transactions " + String.join(" ", args) + " (exit " + status + ")\n" + output);
        assertThat(status).as("kafka-transactions exit status; output:\n%s", output).isZero();
        return output;
    }

    private static final class ToolExit extends RuntimeException {
        final int status;

        ToolExit(int status) {
            super("exit " + status);
            this.status = status;
        }
    }
}
