package io.fluxmq.node;

import static io.fluxmq.node.KafkaTools.kafkaConfigs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterClientQuotasOptions;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.ThrottlingQuotaExceededException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client quotas on a real node with Kafka's clients and tools: the Admin client's {@code alterClientQuotas} and
 * {@code describeClientQuotas} (default entities, filters, strict, validate only, Kafka's validation errors),
 * {@code kafka-configs --alter --add-config producer_byte_rate=...} for clients and users and its {@code --describe};
 * a default Java producer under a {@code producer_byte_rate} quota is held within 10 % of it over 30 s and sees
 * throttle time
 * ({@code produce-throttle-time-max}), while a client id without a quota is not held; a consumer under a
 * {@code consumer_byte_rate} quota is held and sees fetch throttle time; quotas survive a restart, also
 * from a metadata snapshot.
 */
class ClientQuotasIT {
    private static final String TOPIC = "quota-orders";
    /** The quota of the held producer, bytes per second. */
    private static final long QUOTA = 256 * 1024;
    private static final int VALUE_BYTES = 1000;

    /**
     * Three samples of one second: with Kafka's default eleven, a fresh rate divides by ten seconds, so a greedy
     * producer sends ten seconds' worth at once and then waits about eleven, and its average over any 30 s swings by
     * some ±20 % with the phase of that cycle (simulated with Kafka's {@code Rate}; the long-run average is the quota).
     * Three samples make the cycle two seconds.
     */
    private static final Map<String, String> WINDOWS = Map.of("quota.window.num", "3", "quota.window.size.seconds",
            "1");

    @Test
    void adminAndKafkaConfigsSetQuotasThatHoldAProducer(@TempDir Path dir) throws Exception {
        try (TestNode node = TestNode.start(dir, WINDOWS)) {
            node.createTopic(TOPIC, 1);
            try (Admin admin = node.admin()) {
                assertAdminAlterAndDescribe(admin);
            }

            String added = kafkaConfigs("--bootstrap-server", node.bootstrap(), "--alter", "--add-config",
                    "producer_byte_rate=" + QUOTA, "--entity-type", "clients", "--entity-name", "limited");
            assertThat(added).contains("Completed updating config for client limited.");
            String user = kafkaConfigs("--bootstrap-server", node.bootstrap(), "--alter", "--add-config",
                    "producer_byte_rate=1048576,consumer_byte_rate=2097152", "--entity-type", "users",
                    "--entity-name", "bob");
            assertThat(user).contains("Completed updating config for user bob.");
            String defaults = kafkaConfigs("--bootstrap-server", node.bootstrap(), "--alter", "--add-config",
                    "request_percentage=50", "--entity-type", "users", "--entity-default");
            assertThat(defaults).contains("Completed updating default config for users in the cluster.");
            assertThat(kafkaConfigs("--bootstrap-server", node.bootstrap(), "--describe", "--entity-type", "clients",
                    "--entity-name", "limited")).contains("Quota configs for client-id 'limited' are "
                    + "producer_byte_rate=" + (double) QUOTA);
            String bob = kafkaConfigs("--bootstrap-server", node.bootstrap(), "--describe", "--entity-type",
                    "users", "--entity-name", "bob");
            assertThat(bob).contains("Quota configs for user-principal 'bob' are ")
                    .contains("producer_byte_rate=1048576.0").contains("consumer_byte_rate=2097152.0");
            assertThat(kafkaConfigs("--bootstrap-server", node.bootstrap(), "--describe", "--entity-type", "users",
                    "--entity-default")).contains("Quota configs for the default user-principal are "
                    + "request_percentage=50.0");

            Run held = produce(node.bootstrap(), "limited", Duration.ofSeconds(33), Duration.ofSeconds(3));
            System.out.printf("quota %d B/s: held producer %.0f B/s over %d s after warm-up, throttle max %.0f ms%n",
                    QUOTA, held.rate(), held.measuredSeconds(), held.throttleMaxMs());
            assertThat(held.throttleMaxMs()).isPositive();
            // within 10 % of the quota over 30 s; the payload is a little less than the request bytes the quota counts
            // (batch, record and request headers)
            assertThat(held.rate()).isBetween(0.90 * QUOTA, 1.10 * QUOTA);

            Run free = produce(node.bootstrap(), "free", Duration.ofSeconds(8), Duration.ofSeconds(2));
            System.out.printf("client without a quota: %.0f B/s, throttle max %.0f ms%n", free.rate(),
                    free.throttleMaxMs());
            assertThat(free.throttleMaxMs()).isZero();
            assertThat(free.rate()).isGreaterThan(3.0 * QUOTA);

            assertConsumerHeld(node.bootstrap());

            node.stop();
            node.restart();
            try (Admin admin = node.admin()) {
                Map<ClientQuotaEntity, Map<String, Double>> all = admin.describeClientQuotas(ClientQuotaFilter.all())
                        .entities().get(30, TimeUnit.SECONDS);
                assertThat(all.get(entity(ClientQuotaEntity.CLIENT_ID, "limited")))
                        .isEqualTo(Map.of("producer_byte_rate", (double) QUOTA));
                assertThat(all.get(entity(ClientQuotaEntity.USER, "bob"))).hasSize(2);
            }
            // after the restart the quota still holds: more than the 2 s a fresh rate admits gets throttled
            Run again = produceBytes(node.bootstrap(), "limited", 12 * QUOTA);
            assertThat(again.throttleMaxMs()).isPositive();
        }
    }

    /**
     * A consumer under a 512 KiB/s {@code consumer_byte_rate} reads 4 MiB from the start of the topic: 1 MiB (two
     * windows' worth) at once, the rest at the quota, so it takes some six seconds where it would take well under one
     * without the quota; it sees {@code fetch-throttle-time-max} > 0.
     */
    private static void assertConsumerHeld(String bootstrap) throws Exception {
        long quota = 512 * 1024;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity(ClientQuotaEntity.CLIENT_ID,
                    "slow-reader"), List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", (double) quota)))))
                    .all().get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "slow-reader");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 256 * 1024);
        TopicPartition tp = new TopicPartition(TOPIC, 0);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long start = System.nanoTime();
            long deadline = start + TimeUnit.SECONDS.toNanos(60);
            long read = 0;
            while (read < 8 * quota && System.nanoTime() < deadline) {
                for (var r : consumer.poll(Duration.ofMillis(500))) {
                    read += r.value().length;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double throttle = metric(consumer.metrics(), "fetch-throttle-time-max", "consumer-fetch-manager-metrics");
            System.out.printf("consumer quota %d B/s: read %d B in %.1f s, fetch throttle max %.0f ms%n", quota, read,
                    seconds, throttle);
            assertThat(read).isGreaterThanOrEqualTo(8 * quota);
            assertThat(throttle).isPositive();
            assertThat(seconds).isGreaterThan(4.0);
        }
    }

    /**
     * Three processes: a quota set through one node reaches every node through cluster metadata, and each node
     * throttles the produce requests it leads. One partition led by each node gets 300 KB from its own producer
     * (client id under a 64 KiB/s quota, two one-second samples: 64 KiB admitted at once); each sees throttle time.
     */
    @Test
    void aQuotaSetThroughOneNodeIsEnforcedByEveryNode(@TempDir Path dir) throws Exception {
        long quota = 64 * 1024;
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of("quota.window.num", "2"))) {
            String first = cluster.bootstrap().split(",")[0];
            Map<Integer, Integer> partitionOfLeader = new HashMap<>();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", first))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 6, (short) 1))).all().get(60, TimeUnit.SECONDS);
                for (int p = 0; p < 6; p++) {
                    partitionOfLeader.putIfAbsent(cluster.awaitLeader(TOPIC, p, Duration.ofSeconds(60)), p);
                }
                admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity(ClientQuotaEntity.CLIENT_ID,
                        "everywhere"), List.of(new ClientQuotaAlteration.Op("producer_byte_rate", (double) quota)))))
                        .all().get(30, TimeUnit.SECONDS);
            }
            assertThat(partitionOfLeader).as("a partition led by each node").containsOnlyKeys(0, 1, 2);
            for (Map.Entry<Integer, Integer> e : partitionOfLeader.entrySet()) {
                double throttle = DynamicConfigsIT.eventually(() -> {
                    double t = produceBytes(cluster.bootstrap(), "everywhere", e.getValue(), 300_000).throttleMaxMs();
                    assertThat(t).as("throttle by node " + e.getKey()).isPositive();
                    return t;
                });
                System.out.printf("node %d (partition %d): produce throttle max %.0f ms%n", e.getKey(),
                        e.getValue(), throttle);
            }
        }
    }

    @Test
    void quotasSurviveARestartFromAMetadataSnapshot(@TempDir Path dir) throws Exception {
        try (TestNode node = TestNode.start(dir, Map.of("raft.snapshot.interval.entries", "5"))) {
            try (Admin admin = node.admin()) {
                admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity(ClientQuotaEntity.USER, null),
                        List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", 4096.0))))).all()
                        .get(30, TimeUnit.SECONDS);
                for (int i = 0; i < 4; i++) { // metadata entries after the quota, so a snapshot holds it
                    admin.createTopics(List.of(new NewTopic("after-" + i, 1, (short) 1))).all()
                            .get(30, TimeUnit.SECONDS);
                }
            }
            assertThat(metadataSnapshotVersions(dir)).contains((short) 8);
            node.stop();
            node.restart();
            try (Admin admin = node.admin()) {
                assertThat(admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get(30, TimeUnit.SECONDS))
                        .isEqualTo(Map.of(entity(ClientQuotaEntity.USER, null), Map.of("consumer_byte_rate", 4096.0)));
            }
        }
    }

    /**
     * {@code controller_mutation_rate}: 0.5 partitions/s over 3 windows of 1 s is a bucket of 1.5 partitions. A first
     * topic of 4 partitions goes ahead (leaving the bucket at -2.5), a second is refused with Kafka's
     * {@code ThrottlingQuotaExceededException} and a throttle time of about 5 s while the bucket refills, and the Admin
     * client, which retries quota violations by default, creates it once that time has passed; another client id is
     * not held.
     */
    @Test
    void controllerMutationRateHoldsTopicCreationsOfOneClient(@TempDir Path dir) throws Exception {
        try (TestNode node = TestNode.start(dir, WINDOWS)) {
            ClientQuotaEntity mutator = entity(ClientQuotaEntity.CLIENT_ID, "mutator");
            try (Admin admin = node.admin()) {
                admin.alterClientQuotas(List.of(new ClientQuotaAlteration(mutator, List.of(
                        new ClientQuotaAlteration.Op("controller_mutation_rate", 0.5))))).all()
                        .get(30, TimeUnit.SECONDS);
                assertThat(admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get(30, TimeUnit.SECONDS))
                        .isEqualTo(Map.of(mutator, Map.of("controller_mutation_rate", 0.5)));
            }
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", node.bootstrap(), "client.id", "mutator"))) {
                admin.createTopics(List.of(new NewTopic("mutated-1", 4, (short) 1))).all().get(30, TimeUnit.SECONDS);
                long refusedAt = System.nanoTime();
                var refused = admin.createTopics(List.of(new NewTopic("mutated-2", 4, (short) 1)),
                        new CreateTopicsOptions().retryOnQuotaViolation(false)).all();
                assertThatThrownBy(() -> refused.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(ThrottlingQuotaExceededException.class)
                        .hasMessage("The throttling quota has been exceeded.")
                        .satisfies(e -> assertThat(((ThrottlingQuotaExceededException) e).throttleTimeMs())
                                .isBetween(1, 5_000));
                admin.createTopics(List.of(new NewTopic("mutated-2", 4, (short) 1))).all().get(30, TimeUnit.SECONDS);
                long retriedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - refusedAt);
                System.out.printf("controller_mutation_rate 0.5/s: the second topic created %d ms after it was "
                        + "refused%n", retriedMs);
                assertThat(retriedMs).as("created once the bucket refilled").isGreaterThanOrEqualTo(3_000);
            }
            try (Admin other = Admin.create(Map.of("bootstrap.servers", node.bootstrap(), "client.id", "other"))) {
                other.createTopics(List.of(new NewTopic("unlimited-1", 20, (short) 1), new NewTopic("unlimited-2", 20,
                        (short) 1)), new CreateTopicsOptions().retryOnQuotaViolation(false)).all()
                        .get(30, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * {@code connection_creation_rate} for ip 127.0.0.2: 2 connections/s over 3 windows of 1 s admits 4 at once; of 8
     * connections opened from that address in a burst, the first are answered and the rest closed without an answer,
     * each after its throttle time (not at once, as Kafka); a connection from 127.0.0.3 is answered meanwhile.
     */
    @Test
    void connectionCreationRateHoldsNewConnectionsFromOneAddress(@TempDir Path dir) throws Exception {
        try (TestNode node = TestNode.start(dir, WINDOWS)) {
            ClientQuotaEntity ip = entity(ClientQuotaEntity.IP, "127.0.0.2");
            try (Admin admin = node.admin()) {
                admin.alterClientQuotas(List.of(new ClientQuotaAlteration(ip, List.of(
                        new ClientQuotaAlteration.Op("connection_creation_rate", 2.0))))).all()
                        .get(30, TimeUnit.SECONDS);
                assertThat(admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get(30, TimeUnit.SECONDS))
                        .isEqualTo(Map.of(ip, Map.of("connection_creation_rate", 2.0)));
            }
            List<RawKafkaConnection> burst = new ArrayList<>();
            List<Long> openedAt = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    openedAt.add(System.nanoTime());
                    burst.add(RawKafkaConnection.open(node.kafkaPort(), "127.0.0.2"));
                }
                int answered = 0;
                long firstRefusedAfterMs = -1;
                for (int i = 0; i < burst.size(); i++) {
                    if (apiVersionsAnswered(burst.get(i))) {
                        answered++;
                    } else if (firstRefusedAfterMs < 0) {
                        firstRefusedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openedAt.get(i));
                    }
                }
                System.out.printf("connection_creation_rate 2/s: %d of 8 connections answered, the first refused one "
                        + "closed %d ms after it was opened%n", answered, firstRefusedAfterMs);
                assertThat(answered).as("connections answered of the burst").isBetween(3, 5);
                assertThat(firstRefusedAfterMs).as("closed after its throttle time, not at once")
                        .isGreaterThanOrEqualTo(200);
                try (RawKafkaConnection other = RawKafkaConnection.open(node.kafkaPort(), "127.0.0.3")) {
                    assertThat(apiVersionsAnswered(other)).as("another address").isTrue();
                }
            } finally {
                for (RawKafkaConnection c : burst) {
                    c.close();
                }
            }
        }
    }

    /** Sends ApiVersions v3; true when answered, false when the node closed the connection first. */
    private static boolean apiVersionsAnswered(RawKafkaConnection c) throws Exception {
        RequestHeader header = new RequestHeader(ApiKeys.API_VERSIONS, (short) 3, "ip-limited", 1);
        c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(), new ApiVersionsRequestData()
                .setClientSoftwareName("raw").setClientSoftwareVersion("1"), (short) 3));
        try {
            c.readFrame(); // bounded by the connection's read timeout (5 s)
            return true;
        } catch (java.io.EOFException | java.net.SocketException closed) {
            return false;
        }
    }

    private static void assertAdminAlterAndDescribe(Admin admin) throws Exception {
        ClientQuotaEntity aliceApp = entity(ClientQuotaEntity.USER, "alice", ClientQuotaEntity.CLIENT_ID, "app");
        ClientQuotaEntity defaultClient = entity(ClientQuotaEntity.CLIENT_ID, null);
        ClientQuotaEntity alice = entity(ClientQuotaEntity.USER, "alice");
        admin.alterClientQuotas(List.of(new ClientQuotaAlteration(alice,
                List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1000.0)))),
                new AlterClientQuotasOptions().validateOnly(true)).all().get(30, TimeUnit.SECONDS);
        assertThat(admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get(30, TimeUnit.SECONDS))
                .isEmpty();

        admin.alterClientQuotas(List.of(
                new ClientQuotaAlteration(aliceApp, List.of(new ClientQuotaAlteration.Op("producer_byte_rate",
                        2048.0), new ClientQuotaAlteration.Op("controller_mutation_rate", 2.5))),
                new ClientQuotaAlteration(alice, List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", 4096.0))),
                new ClientQuotaAlteration(defaultClient, List.of(new ClientQuotaAlteration.Op("request_percentage",
                        25.0))))).all().get(30, TimeUnit.SECONDS);
        Map<ClientQuotaEntity, Map<String, Double>> exactAlice = admin.describeClientQuotas(ClientQuotaFilter.contains(
                List.of(ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice"))))
                .entities().get(30, TimeUnit.SECONDS);
        assertThat(exactAlice).isEqualTo(Map.of(aliceApp, Map.of("producer_byte_rate", 2048.0,
                "controller_mutation_rate", 2.5), alice, Map.of("consumer_byte_rate", 4096.0)));
        assertThat(admin.describeClientQuotas(ClientQuotaFilter.containsOnly(List.of(
                ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice")))).entities()
                .get(30, TimeUnit.SECONDS)).containsOnlyKeys(alice);
        assertThat(admin.describeClientQuotas(ClientQuotaFilter.containsOnly(List.of(
                ClientQuotaFilterComponent.ofDefaultEntity(ClientQuotaEntity.CLIENT_ID)))).entities()
                .get(30, TimeUnit.SECONDS)).isEqualTo(Map.of(defaultClient, Map.of("request_percentage", 25.0)));
        assertThat(admin.describeClientQuotas(ClientQuotaFilter.contains(List.of(
                ClientQuotaFilterComponent.ofEntityType(ClientQuotaEntity.CLIENT_ID)))).entities()
                .get(30, TimeUnit.SECONDS)).containsOnlyKeys(aliceApp, defaultClient);

        var bad = admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity(ClientQuotaEntity.USER, "x"),
                List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1.5)))));
        assertThatThrownBy(() -> bad.all().get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(InvalidRequestException.class)
                .hasMessage("producer_byte_rate cannot be a fractional value.");

        admin.alterClientQuotas(List.of(
                new ClientQuotaAlteration(aliceApp, List.of(new ClientQuotaAlteration.Op("producer_byte_rate", null),
                        new ClientQuotaAlteration.Op("controller_mutation_rate", null))),
                new ClientQuotaAlteration(alice, List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", null))),
                new ClientQuotaAlteration(defaultClient, List.of(new ClientQuotaAlteration.Op("request_percentage",
                        null))))).all().get(30, TimeUnit.SECONDS);
        assertThat(admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get(30, TimeUnit.SECONDS))
                .isEmpty();
    }

    private static ClientQuotaEntity entity(String... typeAndName) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < typeAndName.length; i += 2) {
            m.put(typeAndName[i], typeAndName[i + 1]);
        }
        return new ClientQuotaEntity(m);
    }

    /** What a bounded producer run measured: acknowledged payload per second after the warm-up, and throttle. */
    private record Run(double rate, long measuredSeconds, double throttleMaxMs) {
    }

    /**
     * A default Java producer with {@code clientId} sends 1,000-byte values as fast as it may for {@code length};
     * the rate counts the values acknowledged after {@code warmUp}. A small buffer keeps what waits at the end small;
     * it is dropped at close.
     */
    private static Run produce(String bootstrap, String clientId, Duration length, Duration warmUp) throws Exception {
        AtomicLong measured = new AtomicLong();
        long start = System.nanoTime();
        long from = start + warmUp.toNanos();
        long end = start + length.toNanos();
        byte[] value = new byte[VALUE_BYTES];
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, clientId)) {
            while (System.nanoTime() < end) {
                producer.send(new ProducerRecord<>(TOPIC, value), (metadata, error) -> {
                    long now = System.nanoTime();
                    if (error == null && now >= from && now < end) {
                        measured.addAndGet(VALUE_BYTES);
                    }
                });
            }
            double throttle = throttleMax(producer);
            producer.close(Duration.ZERO);
            long seconds = length.minus(warmUp).toSeconds();
            return new Run(measured.get() / (double) seconds, seconds, throttle);
        }
    }

    /** Sends {@code bytes} of values and waits for them all; the rate is not measured. */
    private static Run produceBytes(String bootstrap, String clientId, long bytes) throws Exception {
        return produceBytes(bootstrap, clientId, null, bytes);
    }

    /** As above, to {@code partition} (null: the producer's choice). */
    private static Run produceBytes(String bootstrap, String clientId, Integer partition, long bytes)
            throws Exception {
        byte[] value = new byte[VALUE_BYTES];
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, clientId)) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (long b = 0; b < bytes; b += VALUE_BYTES) {
                sent.add(producer.send(new ProducerRecord<>(TOPIC, partition, null, value)));
            }
            for (java.util.concurrent.Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
            return new Run(0, 0, throttleMax(producer));
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap, String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 1024 * 1024);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static double throttleMax(KafkaProducer<?, ?> producer) {
        return metric(producer.metrics(), "produce-throttle-time-max", "producer-metrics");
    }

    private static double metric(Map<MetricName, ? extends Metric> metrics, String name, String group) {
        for (Map.Entry<MetricName, ? extends Metric> m : metrics.entrySet()) {
            if (m.getKey().name().equals(name) && m.getKey().group().equals(group)) {
                Object v = m.getValue().metricValue();
                return v instanceof Double d && !d.isNaN() ? d : 0;
            }
        }
        throw new AssertionError("no metric " + group + "/" + name);
    }

    /**
     * The format versions of the metadata snapshots under the data dir (their files start with magic, version): in
     * the metadata group's Ratis storage, {@code raft/} (not the partitions' directories, whose files a running node
     * renames under a walk).
     */
    private static List<Short> metadataSnapshotVersions(Path dir) throws IOException {
        List<Short> versions = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir.resolve("raft"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("snapshot.")
                    && !p.getFileName().toString().endsWith(".md5")).toList()) {
                try (InputStream in = Files.newInputStream(f); DataInputStream data = new DataInputStream(in)) {
                    if (Files.size(f) >= 6 && data.readInt() == 0x464c584d) {
                        versions.add(data.readShort());
                    }
                }
            }
        }
        return versions;
    }
}
