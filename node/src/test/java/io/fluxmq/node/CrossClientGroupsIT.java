package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer groups of other clients read a topic the Java producer wrote and commit: kafka-python (Debian's
 * {@code python3-kafka}), kafkajs (npm, installed into {@code target/kafkajs}) and librdkafka (Debian's kcat, -G).
 * The commits are checked with the Java Admin client: every partition is committed at its end offset.
 */
class CrossClientGroupsIT {
    private static final int PARTITIONS = 3;
    private static final int RECORDS = 90;

    @TempDir
    static Path dataDir;
    static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.start(dataDir, Map.of("group.initial.rebalance.delay.ms", "0"));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    @Timeout(180)
    void kafkaPythonGroupReadsAndCommits() throws Exception {
        List<String> values = produce("python-topic");
        Result r = run(List.of("/usr/bin/python3", script("kafka_python_group.py"), node.bootstrap(), "python-topic",
                "python-group", Integer.toString(RECORDS), "60"), Map.of(), 120);
        assertThat(r.exit()).as("kafka-python output:%n%s", r.out()).isZero();
        assertThat(field(r.out(), "records")).isEqualTo(RECORDS);
        assertThat(new TreeSet<>(strings(r.out()))).isEqualTo(new TreeSet<>(values));
        assertCommittedAtEnd("python-group", "python-topic");
    }

    @Test
    @Timeout(300)
    void kafkajsGroupReadsAndCommits() throws Exception {
        Path modules = installKafkajs();
        List<String> values = produce("kafkajs-topic");
        Result r = run(List.of("node", script("kafkajs_group.js"), node.bootstrap(), "kafkajs-topic", "kafkajs-group",
                Integer.toString(RECORDS), "60"), Map.of("NODE_PATH", modules.toString()), 120);
        assertThat(r.exit()).as("kafkajs output:%n%s", r.out()).isZero();
        assertThat(field(r.out(), "records")).isEqualTo(RECORDS);
        assertThat(new TreeSet<>(strings(r.out()))).isEqualTo(new TreeSet<>(values));
        assertCommittedAtEnd("kafkajs-group", "kafkajs-topic");
    }

    @Test
    @Timeout(180)
    void librdkafkaGroupReadsAndCommits() throws Exception {
        List<String> values = produce("kcat-group-topic");
        Result r = run(List.of("kcat", "-b", node.bootstrap(), "-G", "kcat-group", "-X", "auto.offset.reset=earliest",
                "-e", "-f", "%s\\n", "kcat-group-topic"), Map.of(), 120);
        assertThat(r.exit()).as("kcat output:%n%s", r.out()).isZero();
        List<String> consumed = r.out().lines().filter(l -> l.startsWith("v")).toList();
        assertThat(new TreeSet<>(consumed)).isEqualTo(new TreeSet<>(values));
        assertCommittedAtEnd("kcat-group", "kcat-group-topic");
        try (Admin admin = admin()) {
            assertThat(admin.listGroups().all().get().stream().map(GroupListing::groupId))
                    .contains("kcat-group");
        }
    }

    private static List<String> produce(String topic) throws Exception {
        node.createTopic(topic, PARTITIONS);
        List<String> values = new ArrayList<>();
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
            for (int i = 0; i < RECORDS; i++) {
                values.add("v" + i);
                producer.send(new ProducerRecord<>(topic, i % PARTITIONS, "k" + i, "v" + i));
            }
            producer.flush();
        }
        return values;
    }

    private static void assertCommittedAtEnd(String group, String topic) throws Exception {
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, Long> offsets = new HashMap<>();
            committed.forEach((tp, o) -> offsets.put(tp, o.offset()));
            // each partition's end offset: its 30 records, and on multiraft its leader change entry before them
            Map<TopicPartition, Long> expected = Clients.endOffsets(node.bootstrap(), topic, PARTITIONS);
            assertThat(expected.values()).allMatch(end -> end >= RECORDS / PARTITIONS);
            assertThat(offsets).isEqualTo(expected);
        }
    }

    static Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrap());
        return Admin.create(p);
    }

    /** Installs kafkajs with npm into target/kafkajs once; returns its node_modules directory. */
    private static Path installKafkajs() throws Exception {
        Path dir = Path.of("target", "kafkajs").toAbsolutePath();
        Path modules = dir.resolve("node_modules");
        if (!Files.isDirectory(modules.resolve("kafkajs"))) {
            Files.createDirectories(dir);
            Result npm = run(List.of("npm", "install", "--prefix", dir.toString(), "--no-audit", "--no-fund",
                    "kafkajs@2.2.4"), Map.of(), 240);
            assertThat(npm.exit()).as("npm install kafkajs:%n%s", npm.out()).isZero();
        }
        return modules;
    }

    private static String script(String name) throws Exception {
        return new File(CrossClientGroupsIT.class.getResource("/clients/" + name).toURI()).getAbsolutePath();
    }

    private static int field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\": ?(\\d+)").matcher(json);
        assertThat(m.find()).as("field %s in %s", name, json).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static List<String> strings(String json) {
        Matcher m = Pattern.compile("\"(v\\d+)\"").matcher(json);
        List<String> out = new ArrayList<>();
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    record Result(int exit, String out) {}

    /** Runs a command with stdout and stderr merged, bounded by {@code timeoutSeconds}. */
    static Result run(List<String> cmd, Map<String, String> env, int timeoutSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process p = builder.start();
        p.getOutputStream().close();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (IOException e) {
                return new byte[0];
            }
        });
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd.get(0) + " did not finish within " + timeoutSeconds + " s: " + cmd
                    + "\n" + new String(out.getNow(new byte[0]), StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), new String(out.join(), StandardCharsets.UTF_8));
    }
}
