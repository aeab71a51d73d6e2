package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole cluster is SIGKILLed within a second of its last CreateTopics, right after records were acknowledged in
 * topics created just before,
 * then restarted, several rounds with random (seeded) delays. A node that reconciled against metadata it had not yet
 * caught up with would remove the new partitions (seen: "Removed partition … (no longer assigned here)" for every
 * partition of the topics just created); here no partition may ever be removed or emptied and every acknowledged
 * record must be read back at its offset.
 */
class WholeClusterRestartIT {
    /** 2 in the suite (time); {@code -Dwholecluster.rounds=4} or more for a longer run (docs/testing.md). */
    private static final int ROUNDS = Integer.getInteger("wholecluster.rounds", 2);
    private static final int TOPICS_PER_ROUND = 3;
    private static final int PARTITIONS = 3;
    private static final int RECORDS_PER_TOPIC = 60;

    record Acked(TopicPartition tp, long offset, String value) {}

    @Test
    void killingEveryNodeRightAfterCreateTopicsRemovesNothing(@TempDir Path dir) throws Exception {
        long seed = Long.getLong("fluxmq.test.seed", System.nanoTime());
        System.out.println("WholeClusterRestartIT seed " + seed + " (rerun with -Dfluxmq.test.seed=" + seed + ")");
        Random random = new Random(seed);
        List<Acked> acked = new ArrayList<>();
        List<String> topics = new ArrayList<>();
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            Map<Integer, Long> logStart = new HashMap<>();
            for (int i = 0; i < cluster.size(); i++) {
                logStart.put(i, logSize(i));
            }
            for (int round = 0; round < ROUNDS; round++) {
                List<String> created = new ArrayList<>();
                for (int t = 0; t < TOPICS_PER_ROUND; t++) {
                    String topic = "wcr-" + round + "-" + t;
                    created.add(topic);
                }
                long lastCreate;
                try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of())) {
                    for (String topic : created) {
                        cluster.createTopic(topic, PARTITIONS, (short) 3);
                    }
                    List<Future<RecordMetadata>> sends = new ArrayList<>();
                    List<String> values = new ArrayList<>();
                    for (String topic : created) {
                        for (int i = 0; i < RECORDS_PER_TOPIC; i++) {
                            String value = topic + "/" + i;
                            values.add(value);
                            sends.add(producer.send(new ProducerRecord<>(topic, i % PARTITIONS, "k" + i, value)));
                        }
                    }
                    producer.flush();
                    for (int i = 0; i < sends.size(); i++) {
                        RecordMetadata md = sends.get(i).get();
                        acked.add(new Acked(new TopicPartition(md.topic(), md.partition()), md.offset(),
                                values.get(i)));
                    }
                }
                String last = "wcr-" + round + "-last";
                cluster.createTopic(last, PARTITIONS, (short) 3); // the metadata change right before the power-off
                lastCreate = System.nanoTime();
                created.add(last);
                topics.addAll(created);
                long sinceCreateMs = (System.nanoTime() - lastCreate) / 1_000_000;
                long delayMs = Math.max(0, random.nextInt(400) - sinceCreateMs);
                Thread.sleep(delayMs); // the random moment of the power-off, not a wait for a condition
                List<Integer> order = new ArrayList<>(List.of(0, 1, 2));
                Collections.shuffle(order, random);
                for (int id : order) {
                    cluster.node(id).sendKill(); // all three signalled first: the power-off is one moment
                }
                long killedAfterMs = (System.nanoTime() - lastCreate) / 1_000_000;
                for (int id : order) {
                    cluster.node(id).awaitExit();
                }
                System.out.printf("round %d: %d records acknowledged, all nodes killed %d ms after the last "
                        + "CreateTopics%n", round, acked.size(), killedAfterMs);
                assertThat(killedAfterMs).as("kill within a second of the last CreateTopics").isLessThan(1000);

                Collections.shuffle(order, random);
                for (int id : order) {
                    cluster.restart(id);
                }
                for (String topic : topics) {
                    for (int p = 0; p < PARTITIONS; p++) {
                        cluster.awaitLeader(topic, p, Duration.ofSeconds(60));
                    }
                }
                assertAllPresent(cluster, topics, acked);
                for (int id = 0; id < cluster.size(); id++) {
                    for (String topic : topics) {
                        for (int p = 0; p < PARTITIONS; p++) {
                            assertThat(PartitionDirs.of(cluster.node(id).dataDir(), topic, p))
                                    .as("segment directory of %s-%d on node %d", topic, p, id).isDirectory();
                        }
                    }
                    String log = newLogLines(id, logStart.get(id));
                    assertThat(log).as("node %d log", id).doesNotContain("Removed partition");
                }
            }
        }
    }

    private static void assertAllPresent(TestCluster cluster, List<String> topics, List<Acked> acked) {
        Map<TopicPartition, Map<Long, String>> byOffset = new HashMap<>();
        for (String topic : topics) {
            Clients.readAll(cluster.bootstrap(), topic, PARTITIONS, Duration.ofSeconds(60)).forEach((tp, records) -> {
                Map<Long, String> m = new HashMap<>();
                for (ConsumerRecord<String, String> r : records) {
                    m.put(r.offset(), r.value());
                }
                byOffset.put(tp, m);
            });
        }
        for (Acked a : acked) {
            assertThat(byOffset.get(a.tp()).get(a.offset()))
                    .as("acknowledged record at %s offset %d", a.tp(), a.offset()).isEqualTo(a.value());
        }
    }

    private static Path log(int id) {
        return Path.of("target", "node-logs", "cluster-node-" + id + ".log");
    }

    private static long logSize(int id) throws Exception {
        return Files.exists(log(id)) ? Files.size(log(id)) : 0;
    }

    private static String newLogLines(int id, long from) throws Exception {
        byte[] all = Files.readAllBytes(log(id));
        return new String(all, (int) Math.min(from, all.length), (int) Math.max(0, all.length - from),
                java.nio.charset.StandardCharsets.UTF_8);
    }
}
