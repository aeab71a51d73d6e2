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
 * consumer received after its last commit. A producer keeps writing throughout, so a partition consumed by two members
 * at once would show up as duplicates. Once with the classic protocol and cooperative-sticky, once with KIP-848.
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
        Set<ConsumerProcess.Delivery> first = produce(topic, 0);
        // Records keep arriving through every rebalance, so a partition owned twice would show as a duplicate.
        try (BackgroundProducer background = new BackgroundProducer(topic);
             ConsumerProcess a = ConsumerProcess.start(protocol + "-a", node.bootstrap(), topic, group, protocol);
             ConsumerProcess b = ConsumerProcess.start(protocol + "-b", node.bootstrap(), topic, group, protocol)) {
            awaitSplit("a and b split the topic", List.of(a, b));

            try (ConsumerProcess c = ConsumerProcess.start(protocol + "-c", node.bootstrap(), topic, group, protocol)) {
                awaitSplit("a, b and c share the topic", List.of(a, b, c));
                await("c consumes", () -> !c.deliveries().isEmpty() && !c.committed().isEmpty());
                Set<Integer> ofC = c.assignment();
                c.kill();
                long killed = System.nanoTime();

                awaitSplit("a and b own everything after c's session timed out", List.of(a, b));
                Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
                assertThat(ofC).isNotEmpty();
                Thread.sleep(1000);
                Set<ConsumerProcess.Delivery> produced = background.stop();
                produced.addAll(first);
                assertThat(produced.size()).as("records produced during the rebalances")
                        .isGreaterThan(PARTITIONS * PER_PARTITION_PER_PHASE);

                await("every record delivered", () -> undelivered(produced, List.of(a, b), c).isEmpty(),
                        () -> "missing " + undelivered(produced, List.of(a, b), c).stream().limit(20).toList());
                assertThat(duplicates(List.of(a, b), c)).as("records delivered twice (takeover after %s)",
                        takeover).isEmpty();
                Map<Integer, Long> resumed = resumePoints(List.of(a, b), c);
                c.committed().forEach((partition, offset) -> assertThat(resumed.get(partition))
                        .as("survivors resume partition %d at or after c's last reported commit", partition)
                        .isGreaterThanOrEqualTo(offset));
            }
        }
    }

    /** Produces one record every few milliseconds, round-robin over the partitions, until stopped. */
    private static final class BackgroundProducer implements AutoCloseable {
        private final KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of());
        private final Set<ConsumerProcess.Delivery> acked = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final java.util.concurrent.atomic.AtomicBoolean running =
                new java.util.concurrent.atomic.AtomicBoolean(true);
        private final Thread thread;

        BackgroundProducer(String topic) {
            thread = new Thread(() -> {
                for (int i = 0; running.get(); i++) {
                    producer.send(new ProducerRecord<>(topic, i % PARTITIONS, "k", "bg-" + i), (md, e) -> {
                        if (e == null) {
                            acked.add(new ConsumerProcess.Delivery(md.partition(), md.offset()));
                        }
                    });
                    try {
                        Thread.sleep(3);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "background-producer");
            thread.start();
        }

        /** Stops producing; returns every acknowledged (partition, offset). */
        Set<ConsumerProcess.Delivery> stop() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
            producer.flush();
            return new HashSet<>(acked);
        }

        @Override
        public void close() throws InterruptedException {
            stop();
            producer.close();
        }
    }

    /**
     * Where the survivors resumed each partition the killed consumer had read: the first offset they received at or
     * above the killed consumer's first offset there. The killed consumer's reports of its commits may trail its
     * real commits (it can die between a commit and the line saying so), so the resume point says what it committed.
     */
    private static Map<Integer, Long> resumePoints(List<ConsumerProcess> survivors, ConsumerProcess killed) {
        Map<Integer, Long> firstOfKilled = new HashMap<>();
        killed.deliveries().forEach(d -> firstOfKilled.merge(d.partition(), d.offset(), Math::min));
        Map<Integer, Long> resume = new HashMap<>();
        for (ConsumerProcess s : survivors) {
            for (ConsumerProcess.Delivery d : s.deliveries()) {
                Long first = firstOfKilled.get(d.partition());
                if (first != null && d.offset() >= first) {
                    resume.merge(d.partition(), d.offset(), Math::min);
                }
            }
        }
        return resume;
    }

    /**
     * Deliveries per record: all of the survivors', and the killed consumer's below the point where the survivors
     * resumed (what it committed). Its records from there on were never committed and may be delivered again.
     */
    private static Map<ConsumerProcess.Delivery, Integer> counted(List<ConsumerProcess> survivors,
                                                                  ConsumerProcess killed) {
        Map<ConsumerProcess.Delivery, Integer> counts = new HashMap<>();
        for (ConsumerProcess s : survivors) {
            s.deliveries().forEach(d -> counts.merge(d, 1, Integer::sum));
        }
        Map<Integer, Long> resume = resumePoints(survivors, killed);
        for (ConsumerProcess.Delivery d : killed.deliveries()) {
            if (d.offset() < resume.getOrDefault(d.partition(), Long.MAX_VALUE)) {
                counts.merge(d, 1, Integer::sum);
            }
        }
        return counts;
    }

    private static List<ConsumerProcess.Delivery> undelivered(Set<ConsumerProcess.Delivery> produced,
                                                              List<ConsumerProcess> survivors, ConsumerProcess killed) {
        Map<ConsumerProcess.Delivery, Integer> counts = counted(survivors, killed);
        List<ConsumerProcess.Delivery> missing = new ArrayList<>();
        for (ConsumerProcess.Delivery d : produced) {
            if (!counts.containsKey(d)) {
                missing.add(d);
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
        }, () -> consumers.stream().map(c -> c.name() + "=" + c.assignment()).toList().toString());
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        await(what, condition, () -> "");
    }

    private static void await(String what, BooleanSupplier condition, java.util.function.Supplier<String> detail)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what + " " + detail.get());
            }
            Thread.sleep(100);
        }
    }

    /** Writes {@value #PER_PARTITION_PER_PHASE} records to each partition; returns where they were acknowledged. */
    private static Set<ConsumerProcess.Delivery> produce(String topic, int phase) throws Exception {
        List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sends = new ArrayList<>();
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
            for (int i = 0; i < PER_PARTITION_PER_PHASE; i++) {
                for (int p = 0; p < PARTITIONS; p++) {
                    sends.add(producer.send(new ProducerRecord<>(topic, p, "k" + p, "phase-" + phase + "-" + i)));
                }
            }
            producer.flush();
        }
        Set<ConsumerProcess.Delivery> acked = new HashSet<>();
        for (var send : sends) {
            var md = send.get();
            acked.add(new ConsumerProcess.Delivery(md.partition(), md.offset()));
        }
        return acked;
    }
}
