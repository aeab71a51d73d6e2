package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} scraped over HTTP while real Kafka clients work: the per-topic counters move by exactly what
 * was produced and consumed, the Produce request timer and the Raft commit timer exist, the partition and leader
 * gauges match the node's partitions, and every scrape parses as the Prometheus text format. On a 3-node cluster:
 * follower lag per partition and follower, leaders spread over the nodes, and under-replicated partitions while a
 * follower is down; scraped three times during a continuous produce load, the byte, message and Produce request
 * counters rise every time.
 */
class MetricsIT {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final int RECORDS = 1000;

    @TempDir
    Path dir;

    static PrometheusText scrape(String httpAddress) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(httpAddress + "/metrics"))
                .header("Accept", "text/plain").timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        return PrometheusText.parse(response.body());
    }

    /**
     * Scrapes every address until {@code done} holds for the list of scrapes, at most 60 s; returns the last list.
     * The offsets topic is created by the group coordinator's tick after start and its replicas open one by one, so
     * counts that include it are waited for, not read once (a single read saw 11 of 13 partitions in a CI run).
     */
    private static List<PrometheusText> awaitScrapes(List<String> addresses, Predicate<List<PrometheusText>> done)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            List<PrometheusText> scrapes = new ArrayList<>();
            for (String address : addresses) {
                scrapes.add(scrape(address));
            }
            if (done.test(scrapes) || System.nanoTime() > deadline) {
                return scrapes;
            }
            Thread.sleep(100);
        }
    }

    private static double total(List<PrometheusText> scrapes, String name) {
        return scrapes.stream().mapToDouble(s -> sum(s, name)).sum();
    }

    private static double sum(PrometheusText scrape, String name, String... labels) {
        return scrape.find(name, labels).stream().mapToDouble(PrometheusText.Sample::value).sum();
    }

    private static void produce(String bootstrap, String topic) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, Map.of())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i + "-".repeat(100))));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        }
    }

    /** The metric names in the dashboard's queries. */
    private static Set<String> dashboardMetrics() throws Exception {
        String json = Files.readString(Path.of("..", "deploy", "grafana", "fluxmq-dashboard.json"));
        Set<String> names = new TreeSet<>();
        Matcher expr = Pattern.compile("\"expr\": \"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        while (expr.find()) {
            Matcher name = Pattern.compile("\\b((?:fluxmq|jvm|process)_[a-z_]+)").matcher(expr.group(1));
            while (name.find()) {
                names.add(name.group(1));
            }
        }
        assertThat(names).hasSizeGreaterThan(10);
        return names;
    }

    @Test
    void oneNodeCountsWhatClientsProduceAndConsume() throws Exception {
        try (TestNode node = TestNode.start(dir)) {
            node.createTopic("metered", 3);
            awaitScrapes(List.of(node.httpAddress()),
                    s -> total(s, "fluxmq_replica_manager_leader_count") >= 3 + 10);
            PrometheusText before = scrape(node.httpAddress());
            assertThat(before.find("fluxmq_broker_topic_messages_in_total", "topic", "metered")).isEmpty();

            produce(node.bootstrap(), "metered");
            PrometheusText produced = scrape(node.httpAddress());
            assertThat(produced.value("fluxmq_broker_topic_messages_in_total", "topic", "metered")).isEqualTo(RECORDS);
            // every committed batch lands unchanged in a segment: bytes in = the topic's log size, less on multiraft
            // the leader change entry each partition's first (here only) leader wrote, an empty 61-byte control batch
            double logBytes = sum(produced, "fluxmq_log_size_bytes", "topic", "metered");
            double leaderChanges = PartitionDirs.isMultiRaft(dir) ? 3 * 61 : 0;
            assertThat(logBytes).isPositive();
            assertThat(produced.value("fluxmq_broker_topic_bytes_in_total", "topic", "metered"))
                    .isEqualTo(logBytes - leaderChanges);
            assertThat(produced.find("fluxmq_log_segments", "topic", "metered")).hasSize(3)
                    .allSatisfy(s -> assertThat(s.value()).isEqualTo(1));
            assertThat(produced.value("fluxmq_request_seconds_count", "request", "Produce")).isPositive();
            assertThat(produced.value("fluxmq_request_seconds_sum", "request", "Produce")).isPositive();
            assertThat(produced.value("fluxmq_request_seconds", "request", "Produce", "quantile", "0.99")).isPositive();
            assertThat(produced.find("fluxmq_request_seconds", "request", "Produce", "quantile", "0.5")).hasSize(1);
            assertThat(produced.value("fluxmq_raft_commit_latency_seconds_count")).isPositive();
            // per partition: a timer for each replica here, whose counts add up to the node-wide timer's (the same
            // committed batches, nothing else wrote since the producer's last acknowledgement)
            assertThat(produced.find("fluxmq_raft_partition_commit_latency_seconds_count", "topic", "metered"))
                    .hasSize(3);
            assertThat(sum(produced, "fluxmq_raft_partition_commit_latency_seconds_count"))
                    .isEqualTo(produced.value("fluxmq_raft_commit_latency_seconds_count"));
            assertThat(sum(produced, "fluxmq_raft_partition_commit_latency_seconds_sum", "topic", "metered"))
                    .isPositive();

            // one node leads every partition: the topic's 3 and the offsets topic's
            double partitions = produced.value("fluxmq_replica_manager_partition_count");
            assertThat(partitions).isEqualTo(3 + 10);
            assertThat(produced.value("fluxmq_replica_manager_leader_count")).isEqualTo(partitions);
            assertThat(produced.value("fluxmq_replica_manager_under_replicated_partitions")).isZero();
            assertThat(produced.value("fluxmq_controller_offline_partitions_count")).isZero();
            assertThat(produced.value("fluxmq_controller_active_controller_count")).isEqualTo(1);
            assertThat(produced.value("fluxmq_raft_leader_elections_total")).isGreaterThanOrEqualTo(partitions);
            assertThat(produced.find("fluxmq_raft_follower_lag_entries")).as("no followers").isEmpty();
            assertThat(sum(produced, "fluxmq_socket_server_connections_accepted_total")).isPositive();
            assertThat(produced.find("jvm_memory_used_bytes", "area", "heap")).isNotEmpty();
            // GC metrics are bound (their gauges exist at once; the pause timer only after the JVM's first collection,
            // which this JVM may not have had yet: asserting on it failed once in the full suite)
            assertThat(produced.find("jvm_gc_max_data_size_bytes")).isNotEmpty();

            var read = Clients.readAll(node.bootstrap(), "metered", 3, Duration.ofSeconds(60));
            assertThat(read.values().stream().mapToInt(List::size).sum()).isEqualTo(RECORDS);
            PrometheusText consumed = scrape(node.httpAddress());
            assertThat(consumed.value("fluxmq_broker_topic_messages_out_total", "topic", "metered"))
                    .isEqualTo(RECORDS);
            assertThat(consumed.value("fluxmq_broker_topic_bytes_out_total", "topic", "metered")).isEqualTo(logBytes);
            assertThat(consumed.value("fluxmq_request_seconds_count", "request", "Fetch")).isPositive();
            assertThat(consumed.value("fluxmq_broker_topic_messages_in_total", "topic", "metered"))
                    .as("reading adds nothing in").isEqualTo(RECORDS);
        }
    }

    /**
     * Three scrapes of every node while a producer writes continuously, each after at least 100 more records were
     * acknowledged: the topic's bytes and messages in (summed over the leaders) and the Produce request count rise every
     * time, and Produce has a non-zero p99 latency.
     */
    private static void scrapedDuringLoad(TestCluster cluster) throws Exception {
        List<String> addresses = List.of(cluster.httpAddress(0), cluster.httpAddress(1), cluster.httpAddress(2));
        ContinuousProducer load = ContinuousProducer.start(cluster.bootstrap(), "replicated", "load-", 20);
        try {
            double messages = total(scrapes(addresses), "fluxmq_broker_topic_messages_in_total", "topic", "replicated");
            double bytes = total(scrapes(addresses), "fluxmq_broker_topic_bytes_in_total", "topic", "replicated");
            double produces = total(scrapes(addresses), "fluxmq_request_seconds_count", "request", "Produce");
            for (int round = 1; round <= 3; round++) {
                int target = load.acked().size() + 100;
                assertThat(load.awaitAcked(target, Duration.ofSeconds(60))).as("round %d", round)
                        .isGreaterThanOrEqualTo(target);
                List<PrometheusText> during = scrapes(addresses);
                double m = total(during, "fluxmq_broker_topic_messages_in_total", "topic", "replicated");
                double b = total(during, "fluxmq_broker_topic_bytes_in_total", "topic", "replicated");
                double p = total(during, "fluxmq_request_seconds_count", "request", "Produce");
                System.out.printf("MetricsIT: scrape %d during the load: %.0f messages in, %.0f bytes in, %.0f "
                        + "Produce requests%n", round, m, b, p);
                assertThat(m).as("messages in, scrape %d", round).isGreaterThanOrEqualTo(messages + 100);
                assertThat(b).as("bytes in, scrape %d", round).isGreaterThan(bytes);
                assertThat(p).as("Produce requests, scrape %d", round).isGreaterThan(produces);
                assertThat(during.stream().mapToDouble(s -> s.find("fluxmq_request_seconds", "request", "Produce",
                        "quantile", "0.99").stream().mapToDouble(PrometheusText.Sample::value).max().orElse(0))
                        .max().orElse(0)).as("Produce p99 latency").isPositive();
                messages = m;
                bytes = b;
                produces = p;
            }
        } finally {
            assertThat(load.stop(Duration.ofSeconds(30))).isTrue();
        }
        assertThat(load.failed()).isZero();
    }

    private static List<PrometheusText> scrapes(List<String> addresses) throws Exception {
        List<PrometheusText> scrapes = new ArrayList<>();
        for (String address : addresses) {
            scrapes.add(scrape(address));
        }
        return scrapes;
    }

    private static double total(List<PrometheusText> scrapes, String name, String... labels) {
        return scrapes.stream().mapToDouble(s -> sum(s, name, labels)).sum();
    }

    @Test
    void threeNodesShowFollowerLagAndUnderReplicatedPartitionsWhileAFollowerIsDown() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            cluster.createTopic("replicated", 6, (short) 3);
            for (int p = 0; p < 6; p++) {
                cluster.awaitLeader("replicated", p, Duration.ofSeconds(30));
            }
            produce(cluster.bootstrap(), "replicated");

            List<PrometheusText> scrapes = awaitScrapes(
                    List.of(cluster.httpAddress(0), cluster.httpAddress(1), cluster.httpAddress(2)),
                    // a leader publishes its followers' lag on the next in-sync refresh (a fixed delay), so right
                    // after a leadership move it reports none yet: wait for every leader's rows (a CI run saw 0 of 12)
                    s -> total(s, "fluxmq_replica_manager_partition_count") >= 3 * 16
                            && total(s, "fluxmq_replica_manager_leader_count") >= 16
                            && s.stream().allMatch(one -> one.find("fluxmq_raft_follower_lag_entries").size()
                                    == 2 * (int) one.value("fluxmq_replica_manager_leader_count")));
            ToDoubleFunction<String> total = name -> total(scrapes, name);
            assertThat(total.applyAsDouble("fluxmq_replica_manager_partition_count")).as("RF 3").isEqualTo(3 * 16);
            assertThat(total.applyAsDouble("fluxmq_replica_manager_leader_count")).isEqualTo(16);
            assertThat(total.applyAsDouble("fluxmq_controller_active_controller_count")).isEqualTo(1);
            assertThat(total.applyAsDouble("fluxmq_broker_topic_messages_in_total")).isEqualTo(RECORDS);
            for (PrometheusText s : scrapes) {
                // each leader reports its two followers of every partition it leads
                double leaders = s.value("fluxmq_replica_manager_leader_count");
                assertThat(s.find("fluxmq_raft_follower_lag_entries")).hasSize((int) (2 * leaders));
                assertThat(s.find("fluxmq_log_size_bytes", "topic", "replicated")).hasSize(6);
            }

            // every series the Grafana dashboard queries exists (GC pauses only once a collection ran)
            Set<String> names = new HashSet<>();
            scrapes.forEach(s -> s.samples().forEach(sample -> names.add(sample.name())));
            for (String queried : dashboardMetrics()) {
                if (!queried.startsWith("jvm_gc_pause")) {
                    assertThat(names).as("deploy/grafana/fluxmq-dashboard.json queries it").contains(queried);
                }
            }

            scrapedDuringLoad(cluster);

            // kill the node leading the fewest partitions, so the others keep partitions it followed
            int victim = 0;
            for (int i = 1; i < 3; i++) {
                if (scrapes.get(i).value("fluxmq_replica_manager_leader_count")
                        < scrapes.get(victim).value("fluxmq_replica_manager_leader_count")) {
                    victim = i;
                }
            }
            cluster.node(victim).kill();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            double underReplicated = 0;
            double leaders = 0;
            while (System.nanoTime() < deadline && (underReplicated < 16 || leaders < 16)) {
                underReplicated = 0;
                leaders = 0;
                for (int i = 0; i < 3; i++) {
                    if (i != victim) {
                        PrometheusText s = scrape(cluster.httpAddress(i));
                        underReplicated += s.value("fluxmq_replica_manager_under_replicated_partitions");
                        leaders += s.value("fluxmq_replica_manager_leader_count");
                    }
                }
                Thread.sleep(200);
            }
            assertThat(leaders).as("the survivors lead every partition").isEqualTo(16);
            assertThat(underReplicated).as("every partition lacks the dead replica").isEqualTo(16);
        }
    }
}
