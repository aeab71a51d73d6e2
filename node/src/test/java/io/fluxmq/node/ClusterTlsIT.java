package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fluxmq.admin.FluxmqAdmin;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Node-to-node TLS ({@code cluster.security.protocol=SSL}) on three node processes with certificates made by the test
 * ({@link TestCertificates}): an RF-3 topic replicates and serves Kafka clients over mutual TLS between the nodes; the
 * admin CLI with a certificate the cluster's CA signed is served, without one (plaintext, trust only, or another CA's
 * certificate) refused; a node started with a certificate another CA signed cannot join (the members see its
 * handshakes fail, it is never registered, placement never uses it); the HTTP endpoint serves partition data only to
 * holders of a cluster certificate. Partitions on Ratis; {@link ClusterTlsMultiRaftIT} runs the same on the multi-Raft.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTlsIT {
    private static final int RECORDS = 300;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Path dir;
    private TestCertificates ca;
    private TestCertificates rogueCa;
    private Path rogueStore;
    private Path adminStore;
    private TestCluster cluster;
    /** Node logs append across runs: where this run's lines start. */
    private final long[] logsAtStart = new long[3];

    /** {@code partition.engine}. */
    String engine() {
        return NodeConfig.RATIS;
    }

    /** What each node logs at start when its channels speak TLS. */
    String[] tlsLines() {
        return new String[] {"speaks mutual TLS", "gRPC control service listening on port", "(mutual TLS)"};
    }

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("cluster-tls-" + engine());
        Files.createDirectories(dir.resolve("ca"));
        Files.createDirectories(dir.resolve("rogue"));
        ca = TestCertificates.create(dir.resolve("ca"));
        Path nodeStore = ca.keystore("node", "CN=fluxmq-node,OU=nodes");
        adminStore = ca.keystore("admin", "CN=operator,OU=admins");
        rogueCa = TestCertificates.create(dir.resolve("rogue"));
        rogueStore = rogueCa.keystore("node", "CN=fluxmq-node,OU=nodes");
        Map<String, String> settings = tls(nodeStore, ca.truststore());
        settings.put(NodeConfig.PARTITION_ENGINE, engine());
        for (int i = 0; i < 3; i++) {
            Path log = Path.of("target", "node-logs", "cluster-node-" + i + ".log");
            logsAtStart[i] = Files.exists(log) ? Files.size(log) : 0;
        }
        cluster = TestCluster.start(3, dir.resolve("nodes"), settings);
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Map<String, String> tls(Path keystore, Path truststore) {
        Map<String, String> s = new HashMap<>();
        s.put("cluster.security.protocol", "SSL");
        s.put("cluster.ssl.keystore.type", "PKCS12");
        s.put("cluster.ssl.keystore.location", keystore.toString());
        s.put("cluster.ssl.keystore.password", TestCertificates.PASSWORD);
        s.put("cluster.ssl.truststore.type", "PKCS12");
        s.put("cluster.ssl.truststore.location", truststore.toString());
        s.put("cluster.ssl.truststore.password", TestCertificates.PASSWORD);
        return s;
    }

    @Test
    @Order(1)
    void anRf3TopicReplicatesAndServesKafkaClientsOverClusterTls() throws Exception {
        String topic = "tls-" + engine();
        cluster.createTopic(topic, 3, (short) 3);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(topic, i % 3, null, "v" + i));
            }
            producer.flush();
            producer.send(new ProducerRecord<>(topic, 0, null, "last")).get();
        }
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Set<String> read = new TreeSet<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(IntStream.range(0, 3).mapToObj(i -> new TopicPartition(topic, i)).toList());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (read.size() < RECORDS + 1 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    read.add(r.value());
                }
            }
        }
        assertThat(read).hasSize(RECORDS + 1);
        // every replica in sync: followers fetched the entries over the TLS Raft transport
        try (Admin admin = cluster.admin()) {
            awaitTrue(Duration.ofSeconds(60), "3 in-sync replicas on every partition of " + topic, () -> {
                try {
                    TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                    return d.partitions().stream().allMatch(i -> i.isr().size() == 3 && i.leader() != null);
                } catch (Exception e) {
                    return false;
                }
            });
        }
        for (int i = 0; i < 3; i++) {
            assertThat(cluster.node(i).logSince(logsAtStart[i])).contains(tlsLines());
        }
    }

    @Test
    @Order(2)
    void theAdminCliIsServedOnlyWithAClusterCertificate() throws Exception {
        Path withCertificate = controlConfig("admin.properties", adminStore, ca.truststore());
        Result ok = cli(withCertificate, "nodes");
        assertThat(ok.exit).as("%s", ok).isZero();
        assertThat(ok.out).contains("127.0.0.1");

        Result plaintext = cli(null, "nodes");
        assertThat(plaintext.exit).as("%s", plaintext).isEqualTo(3);
        assertThat(plaintext.err).contains("UNAVAILABLE");

        Path trustOnly = controlConfig("trust-only.properties", null, ca.truststore());
        Result noCertificate = cli(trustOnly, "nodes");
        assertThat(noCertificate.exit).as("%s", noCertificate).isEqualTo(3);

        Path otherCa = controlConfig("rogue.properties", rogueStore, rogueCa.truststore());
        Result rogue = cli(otherCa, "nodes");
        assertThat(rogue.exit).as("%s", rogue).isEqualTo(3);
        // a certificate of another CA, trusting the cluster's CA: the node refuses the certificate
        Path otherCertificate = controlConfig("rogue-cert.properties", rogueStore, ca.truststore());
        Result refused = cli(otherCertificate, "raft", "status", "tls-" + engine(), "-p", "0");
        assertThat(refused.exit).as("%s", refused).isEqualTo(3);
        Result refusedSnapshot = cli(otherCertificate, "raft", "snapshot", "tls-" + engine(), "-p", "0");
        assertThat(refusedSnapshot.exit).as("%s", refusedSnapshot).isEqualTo(3);
    }

    /**
     * {@code raft snapshot} over the TLS control service, checked with {@code raft status}: on Ratis the leader's
     * state machine snapshots its applied index (the snapshot index moves to it); on multiraft, with nothing deleted,
     * there is no segment to compact and the index stays (AdminCommandsIT compacts after DeleteRecords).
     */
    @Test
    @Order(3)
    void raftSnapshotMovesTheSnapshotIndex() throws Exception {
        Path withCertificate = controlConfig("admin.properties", adminStore, ca.truststore());
        String topic = "tls-" + engine();
        Result status = cli(withCertificate, "raft", "status", topic, "-p", "0", "--output", "json");
        assertThat(status.exit).as("%s", status).isZero();
        JsonNode before = JSON.readTree(status.out);
        Result taken = cli(withCertificate, "raft", "snapshot", "--topic", topic, "--partition", "0", "--output",
                "json");
        assertThat(taken.exit).as("%s", taken).isZero();
        JsonNode snapshot = JSON.readTree(taken.out);
        assertThat(snapshot.get("engine").asText()).isEqualTo(engine());
        JsonNode after = JSON.readTree(cli(withCertificate, "raft", "status", topic, "-p", "0", "--output", "json")
                .out);
        if (engine().equals(NodeConfig.RATIS)) {
            long applied = before.get("applied_index").asLong();
            assertThat(snapshot.get("snapshot_index").asLong(-1)).as("%s", snapshot)
                    .isGreaterThan(before.get("snapshot_index").asLong(-1)).isGreaterThanOrEqualTo(applied);
            assertThat(after.get("snapshot_index").asLong()).isEqualTo(snapshot.get("snapshot_index").asLong());
            assertThat(cli(withCertificate, "raft", "snapshot", topic, "-p", "0").out)
                    .contains("(ratis): ");
        } else {
            assertThat(snapshot.get("message").asText()).startsWith("nothing to compact");
            assertThat(after.get("snapshot_index")).isEqualTo(before.get("snapshot_index"));
        }
    }

    @Test
    @Order(4)
    void aNodeWithoutTheClustersCertificateCannotJoin() throws Exception {
        long[] before = new long[3];
        for (int i = 0; i < 3; i++) {
            before[i] = cluster.node(i).logLength(); // node logs append across runs: look only at what follows
        }
        String rogueName = "cluster-node-3";
        Path rogueLog = Path.of("target", "node-logs", rogueName + ".log");
        long rogueBefore = Files.exists(rogueLog) ? Files.size(rogueLog) : 0;
        NodeProcess rogue = cluster.startJoining(tls(rogueStore, rogueCa.truststore()));
        // it dials the metadata voters (to register) and the members refuse its certificate
        awaitTrue(Duration.ofSeconds(120), "the members report failed TLS handshakes from the rogue node", () -> {
            try {
                for (int i = 0; i < 3; i++) {
                    if (cluster.node(i).logSince(before[i]).contains("TLS handshake from")) {
                        return true;
                    }
                }
                return false;
            } catch (java.io.IOException e) {
                return false;
            }
        });
        awaitTrue(Duration.ofSeconds(60), "the rogue node reports its handshakes failing", () -> {
            try {
                return rogue.logSince(rogueBefore).contains("TLS handshake to");
            } catch (java.io.IOException e) {
                return false;
            }
        });
        assertThat(rogue.isAlive()).isTrue();
        String topic = "after-rogue-" + engine();
        try (Admin admin = cluster.admin()) {
            assertThat(admin.describeCluster().nodes().get().stream().map(Node::id).collect(Collectors.toSet()))
                    .containsExactlyInAnyOrder(0, 1, 2);
            cluster.createTopic(topic, 6, (short) 3);
            TopicDescription[] d = new TopicDescription[1];
            awaitTrue(Duration.ofSeconds(30), "the new topic described", () -> { // metadata reaches every node
                try {
                    d[0] = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                    return true;
                } catch (Exception e) {
                    return false;
                }
            });
            for (TopicPartitionInfo info : d[0].partitions()) {
                assertThat(info.replicas().stream().map(Node::id).toList()).doesNotContain(3);
            }
        }
        Path withCertificate = controlConfig("admin2.properties", adminStore, ca.truststore());
        Result nodes = cli(withCertificate, "nodes", "-o", "json");
        assertThat(nodes.exit).as("%s", nodes).isZero();
        assertThat(nodes.out).doesNotContain(":" + rogue.kafkaPort());
        cluster.awaitLeader(topic, 0, Duration.ofSeconds(60));
    }

    @Test
    @Order(5)
    void theHttpEndpointServesPartitionDataOnlyToClusterCertificates() throws Exception {
        String base = cluster.httpAddress(0).replace("http://", "https://");
        HttpClient trustOnly = HttpClient.newBuilder().sslContext(sslContext(null)).build();
        HttpResponse<String> health = trustOnly.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        URI snapshot = URI.create(base + "/partitions/tls-" + engine() + "/0/records?from=0");
        assertThat(trustOnly.send(HttpRequest.newBuilder(snapshot).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(403);
        HttpClient peer = HttpClient.newBuilder().sslContext(sslContext(adminStore)).build();
        assertThat(peer.send(HttpRequest.newBuilder(snapshot).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isNotEqualTo(403);
    }

    @Test
    @Order(6)
    void aReplacedKeyStoreIsServedByTheControlServiceAndTheHttpEndpointWithoutRestart() throws Exception {
        int control = port(cluster.controlAddress(0));
        int http = port(cluster.httpAddress(0));
        assertThat(servedSubject(control)).isEqualTo("CN=fluxmq-node,OU=nodes");
        assertThat(servedSubject(http)).isEqualTo("CN=fluxmq-node,OU=nodes");
        // every node reads the same key store file: replace it (atomically, as an operator should) with a new key
        // and certificate the cluster's CA signed
        Path rotated = ca.keystore("rotated", "CN=fluxmq-node-rotated,OU=nodes");
        Path store = dir.resolve("ca").resolve("node.p12");
        Path staged = dir.resolve("ca").resolve("node.p12.new");
        Files.copy(rotated, staged);
        Files.move(staged, store, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.setLastModifiedTime(store, FileTime.fromMillis(System.currentTimeMillis() + 2_000));
        for (int port : new int[] {control, http}) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String served = servedSubject(port);
            while (!served.equals("CN=fluxmq-node-rotated,OU=nodes") && System.nanoTime() < deadline) {
                Thread.sleep(100);
                served = servedSubject(port);
            }
            assertThat(served).as("the certificate a new connection to port %d is served", port)
                    .isEqualTo("CN=fluxmq-node-rotated,OU=nodes");
        }
        Result nodes = cli(controlConfig("admin-after-rotation.properties", adminStore, ca.truststore()), "nodes");
        assertThat(nodes.exit()).as("%s", nodes).isZero();
        assertThat(nodes.out()).contains("127.0.0.1");
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    /** The subject of the certificate a new TLS connection to {@code port} is served (offering gRPC's ALPN name). */
    private String servedSubject(int port) throws Exception {
        try (SSLSocket socket = (SSLSocket) sslContext(adminStore).getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setApplicationProtocols(new String[] {"h2", "http/1.1"});
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal()
                    .getName();
        }
    }

    private Path controlConfig(String name, Path keystore, Path truststore) throws Exception {
        List<String> lines = new ArrayList<>(List.of("security.protocol=SSL", "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + truststore, "ssl.truststore.password=" + TestCertificates.PASSWORD));
        if (keystore != null) {
            lines.addAll(List.of("ssl.keystore.type=PKCS12", "ssl.keystore.location=" + keystore,
                    "ssl.keystore.password=" + TestCertificates.PASSWORD));
        }
        Path file = dir.resolve(name);
        Files.write(file, lines);
        return file;
    }

    private record Result(int exit, String out, String err) {
    }

    private Result cli(Path controlConfig, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap", IntStream.range(0, 3).mapToObj(cluster::controlAddress)
                .collect(Collectors.joining(",")), "--timeout-ms", "10000"));
        if (controlConfig != null) {
            all.addAll(List.of("--control-config", controlConfig.toString()));
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = FluxmqAdmin.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        return new Result(exit, out.toString(), err.toString());
    }

    /** Trusting the cluster's CA; with the key store's certificate when one is given. */
    private SSLContext sslContext(Path keystore) throws Exception {
        KeyManagerFactory kmf = null;
        if (keystore != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(keystore)) {
                keys.load(in, TestCertificates.PASSWORD.toCharArray());
            }
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, TestCertificates.PASSWORD.toCharArray());
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(ca.truststore())) {
            trust.load(in, TestCertificates.PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    private static void awaitTrue(Duration timeout, String what, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("not within " + timeout + ": " + what);
    }
}
