package io.fluxmq.node;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Checks against a running docker compose cluster, from the host through its published ports (run by
 * deploy/compose-test.sh; every wait is bounded). Exit code 0 when the check held, 1 when it failed.
 * <pre>
 * roundtrip BOOTSTRAP TOPIC RECORDS                 default producer to a new RF=3 topic, a consumer group reads all
 * create-topic BOOTSTRAP TOPIC PARTITIONS           an RF=3 topic (for the kcat check)
 * failover BOOTSTRAP NETWORK node0=ID node1=ID node2=ID   kill, pause, disconnect under a continuous producer
 * rolling BOOTSTRAP node0=ID node1=ID node2=ID      restart every node in turn under a continuous producer
 * secure BOOTSTRAP SCRAM_PROPS PLAIN_PROPS TOPIC RECORDS   against the secured cluster (docker-compose.secure.yml):
 *     the roundtrip over SASL_SSL with the SCRAM client settings, DescribeCluster over the PLAIN ones; a wrong
 *     password fails with SaslAuthenticationException, a client not trusting the CA with SslAuthenticationException
 * </pre>
 * Faults are plain docker commands on the container ids; after each, the cluster must be whole again (container
 * healthy, node listed by the cluster, every partition with three in-sync replicas) before the next. The consistency
 * check is {@link Consistency}, the one the in-process fault tests use. {@link ContainerIT} uses the same steps on
 * containers it starts itself.
 */
public final class ComposeChecks {
    private static final int PARTITIONS = 6;
    private static final Duration BOUND = Duration.ofSeconds(180);
    /** Longer than the election timeout (1-2 s) and the session timeout (6 s): the node is voted out and marked DOWN. */
    private static final long OUTAGE_MS = 8000;
    private static final long MAX_OUTAGE_MS = 30_000;

    private final String bootstrap;
    /** Kafka client settings every client of the check gets (security.protocol, sasl.*, ssl.*); empty: plaintext. */
    private final Map<String, Object> client;
    private final Map<Integer, String> containers = new LinkedHashMap<>();

    /** {@code nodeArgs}: {@code nodeN=CONTAINER_ID} for each node. */
    ComposeChecks(String bootstrap, List<String> nodeArgs) {
        this(bootstrap, nodeArgs, Map.of());
    }

    ComposeChecks(String bootstrap, List<String> nodeArgs, Map<String, Object> client) {
        this.bootstrap = bootstrap;
        this.client = Map.copyOf(client);
        for (String a : nodeArgs) {
            int eq = a.indexOf('=');
            containers.put(Integer.parseInt(a.substring("node".length(), eq)), a.substring(eq + 1));
        }
    }

    public static void main(String[] args) throws Exception {
        int exit;
        try {
            exit = run(args);
        } catch (AssertionError e) {
            System.out.println("FAILED: " + e.getMessage());
            exit = 1;
        }
        System.exit(exit);
    }

    private static int run(String[] args) throws Exception {
        List<String> rest = List.of(args).subList(Math.min(2, args.length), args.length);
        switch (args.length < 2 ? "" : args[0]) {
            case "roundtrip" -> new ComposeChecks(args[1], List.of()).roundTrip(rest.get(0), Integer.parseInt(rest.get(1)));
            case "create-topic" -> new ComposeChecks(args[1], List.of()).createTopic(rest.get(0),
                    Integer.parseInt(rest.get(1)));
            case "failover" -> new ComposeChecks(args[1], rest.subList(1, rest.size())).failover(rest.get(0));
            case "rolling" -> new ComposeChecks(args[1], rest).rolling();
            case "secure" -> secure(args[1], properties(rest.get(0)), properties(rest.get(1)), rest.get(2),
                    Integer.parseInt(rest.get(3)));
            default -> {
                System.err.println(
                        "usage: ComposeChecks roundtrip|create-topic|failover|rolling|secure BOOTSTRAP ...");
                return 2;
            }
        }
        return 0;
    }

    private Admin admin() {
        Map<String, Object> p = new HashMap<>(client);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }

    /**
     * The secured cluster: a producer and a consumer group over SASL_SSL with SCRAM-SHA-512 ({@code scram}: the
     * user must exist, compose-test.sh adds it with kafka-configs), the cluster described over PLAIN ({@code plain});
     * then a wrong password for each mechanism must fail with {@link SaslAuthenticationException} and a client that
     * does not trust the cluster's CA with {@link SslAuthenticationException}, each within {@link #REFUSAL_BOUND}.
     */
    static void secure(String bootstrap, Map<String, Object> scram, Map<String, Object> plain, String topic,
                       int records) throws Exception {
        ComposeChecks overPlain = new ComposeChecks(bootstrap, List.of(), plain);
        try (Admin admin = overPlain.admin()) {
            List<Node> nodes = List.copyOf(admin.describeCluster().nodes().get(60, TimeUnit.SECONDS));
            System.out.printf("SECURE DescribeCluster over SASL_SSL with %s: %s%n",
                    plain.get(SaslConfigs.SASL_MECHANISM), nodes);
            // the EXTERNAL listener the host's clients connect to answers with the published addresses
            if (nodes.size() != 3 || !nodes.stream().allMatch(n -> n.host().equals("127.0.0.1"))) {
                throw new AssertionError("DescribeCluster listed " + nodes + ", not three nodes on 127.0.0.1");
            }
        }
        new ComposeChecks(bootstrap, List.of(), scram).roundTrip(topic, records);

        for (Map<String, Object> settings : List.of(scram, plain)) {
            Map<String, Object> wrong = new HashMap<>(settings);
            wrong.put(SaslConfigs.SASL_JAAS_CONFIG, String.valueOf(settings.get(SaslConfigs.SASL_JAAS_CONFIG))
                    .replaceAll("password=\"[^\"]*\"", "password=\"wrong-password\""));
            expectRefusal("a wrong password with " + settings.get(SaslConfigs.SASL_MECHANISM),
                    SaslAuthenticationException.class, () -> new ComposeChecks(bootstrap, List.of(), wrong));
        }
        Map<String, Object> untrusting = new HashMap<>(scram);
        untrusting.keySet().removeIf(k -> k.startsWith("ssl.truststore."));
        expectRefusal("a client that does not trust the cluster's CA (the JDK's CAs)",
                SslAuthenticationException.class, () -> new ComposeChecks(bootstrap, List.of(), untrusting));
    }

    /** How long a refused client may take to fail: a hang would show as a timeout instead. */
    private static final Duration REFUSAL_BOUND = Duration.ofSeconds(30);

    /** An Admin with the given checks' settings must fail DescribeCluster with {@code expected}, quickly. */
    private static void expectRefusal(String what, Class<? extends Exception> expected,
                                      Supplier<ComposeChecks> checks) throws InterruptedException {
        long start = System.nanoTime();
        Throwable failure;
        try (Admin admin = checks.get().admin()) {
            admin.describeCluster().nodes().get(REFUSAL_BOUND.toMillis(), TimeUnit.MILLISECONDS);
            failure = null;
        } catch (ExecutionException e) {
            failure = e.getCause();
        } catch (TimeoutException e) {
            failure = e;
        }
        long took = ms(start, System.nanoTime());
        if (!expected.isInstance(failure)) {
            throw new AssertionError(what + ": expected " + expected.getSimpleName() + ", got "
                    + (failure == null ? "an answer" : failure) + " after " + took + " ms");
        }
        System.out.printf("SECURE %s: %s after %d ms (%s)%n", what, expected.getSimpleName(), took,
                failure.getMessage());
    }

    /** A Kafka client properties file, as Kafka's tools take it ({@code --command-config}). */
    private static Map<String, Object> properties(String file) throws IOException {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(Path.of(file))) {
            p.load(in);
        }
        Map<String, Object> settings = new HashMap<>();
        p.stringPropertyNames().forEach(k -> settings.put(k, p.getProperty(k)));
        return settings;
    }

    void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 3))).all().get(60, TimeUnit.SECONDS);
        }
        awaitWhole(topic);
        System.out.printf("TOPIC %s: %d partitions, 3 replicas each, all in sync%n", topic, partitions);
    }

    /** A default producer writes {@code records}; one member of a new consumer group must read each once. */
    void roundTrip(String topic, int records) throws Exception {
        createTopic(topic, PARTITIONS);
        long start = System.nanoTime();
        Set<String> sent = ConcurrentHashMap.newKeySet();
        Map<String, ContinuousProducer.Ack> acked = new ConcurrentHashMap<>();
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, client)) {
            for (int i = 0; i < records; i++) {
                String value = "rt" + i;
                sent.add(value);
                producer.send(new ProducerRecord<>(topic, "k" + i, value), (md, e) -> {
                    if (e == null) {
                        acked.put(value, new ContinuousProducer.Ack(new TopicPartition(topic, md.partition()),
                                md.offset(), 0));
                    }
                });
            }
            producer.flush();
        }
        long produced = System.nanoTime();
        Map<TopicPartition, List<ConsumerRecord<String, String>>> read = new HashMap<>();
        Properties c = new Properties();
        c.putAll(client);
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "compose-check-" + topic);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        int count = 0;
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + BOUND.toNanos();
            while (count < acked.size() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    read.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), tp -> new ArrayList<>()).add(r);
                    count++;
                }
            }
            consumer.commitSync(Duration.ofSeconds(30));
        }
        System.out.printf("ROUNDTRIP %s: %d sent, %d acknowledged in %d ms; group %s read %d in %d ms%n", topic,
                sent.size(), acked.size(), ms(start, produced), "compose-check-" + topic, count,
                ms(produced, System.nanoTime()));
        if (acked.size() != records) {
            throw new AssertionError(records - acked.size() + " records were not acknowledged");
        }
        Consistency.check("roundtrip", read, sent, acked);
        System.out.printf("ROUNDTRIP %s: every acknowledged record read once at its offset%n", topic);
    }

    /** Kills a partition leader's container, pauses another's, disconnects the third, each healed in turn. */
    private void failover(String network) throws Exception {
        String topic = "failover";
        createTopic(topic, PARTITIONS);
        ContinuousProducer producer = ContinuousProducer.start(bootstrap, topic, "f", 100);
        awaitAcked(producer, 5_000);
        List<Integer> victims = new ArrayList<>();

        Victim killed = victim(topic, victims);
        long t = System.nanoTime();
        docker("kill", containers.get(killed.node()));
        System.out.printf("FAULT docker kill node%d (leader of %s): first acknowledged produce to %s after %d ms%n",
                killed.node(), killed.led(), killed.led(), producer.firstAckAfter(killed.led(), t, BOUND));
        t = System.nanoTime();
        docker("start", containers.get(killed.node()));
        heal("docker start node" + killed.node(), killed.node(), topic, t);
        awaitAcked(producer, producer.acked().size() + 5_000);

        Victim paused = victim(topic, victims);
        t = pause(containers.get(paused.node()));
        CompletableFuture<Long> pausedAck = firstAckAfter(producer, paused.led(), t);
        holdUntil(t);
        long healAt = System.nanoTime();
        docker("unpause", containers.get(paused.node()));
        checkHeld(t, healAt, "docker pause");
        System.out.printf("FAULT docker pause node%d (leader of %s) for %d ms: first acknowledged produce to %s after "
                + "%d ms%n", paused.node(), paused.led(), ms(t, healAt), paused.led(), pausedAck.get());
        heal("docker unpause node" + paused.node(), paused.node(), topic, healAt);
        awaitAcked(producer, producer.acked().size() + 5_000);

        Victim cut = victim(topic, victims);
        t = System.nanoTime();
        docker("network", "disconnect", network, containers.get(cut.node()));
        CompletableFuture<Long> cutAck = firstAckAfter(producer, cut.led(), t);
        holdUntil(t);
        healAt = System.nanoTime();
        docker("network", "connect", "--alias", "node" + cut.node(), network, containers.get(cut.node()));
        checkHeld(t, healAt, "docker network disconnect");
        System.out.printf("FAULT docker network disconnect node%d (leader of %s) for %d ms: first acknowledged "
                + "produce to %s after %d ms%n", cut.node(), cut.led(), ms(t, healAt), cut.led(), cutAck.get());
        heal("docker network connect node" + cut.node(), cut.node(), topic, healAt);
        awaitAcked(producer, producer.acked().size() + 5_000);
        finish("failover", topic, producer);
    }

    /** Restarts each node's container in turn (SIGTERM, start), waiting until the cluster is whole again. */
    private void rolling() throws Exception {
        String topic = "rolling";
        createTopic(topic, PARTITIONS);
        ContinuousProducer producer = ContinuousProducer.start(bootstrap, topic, "r", 100);
        awaitAcked(producer, 5_000);
        for (int node : containers.keySet()) {
            long t = System.nanoTime();
            docker("restart", "-t", "60", containers.get(node));
            System.out.printf("ROLLING docker restart node%d (graceful stop and start) took %d ms%n", node,
                    ms(t, System.nanoTime()));
            heal("restart of node" + node, node, topic, t);
            awaitAcked(producer, producer.acked().size() + 5_000);
        }
        finish("rolling restart", topic, producer);
    }

    /** Stops the producer and checks every acknowledged record is in the topic once, at its offset. */
    void finish(String what, String topic, ContinuousProducer producer) throws Exception {
        if (!producer.stop(BOUND)) {
            throw new AssertionError("the producer did not finish within " + BOUND);
        }
        long start = System.nanoTime();
        Map<TopicPartition, List<ConsumerRecord<String, String>>> read =
                Clients.readAll(bootstrap, topic, PARTITIONS, BOUND);
        int count = read.values().stream().mapToInt(List::size).sum();
        System.out.printf("CHECK %s: %d sent, %d acknowledged, %d failed; read %d back in %d ms%n", what,
                producer.sent().size(), producer.acked().size(), producer.failed(), count, ms(start, System.nanoTime()));
        Consistency.check(what, read, producer.sent(), producer.acked());
        System.out.printf("CHECK %s: every acknowledged record present exactly once at its offset%n", what);
    }

    /** Waits until the node's container is healthy, the cluster lists it and every partition has 3 in-sync replicas. */
    void heal(String what, int node, String topic, long since) throws Exception {
        awaitHealthy(node);
        long healthy = System.nanoTime();
        awaitNodeListed(node, true);
        long listed = System.nanoTime();
        awaitWhole(topic);
        System.out.printf("RECOVERY %s: container healthy after %d ms, listed by the cluster after %d ms, every "
                + "partition 3 in-sync replicas after %d ms%n", what, ms(since, healthy), ms(since, listed),
                ms(since, System.nanoTime()));
    }

    /**
     * A node no earlier fault hit, with a partition it leads: the leader of the first partition whose leader is not
     * in {@code earlier}, preferring one led by its preferred (first) replica, as leader balancing would move the
     * others away just when the fault hits; else any node not in it, with partition 0. From one look at the topic.
     */
    Victim victim(String topic, List<Integer> earlier) throws Exception {
        List<TopicPartitionInfo> partitions = describe(topic).partitions();
        for (boolean preferredOnly : new boolean[] {true, false}) {
            for (TopicPartitionInfo p : partitions) {
                if (p.leader() != null && !earlier.contains(p.leader().id())
                        && (!preferredOnly || p.leader().id() == p.replicas().get(0).id())) {
                    earlier.add(p.leader().id());
                    return new Victim(p.leader().id(), new TopicPartition(topic, p.partition()));
                }
            }
        }
        int other = containers.keySet().stream().filter(n -> !earlier.contains(n)).findFirst().orElseThrow();
        earlier.add(other);
        return new Victim(other, new TopicPartition(topic, 0));
    }

    /** The node a fault hits and a partition it led just before. */
    record Victim(int node, TopicPartition led) {}

    private TopicDescription describe(String topic) throws Exception {
        try (Admin admin = admin()) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
        }
    }

    /** Waits until every partition of the topic has a leader and three in-sync replicas. */
    private void awaitWhole(String topic) throws Exception {
        long deadline = System.nanoTime() + BOUND.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                List<TopicPartitionInfo> ps = describe(topic).partitions();
                if (ps.stream().allMatch(p -> p.leader() != null && p.isr().size() == 3)) {
                    return;
                }
                last = ps.stream().map(p -> p.partition() + ": leader " + (p.leader() == null ? "none" : p.leader().id())
                        + ", isr " + p.isr().stream().map(Node::id).toList()).toList().toString();
            } catch (Exception e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        throw new AssertionError(topic + " not whole within " + BOUND + ": " + last);
    }

    /** Waits until DescribeCluster lists the node ({@code listed}) or leaves it out (marked DOWN). */
    private void awaitNodeListed(int node, boolean listed) throws Exception {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (System.nanoTime() < deadline) {
            try (Admin admin = admin()) {
                boolean there = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).stream().map(Node::id)
                        .anyMatch(id -> id == node);
                if (there == listed) {
                    return;
                }
            } catch (Exception e) {
                // a node may be unreachable while the cluster heals; ask again
            }
            Thread.sleep(200);
        }
        throw new AssertionError("node " + node + (listed ? " not listed" : " still listed") + " after " + BOUND);
    }

    private void awaitHealthy(int node) throws Exception {
        long deadline = System.nanoTime() + BOUND.toNanos();
        String status = "";
        while (System.nanoTime() < deadline) {
            status = docker("inspect", "-f", "{{.State.Health.Status}}", containers.get(node)).trim();
            if (status.equals("healthy")) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("node" + node + " not healthy after " + BOUND + ": " + status);
    }

    static void awaitAcked(ContinuousProducer producer, int count) throws InterruptedException {
        if (producer.awaitAcked(count, BOUND) < count) {
            throw new AssertionError("only " + producer.acked().size() + " of " + count + " records acknowledged in "
                    + BOUND + " (" + producer.failed() + " failed)");
        }
    }

    /** Attempts at {@code docker pause} before a fault check gives up (see {@link #pause}). */
    static final int PAUSE_ATTEMPTS = 5;

    /**
     * {@code docker pause}, tried up to {@value #PAUSE_ATTEMPTS} times: the cgroup freezer gives up ("unable to
     * freeze") when a process of the container stays in an uninterruptible sleep (seen with the node in an fsync, in
     * compose-test.sh and in ContainerIT), and the engine then leaves the container running. Returns when the attempt
     * that froze it started.
     */
    private static long pause(String container) throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                long at = System.nanoTime();
                docker("pause", container);
                return at;
            } catch (AssertionError e) {
                if (attempt == PAUSE_ATTEMPTS || !e.getMessage().contains("unable to freeze")) {
                    throw e;
                }
                System.out.printf("FAULT docker pause attempt %d: the freezer gave up, trying again%n", attempt);
            }
        }
    }

    /** Runs {@code docker args...}, bounded to 90 s; returns its output, throws if it failed. */
    private static String docker(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("docker"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish in 90 s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    /** Keeps a fault on until {@link #OUTAGE_MS} after {@code since}. */
    private static void holdUntil(long since) throws InterruptedException {
        long left = since + TimeUnit.MILLISECONDS.toNanos(OUTAGE_MS) - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /**
     * Fails (after the heal) when a fault lasted over {@link #MAX_OUTAGE_MS} (a slow docker command): the check would
     * then test something else (Ratis shuts a server down after a 60 s JVM pause).
     */
    private static void checkHeld(long since, long healAt, String fault) {
        if (ms(since, healAt) > MAX_OUTAGE_MS) {
            throw new AssertionError(fault + " lasted " + ms(since, healAt) + " ms, over " + MAX_OUTAGE_MS + " ms");
        }
    }

    /** In the background: ms from {@code since} until a record sent to {@code tp} after it is acknowledged. */
    private static CompletableFuture<Long> firstAckAfter(ContinuousProducer producer, TopicPartition tp, long since) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return producer.firstAckAfter(tp, since, BOUND);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1L;
            }
        });
    }

    private static long ms(long from, long to) {
        return TimeUnit.NANOSECONDS.toMillis(to - from);
    }
}
