package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kafka Streams 4.1 word count with {@code processing.guarantee=exactly_once_v2} on a three-process cluster, with the
 * default (RocksDB) state store: a third of the lines of a known text are in a 3-partition RF=3 input topic before the
 * application starts, the rest follow from a paced idempotent producer while it runs. Two stream threads, so two
 * transactional producers; Streams creates a repartition topic and a compacted changelog topic with RF=3, purges the
 * repartition topic with DeleteRecords every second and commits its offsets with the transactions. Two nodes are
 * SIGKILLed in turn while lines still arrive, each restarted once counting has gone on without it and every partition
 * is back in sync: first (at 35 % counted) the node coordinating the application's group, then one coordinating one of
 * its transactions, another node if one does; the test prints what each held (transactions, group, partition
 * leaders). The output topic, read with {@code read_committed}, must end with each word's exact count, and each
 * word's counts must rise strictly one after the other: a count written twice, or above the word's total, is a record
 * processed twice.
 */
class KafkaStreamsEosIT {
    private static final String APP = "wordcount";
    private static final String INPUT = "lines";
    private static final String OUTPUT = "word-counts";
    private static final int PARTITIONS = 3;
    private static final int LINES = 3_000;
    /** Lines written before Kafka Streams starts; the others follow, paced, while it runs. */
    private static final int BACKLOG = 1_000;
    /** The pacing of the lines written while Kafka Streams runs: 67 pauses, about 17 s. */
    private static final int LINES_PER_PAUSE = 30;
    private static final Duration PAUSE = Duration.ofMillis(250);
    private static final List<String> WORDS = List.of("ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis",
            "jay", "koi", "lynx", "mole");
    private static final Duration STEP = Duration.ofSeconds(60);

    @Test
    void wordCountIsExactAcrossCoordinatorKills(@TempDir Path dir) throws Exception {
        Map<String, Long> expected = expectedCounts();
        long totalWords = expected.values().stream().mapToLong(Long::longValue).sum();
        try (TestCluster cluster = TestCluster.start(3, dir);
             Admin admin = cluster.admin()) {
            cluster.createTopic(INPUT, PARTITIONS, (short) 3);
            cluster.createTopic(OUTPUT, PARTITIONS, (short) 3);
            String bootstrap = cluster.bootstrap();
            Failures failures = new Failures();
            produceLines(bootstrap, 0, BACKLOG, false, failures);
            assertThat(failures.all()).as("failures writing the backlog").isEmpty();

            long start = System.nanoTime();
            KafkaStreams app = wordCount(bootstrap, dir.resolve("streams"), failures, start);
            Thread producer = new Thread(() -> produceLines(bootstrap, BACKLOG, LINES, true, failures),
                    "lines-producer");
            try (CommittedCounts output = new CommittedCounts(bootstrap)) {
                app.start();
                awaitRunning(app, failures);
                producer.start();
                System.out.printf("%.1f s: Kafka Streams runs; %d lines written before, %d more now at %d per %d ms%n",
                        seconds(start), BACKLOG, LINES - BACKLOG, LINES_PER_PAUSE, PAUSE.toMillis());

                output.awaitCounted(totalWords * 7 / 20, failures, app);
                int first = groupCoordinator(admin);
                killAndRestart(cluster, admin, first, Math.max(output.counted() + totalWords / 10, totalWords / 2),
                        output, failures, app, start);
                int second = transactionCoordinator(admin, first);
                killAndRestart(cluster, admin, second, Math.min(output.counted() + totalWords / 10, totalWords),
                        output, failures, app, start);
                System.out.printf("%.1f s: the producer %s%n", seconds(start),
                        producer.isAlive() ? "still writes" : "is done");

                producer.join(STEP.toMillis());
                assertThat(producer.isAlive()).as("the producer finished within %s", STEP).isFalse();
                output.awaitCounted(totalWords, failures, app);
                System.out.printf("%.1f s: all %d words counted%n", seconds(start), totalWords);
                app.close(Duration.ofSeconds(30));
                assertThat(app.state()).isEqualTo(KafkaStreams.State.NOT_RUNNING);
                assertThat(failures.all()).as("stream thread or producer failures").isEmpty();

                output.drain();
                assertThat(output.latest()).as("each word's last committed count").isEqualTo(expected);
                assertThat(output.highest()).as("no count above the word's total").isEqualTo(expected);
                assertThat(output.notRising()).as("counts that did not rise above the word's previous count").isEmpty();
                System.out.printf("%.1f s: %d committed count records, each word's exact count%n", seconds(start),
                        output.records());
                Map<TopicPartition, Long> purged = logStartOffsets(admin, APP + "-counts-repartition");
                System.out.printf("repartition topic purged by Kafka Streams up to %s%n", purged);
                assertThat(purged.values()).as("log start offsets after DeleteRecords").allMatch(offset -> offset > 0);
            } finally {
                app.close(Duration.ofSeconds(30));
                producer.join(STEP.toMillis());
            }
        }
    }

    /** The words of line {@code i}: one to four of {@link #WORDS}. */
    private static List<String> line(int i) {
        List<String> words = new ArrayList<>();
        for (int j = 0; j <= i % 4; j++) {
            words.add(WORDS.get((i * 7 + j * 5 + i / 97) % WORDS.size()));
        }
        return words;
    }

    private static Map<String, Long> expectedCounts() {
        Map<String, Long> counts = new TreeMap<>();
        for (int i = 0; i < LINES; i++) {
            line(i).forEach(w -> counts.merge(w, 1L, Long::sum));
        }
        return counts;
    }

    /**
     * Sends lines [from, to) once with a default (idempotent, acks=all) producer, paced or not, and waits for every
     * acknowledgement; failures go to {@code failures}.
     */
    private static void produceLines(String bootstrap, int from, int to, boolean paced, Failures failures) {
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, Map.of())) {
            for (int i = from; i < to; i++) {
                producer.send(new ProducerRecord<>(INPUT, "line-" + i, String.join(" ", line(i))), (md, e) -> {
                    if (e != null) {
                        failures.add(e);
                    }
                });
                if (paced && (i + 1 - from) % LINES_PER_PAUSE == 0) {
                    Thread.sleep(PAUSE.toMillis()); // the producer's own pace, not a wait for anything
                }
            }
            producer.flush();
        } catch (Exception | Error e) {
            failures.add(e);
        }
    }

    /** Waits for Kafka Streams' first RUNNING (its internal topics created, its tasks assigned). */
    private static void awaitRunning(KafkaStreams app, Failures failures) throws InterruptedException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (app.state() != KafkaStreams.State.RUNNING) {
            assertThat(failures.all()).as("stream thread failures").isEmpty();
            assertThat(System.nanoTime()).as("Kafka Streams RUNNING within %s (%s)", STEP, app.state())
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static KafkaStreams wordCount(String bootstrap, Path stateDir, Failures failures, long start) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream(INPUT)
                .flatMapValues(line -> Arrays.asList(line.split(" ")))
                .groupBy((key, word) -> word)
                .count(Materialized.as("counts"))
                .toStream()
                .to(OUTPUT, Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, APP);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 3);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        // after each commit, at most every second, DeleteRecords on the repartition topic up to the committed offsets
        p.put(StreamsConfig.REPARTITION_PURGE_INTERVAL_MS_CONFIG, 1_000);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        KafkaStreams streams = new KafkaStreams(builder.build(), p);
        streams.setUncaughtExceptionHandler(e -> {
            failures.add(e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.setStateListener((now, before) ->
                System.out.printf("%.1f s: Kafka Streams %s -> %s%n", seconds(start), before, now));
        return streams;
    }

    /**
     * SIGKILLs {@code node}, waits until the output counts {@code words} words without it, restarts it and waits until
     * every partition the application uses (its topics, Streams' internal topics, the offsets and transaction state
     * topics) has all three replicas in sync again.
     */
    private static void killAndRestart(TestCluster cluster, Admin admin, int node, long words, CommittedCounts output,
                                       Failures failures, KafkaStreams app, long start) throws Exception {
        System.out.printf("%.1f s: %d words counted; SIGKILL node %d, which %s%n", seconds(start), output.counted(),
                node, roles(admin, node));
        cluster.node(node).kill();
        long killed = System.nanoTime();
        output.awaitCounted(words, failures, app);
        System.out.printf("%.1f s: %d words counted, %.1f s after the kill; restarting node %d%n", seconds(start),
                output.counted(), seconds(killed), node);
        cluster.restart(node);
        List<String> topics = List.of(INPUT, OUTPUT, APP + "-counts-repartition", APP + "-counts-changelog",
                "__consumer_offsets", "__transaction_state");
        long deadline = System.nanoTime() + STEP.toNanos();
        while (true) {
            List<String> lagging = new ArrayList<>();
            for (TopicDescription d : admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).values()) {
                d.partitions().stream().filter(p -> p.isr().size() < 3)
                        .forEach(p -> lagging.add(d.name() + "-" + p.partition()));
            }
            if (lagging.isEmpty()) {
                break;
            }
            assertThat(System.nanoTime()).as("all replicas in sync within %s; not yet: %s", STEP, lagging)
                    .isLessThan(deadline);
            output.poll();
        }
        System.out.printf("%.1f s: node %d back, every partition fully in sync; %d words counted%n", seconds(start),
                node, output.counted());
    }

    /** The node coordinating the application's consumer group. */
    private static int groupCoordinator(Admin admin) throws Exception {
        return admin.describeConsumerGroups(List.of(APP)).all().get(30, TimeUnit.SECONDS).get(APP).coordinator().id();
    }

    /**
     * The node coordinating one of the application's transactions: the first (by id) whose coordinator is not
     * {@code notNode} (the node killed before), else the first; a transaction that is open first.
     */
    private static int transactionCoordinator(Admin admin, int notNode) throws Exception {
        List<String> ids = admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
                .map(TransactionListing::transactionalId).filter(id -> id.startsWith(APP + "-")).sorted().toList();
        assertThat(ids).as("the application's transactional ids").isNotEmpty();
        Map<String, TransactionDescription> described = admin.describeTransactions(ids).all().get(30, TimeUnit.SECONDS);
        Comparator<String> preference = Comparator
                .comparing((String id) -> described.get(id).coordinatorId() == notNode)
                .thenComparing(id -> described.get(id).state() != TransactionState.ONGOING);
        return described.get(ids.stream().sorted(preference).findFirst().orElseThrow()).coordinatorId();
    }

    /** What the node does for the application: transactions it coordinates, the group, partitions it leads. */
    private static String roles(Admin admin, int node) throws Exception {
        List<String> roles = new ArrayList<>();
        Map<String, TransactionDescription> txns = admin.describeTransactions(admin.listTransactions().all()
                .get(30, TimeUnit.SECONDS).stream().map(TransactionListing::transactionalId)
                .filter(id -> id.startsWith(APP + "-")).toList()).all().get(30, TimeUnit.SECONDS);
        txns.forEach((id, d) -> {
            if (d.coordinatorId() == node) {
                roles.add("coordinates " + id + " (" + d.state() + ", " + d.topicPartitions().size() + " partitions)");
            }
        });
        if (admin.describeConsumerGroups(List.of(APP)).all().get(30, TimeUnit.SECONDS).get(APP).coordinator().id()
                == node) {
            roles.add("coordinates group " + APP);
        }
        List<String> topics = List.of(INPUT, OUTPUT, APP + "-counts-repartition", APP + "-counts-changelog");
        List<String> led = new ArrayList<>();
        for (TopicDescription d : admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).values()) {
            d.partitions().stream().filter(p -> p.leader() != null && p.leader().id() == node)
                    .forEach(p -> led.add(d.name() + "-" + p.partition()));
        }
        roles.add("leads " + led);
        return String.join("; ", roles);
    }

    private static Map<TopicPartition, Long> logStartOffsets(Admin admin, String topic) throws Exception {
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            earliest.put(new TopicPartition(topic, p), OffsetSpec.earliest());
        }
        Map<TopicPartition, Long> out = new TreeMap<>(Comparator.comparingInt(TopicPartition::partition));
        admin.listOffsets(earliest).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /** Failures from threads other than the test's. */
    private static final class Failures {
        private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

        void add(Throwable t) {
            failures.add(t);
        }

        List<Throwable> all() {
            return List.copyOf(failures);
        }
    }

    /**
     * A {@code read_committed} consumer of the output topic from its beginning, keeping each word's last and highest
     * count and every count that did not rise above the word's previous one.
     */
    private static final class CommittedCounts implements AutoCloseable {
        private final KafkaConsumer<String, Long> consumer;
        private final List<TopicPartition> partitions = new ArrayList<>();
        private final Map<String, Long> latest = new TreeMap<>();
        private final Map<String, Long> highest = new TreeMap<>();
        private final List<String> notRising = new ArrayList<>();
        private long records;

        CommittedCounts(String bootstrap) {
            Properties c = new Properties();
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            consumer = new KafkaConsumer<>(c, new StringDeserializer(), new LongDeserializer());
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition(OUTPUT, p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }

        /** Polls until the last counts add up to at least {@code words}, failing on a Streams failure or after STEP. */
        void awaitCounted(long words, Failures failures, KafkaStreams streams) {
            awaitPolling(() -> counted() >= words, () -> {
                assertThat(failures.all()).as("stream thread or producer failures").isEmpty();
                assertThat(streams.state()).as("Kafka Streams' state").isNotIn(KafkaStreams.State.ERROR,
                        KafkaStreams.State.PENDING_ERROR, KafkaStreams.State.NOT_RUNNING);
            }, words + " words counted");
        }

        /** Polls until the position in each partition reaches its (read_committed) end offset. */
        void drain() {
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            awaitPolling(() -> partitions.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp)), () -> { },
                    "the output read up to " + ends);
        }

        private void awaitPolling(BooleanSupplier done, Runnable check, String what) {
            long deadline = System.nanoTime() + STEP.toNanos();
            while (!done.getAsBoolean()) {
                check.run();
                assertThat(System.nanoTime()).as("%s within %s (counted %d: %s)", what, STEP, counted(), latest)
                        .isLessThan(deadline);
                poll();
            }
        }

        /** One poll of at most 200 ms, its records taken into the counts. */
        void poll() {
            for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(200))) {
                Long previous = latest.put(r.key(), r.value());
                if (previous != null && r.value() <= previous) {
                    notRising.add(r.key() + ": " + previous + " then " + r.value() + " at " + r.partition() + "/"
                            + r.offset());
                }
                highest.merge(r.key(), r.value(), Math::max);
                records++;
            }
        }

        long counted() {
            return latest.values().stream().mapToLong(Long::longValue).sum();
        }

        Map<String, Long> latest() {
            return new HashMap<>(latest);
        }

        Map<String, Long> highest() {
            return new HashMap<>(highest);
        }

        List<String> notRising() {
            return notRising;
        }

        long records() {
            return records;
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
