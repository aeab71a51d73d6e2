package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three Java consumers, each in its own JVM, share a 6-partition topic in one group: two split it, a third joins and
 * the partitions spread over all three, the third is SIGKILLed (no LeaveGroup) and after its session times out the
 * two survivors own everything. Every record is delivered, and the only records delivered twice are those the killed
 * consumer received after its last commit. Once with the classic protocol and cooperative-sticky, once with KIP-848.
 */
class ConsumerGroupRebalanceIT {
    private static final int PARTITIONS = 6;
    private static final int PER_PARTITION_PER_PHASE = 100;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dataDir;
    static TestNode node;

    @BeforeAll
    static void startNode() throws Exception {
        node = TestNode.start(dataDir, Map.of("group.consumer.session.timeout.ms", "6000",
                "group.consumer.heartbeat.interval.ms", "500"));
    }

    @AfterAll
    static void stopNode() {
        node.close();
    }

    @ParameterizedTest(name = "group.protocol={0}")
    @ValueSource(strings = {"classic", "consumer"})
    @Timeout(300)
    void partitionsSpreadAndSurvivorsTakeOverAfterAKill(String protocol) throws Exception {
        String topic = "spread-" + protocol;
        String group = "spread-group-" + protocol;
        node.createTopic(topic, PARTITIONS);
        int phases = 0;
        produce(topic, phases++);
        try (ConsumerProcess a = ConsumerProcess.start(protocol + "-a", node.bootstrap(), topic, group, protocol);
             ConsumerProcess b = ConsumerProcess.start(protocol + "-b", node.bootstrap(), topic, group, protocol)) {
            awaitSplit("a and b split the topic", List.of(a, b));
            produce(topic, phases++);

            try (ConsumerProcess c = ConsumerProcess.start(protocol + "-c", node.bootstrap(), topic, group, protocol)) {
                awaitSplit("a, b and c share the topic", List.of(a, b, c));
                produce(topic, phases++);
                await("c consumes", () -> !c.deliveries().isEmpty() && !c.committed().isEmpty());
                Set<Integer> ofC = c.assignment();
                c.kill();
                long killed = System.nanoTime();

                awaitSplit("a and b own everything after c's session timed out", List.of(a, b));
                Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
                assertThat(ofC).isNotEmpty();
                produce(topic, phases++);

                int total = phases * PER_PARTITION_PER_PHASE;
                await("every record delivered", () -> undelivered(total, List.of(a, b), c).isEmpty());
                assertThat(undelivered(total, List.of(a, b), c)).isEmpty();
                assertThat(duplicates(List.of(a, b), c)).as("records delivered twice (kill took over after %s)",
                        takeover).isEmpty();
            }
        }
    }

    /** Records of the survivors plus those the killed consumer committed; its uncommitted ones may be repeated. */
    private static Map<ConsumerProcess.Delivery, Integer> counted(List<ConsumerProcess> survivors,
                                                                  ConsumerProcess killed) {
        Map<ConsumerProcess.Delivery, Integer> counts = new HashMap<>();
        for (ConsumerProcess s : survivors) {
            s.deliveries().forEach(d -> counts.merge(d, 1, Integer::sum));
        }
        Map<Integer, Long> committed = killed.committed();
        for (ConsumerProcess.Delivery d : killed.deliveries()) {
            if (d.offset() < committed.getOrDefault(d.partition(), 0L)) {
                counts.merge(d, 1, Integer::sum);
            }
        }
        return counts;
    }

    private static List<ConsumerProcess.Delivery> undelivered(int perPartition, List<ConsumerProcess> survivors,
                                                              ConsumerProcess killed) {
        Map<ConsumerProcess.Delivery, Integer> counts = counted(survivors, killed);
        List<ConsumerProcess.Delivery> missing = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            for (long o = 0; o < perPartition; o++) {
                if (!counts.containsKey(new ConsumerProcess.Delivery(p, o))) {
                    missing.add(new ConsumerProcess.Delivery(p, o));
                }
            }
        }
        return missing;
    }

    private static List<ConsumerProcess.Delivery> duplicates(List<ConsumerProcess> survivors, ConsumerProcess killed) {
        return counted(survivors, killed).entrySet().stream().filter(e -> e.getValue() > 1)
                .map(Map.Entry::getKey).sorted(java.util.Comparator.comparingInt(ConsumerProcess.Delivery::partition)
                        .thenComparingLong(ConsumerProcess.Delivery::offset)).toList();
    }

    /** Waits until the consumers' reported assignments are non-empty, disjoint, cover the topic and are balanced. */
    private static void awaitSplit(String what, List<ConsumerProcess> consumers) throws InterruptedException {
        await(what, () -> {
            Set<Integer> union = new HashSet<>();
            int sum = 0;
            for (ConsumerProcess c : consumers) {
                Set<Integer> owned = c.assignment();
                if (owned.size() != PARTITIONS / consumers.size()) {
                    return false;
                }
                union.addAll(owned);
                sum += owned.size();
            }
            return sum == PARTITIONS && union.size() == PARTITIONS;
        });
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("timed out waiting until %s", what).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static void produce(String topic, int phase) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
            for (int i = 0; i < PER_PARTITION_PER_PHASE; i++) {
                for (int p = 0; p < PARTITIONS; p++) {
                    producer.send(new ProducerRecord<>(topic, p, "k" + p, "phase-" + phase + "-" + i));
                }
            }
            producer.flush();
        }
    }
}
