package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10: the internal topics are compacted, so a coordinator that takes over loads each key's latest record, not
 * every record ever written. A 3-node cluster with one offsets partition and one transaction state partition of
 * 64 KiB segments: a group commits offsets of three partitions {@value #COMMITS} times and a transactional producer
 * runs {@value #TRANSACTIONS} transactions; every replica's cleaner compacts both partitions' sealed segments; the
 * node leading the offsets partition is killed and the new coordinator loads a fraction of the records with the last
 * commit intact; after it rejoined, the node leading the transaction state is killed and the new coordinator loads a
 * fraction of the records, knows the producer's epoch (a new producer with the same id gets the next one and
 * commits, bumping it once more).
 */
class InternalTopicsCompactionIT {
    private static final String OFFSETS = "__consumer_offsets";
    private static final String STATE = "__transaction_state";
    private static final String DATA = "data";
    private static final String GROUP = "compacting";
    private static final String TXN_ID = "compacting-tx";
    private static final int COMMITS = 1_500;
    private static final int TRANSACTIONS = 400;
    private static final Duration STEP = Duration.ofSeconds(120);
    private static final Map<String, String> SETTINGS = Map.of(NodeConfig.PARTITION_ENGINE, NodeConfig.MULTIRAFT,
            "offsets.topic.num.partitions", "1", "transaction.state.log.num.partitions", "1",
            "message.max.bytes", "65536", "offsets.topic.segment.bytes", "65536",
            "transaction.state.log.segment.bytes", "65536", "log.cleaner.backoff.ms", "300");

    @Test
    @Timeout(420)
    void coordinatorsLoadTheCompactedInternalTopics(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, SETTINGS); Admin admin = cluster.admin()) {
            cluster.createTopic(DATA, 3, (short) 3);
            Map<TopicPartition, OffsetAndMetadata> last = commitOffsets(cluster.bootstrap());
            int epoch = runTransactions(cluster.bootstrap());
            for (String topic : List.of(OFFSETS, STATE)) {
                assertThat(admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, topic)))
                        .all().get(30, TimeUnit.SECONDS).values().iterator().next().get("cleanup.policy"))
                        .extracting(ConfigEntry::value).isEqualTo("compact");
            }
            int offsetRecords = 3 * COMMITS;
            int stateRecords = 3 * TRANSACTIONS; // ongoing, prepare commit, complete commit
            for (int node = 0; node < 3; node++) {
                awaitCompacted(dir, node, OFFSETS, offsetRecords);
                awaitCompacted(dir, node, STATE, stateRecords);
            }

            int groupLeader = cluster.awaitLeader(OFFSETS, 0, STEP);
            int loaded = killAndAwaitLoad(cluster, groupLeader, OFFSETS);
            assertThat(loaded).as("records the new group coordinator loaded of %d written", offsetRecords)
                    .isPositive().isLessThan(offsetRecords / 3);
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP)
                    .partitionsToOffsetAndMetadata().get(60, TimeUnit.SECONDS);
            assertThat(committed).as("the group's offsets after the move").isEqualTo(last);

            cluster.restart(groupLeader);
            awaitFullIsr(admin);
            int stateLeader = cluster.awaitLeader(STATE, 0, STEP);
            loaded = killAndAwaitLoad(cluster, stateLeader, STATE);
            assertThat(loaded).as("records the new transaction coordinator loaded of %d written", stateRecords)
                    .isPositive().isLessThan(stateRecords / 3);
            TransactionDescription before = admin.describeTransactions(List.of(TXN_ID)).all()
                    .get(60, TimeUnit.SECONDS).get(TXN_ID);
            assertThat(before.producerEpoch()).as("the producer's epoch after the move").isEqualTo(epoch);
            try (KafkaProducer<String, String> next = transactional(cluster.bootstrap())) {
                next.initTransactions();
                next.beginTransaction();
                next.send(new ProducerRecord<>(DATA, 0, "after", "move")).get(60, TimeUnit.SECONDS);
                next.commitTransaction();
            }
            TransactionDescription after = admin.describeTransactions(List.of(TXN_ID)).all()
                    .get(60, TimeUnit.SECONDS).get(TXN_ID);
            assertThat(after.producerId()).isEqualTo(before.producerId());
            // InitProducerId bumps the epoch, and so does the commit (transaction version 2, which the clients use)
            assertThat(after.producerEpoch()).as("the next producer's epoch, after its commit").isEqualTo(epoch + 2);
        }
    }

    /** Commits offsets i of data-0..2 for i in 1..COMMITS; returns the last commit. */
    private static Map<TopicPartition, OffsetAndMetadata> commitOffsets(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            for (int i = 1; i <= COMMITS; i++) {
                commit = new HashMap<>();
                for (int partition = 0; partition < 3; partition++) {
                    commit.put(new TopicPartition(DATA, partition), new OffsetAndMetadata(i, "commit " + i));
                }
                consumer.commitSync(commit, STEP);
            }
        }
        return commit;
    }

    /** Runs TRANSACTIONS transactions of one record each; returns the producer's epoch. */
    private static int runTransactions(String bootstrap) throws Exception {
        try (KafkaProducer<String, String> producer = transactional(bootstrap)) {
            producer.initTransactions();
            for (int i = 0; i < TRANSACTIONS; i++) {
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(DATA, i % 3, "k" + i, "v" + i));
                producer.commitTransaction();
            }
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            return admin.describeTransactions(List.of(TXN_ID)).all().get(60, TimeUnit.SECONDS).get(TXN_ID)
                    .producerEpoch();
        }
    }

    private static KafkaProducer<String, String> transactional(String bootstrap) {
        return Clients.producer(bootstrap, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TXN_ID));
    }

    /** Waits until node {@code node}'s replica of the topic's partition 0 holds at most a third of what was written. */
    private static void awaitCompacted(Path dir, int node, String topic, int written) throws Exception {
        Path partition = PartitionDirs.of(dir.resolve("node-" + node), topic, 0);
        long deadline = System.nanoTime() + STEP.toNanos();
        int records = Integer.MAX_VALUE;
        while (System.nanoTime() < deadline) {
            try {
                records = CompactionIT.recordsPerKey(partition).values().stream().mapToInt(Integer::intValue).sum();
            } catch (java.io.IOException e) { // a segment swapped while listed: look again
                continue;
            }
            if (records < written / 3) {
                System.out.printf("node %d: %s-0 compacted to %d of %d records%n", node, topic, records, written);
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("node " + node + "'s " + topic + "-0 still holds " + records + " of " + written
                + " records after " + STEP);
    }

    /** SIGKILLs {@code node}; returns how many records the next coordinator of the topic's partition 0 loaded. */
    private static int killAndAwaitLoad(TestCluster cluster, int node, String topic) throws Exception {
        Map<Integer, Long> logFrom = new HashMap<>();
        for (int i = 0; i < 3; i++) {
            if (i != node) {
                logFrom.put(i, cluster.node(i).logLength());
            }
        }
        cluster.node(node).kill();
        Pattern loaded = Pattern.compile("Loaded (\\d+) records of " + topic + "-0 ");
        long deadline = System.nanoTime() + STEP.toNanos();
        while (System.nanoTime() < deadline) {
            for (Map.Entry<Integer, Long> e : logFrom.entrySet()) {
                Matcher m = loaded.matcher(cluster.node(e.getKey()).logSince(e.getValue()));
                if (m.find()) {
                    System.out.printf("node %d killed; node %d loaded %s records of %s-0%n", node, e.getKey(),
                            m.group(1), topic);
                    return Integer.parseInt(m.group(1));
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no node loaded " + topic + "-0 within " + STEP + " of node " + node + "'s kill");
    }

    private static void awaitFullIsr(Admin admin) throws Exception {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (true) {
            Map<String, TopicDescription> topics = admin.describeTopics(List.of(OFFSETS, STATE, DATA))
                    .allTopicNames().get(30, TimeUnit.SECONDS);
            if (topics.values().stream().flatMap(t -> t.partitions().stream()).allMatch(p -> p.isr().size() == 3)) {
                return;
            }
            assertThat(System.nanoTime()).as("every replica in sync within %s: %s", STEP, topics)
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }
}
