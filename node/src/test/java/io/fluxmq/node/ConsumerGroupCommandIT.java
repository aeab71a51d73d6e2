package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.tools.consumer.group.ConsumerGroupCommand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kafka's own {@code kafka-consumer-groups} tool ({@code ConsumerGroupCommand} from kafka-tools) against a node: it
 * lists groups, describes them with offsets, lag and members, resets offsets of an inactive group and deletes it.
 */
class ConsumerGroupCommandIT {
    private static final int PARTITIONS = 3;
    private static final int PER_PARTITION = 30;

    @TempDir
    static Path dataDir;
    static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.start(dataDir, Map.of("group.initial.rebalance.delay.ms", "0",
                "group.consumer.heartbeat.interval.ms", "500"));
        Exit.setExitProcedure((status, message) -> {
            throw new IllegalStateException("kafka-consumer-groups exited with " + status + ": " + message);
        });
    }

    @AfterAll
    static void stop() {
        Exit.resetExitProcedure();
        node.close();
    }

    @ParameterizedTest(name = "group.protocol={0}")
    @ValueSource(strings = {"classic", "consumer"})
    @Timeout(180)
    void listsAndDescribesAnActiveGroupWithLag(String protocol) throws Exception {
        String topic = "tool-" + protocol;
        String group = "tool-group-" + protocol;
        Map<TopicPartition, Long> ends = produce(topic);
        try (KafkaConsumer<String, String> consumer = consumer(group, protocol)) {
            consumer.subscribe(List.of(topic));
            awaitAssignment(consumer);
            Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                commit.put(new TopicPartition(topic, p), new OffsetAndMetadata(20));
            }
            consumer.commitSync(commit);

            assertThat(tool("--list")).contains(group);
            String describe = tool("--describe", "--group", group);
            List<String[]> rows = rows(describe, topic);
            assertThat(rows).as(describe).hasSize(PARTITIONS);
            for (String[] row : rows) {
                // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
                long end = ends.get(new TopicPartition(topic, Integer.parseInt(row[2])));
                assertThat(end).isGreaterThanOrEqualTo(PER_PARTITION);
                assertThat(row[3]).as(describe).isEqualTo("20");
                assertThat(row[4]).isEqualTo(Long.toString(end));
                assertThat(row[5]).isEqualTo(Long.toString(end - 20));
                assertThat(row[6]).as("consumer id of an active member").isNotEqualTo("-");
            }
            String members = tool("--describe", "--group", group, "--members");
            assertThat(members).contains(group).contains("/127.0.0.1");
            String state = tool("--describe", "--group", group, "--state");
            assertThat(state).contains("Stable");
        }
    }

    @Test
    @Timeout(180)
    void resetsOffsetsOfAnInactiveGroupAndDeletesIt() throws Exception {
        String topic = "tool-reset";
        String group = "tool-reset-group";
        Map<TopicPartition, Long> ends = produce(topic);
        try (KafkaConsumer<String, String> consumer = consumer(group, "classic")) {
            consumer.subscribe(List.of(topic));
            awaitAssignment(consumer);
            Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                commit.put(new TopicPartition(topic, p), new OffsetAndMetadata(PER_PARTITION));
            }
            consumer.commitSync(commit);
        }

        String dryRun = tool("--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--dry-run");
        assertThat(rows(dryRun, topic)).hasSize(PARTITIONS).allSatisfy(r -> assertThat(r[3]).isEqualTo("0"));
        assertThat(committed(group, topic)).as("a dry run changes nothing")
                .isEqualTo(Map.of(0, (long) PER_PARTITION, 1, (long) PER_PARTITION, 2, (long) PER_PARTITION));

        tool("--reset-offsets", "--group", group, "--topic", topic + ":1", "--to-offset", "7", "--execute");
        tool("--reset-offsets", "--group", group, "--topic", topic + ":0,2", "--shift-by", "-5", "--execute");
        Map<Integer, Long> after = committed(group, topic);
        assertThat(after).containsEntry(0, (long) PER_PARTITION - 5).containsEntry(1, 7L)
                .containsEntry(2, (long) PER_PARTITION - 5);

        String describe = tool("--describe", "--group", group);
        assertThat(describe).contains("has no active members");
        assertThat(rows(describe, topic)).anySatisfy(r -> assertThat(r).startsWith(group, topic, "1", "7",
                Long.toString(ends.get(new TopicPartition(topic, 1))),
                Long.toString(ends.get(new TopicPartition(topic, 1)) - 7)));

        tool("--delete-offsets", "--group", group, "--topic", topic + ":2");
        assertThat(committed(group, topic)).containsOnlyKeys(0, 1);
        assertThat(tool("--delete", "--group", group)).contains("successful");
        assertThat(tool("--list")).doesNotContain(group);
    }

    /** Lines of the tool's offset tables that name the topic, split on whitespace. */
    private static List<String[]> rows(String output, String topic) {
        List<String[]> out = new ArrayList<>();
        for (String line : output.lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && f[1].equals(topic)) {
                out.add(f);
            }
        }
        return out;
    }

    /** Runs kafka-consumer-groups in this JVM and returns what it printed. */
    private static synchronized String tool(String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", node.bootstrap()));
        all.addAll(List.of(args));
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            System.setErr(capture);
            ConsumerGroupCommand.main(all.toArray(String[]::new));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        originalOut.println("kafka-consumer-groups " + String.join(" ", args) + "\n" + output);
        assertThat(output).as("tool output").doesNotContain("Error:").doesNotContain("failed due to");
        return output;
    }

    private static Map<Integer, Long> committed(String group, String topic) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrap());
        try (Admin admin = Admin.create(p)) {
            Map<Integer, Long> out = new HashMap<>();
            admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                    .forEach((tp, o) -> {
                        if (tp.topic().equals(topic)) {
                            out.put(tp.partition(), o.offset());
                        }
                    });
            return out;
        }
    }

    /**
     * Writes {@value #PER_PARTITION} records to each partition; returns the end offsets (on multiraft a partition's
     * leader change entry takes an offset before its records).
     */
    private static Map<TopicPartition, Long> produce(String topic) throws Exception {
        node.createTopic(topic, PARTITIONS);
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
            for (int i = 0; i < PER_PARTITION; i++) {
                for (int p = 0; p < PARTITIONS; p++) {
                    producer.send(new ProducerRecord<>(topic, p, "k", "v" + i));
                }
            }
            producer.flush();
        }
        return Clients.endOffsets(node.bootstrap(), topic, PARTITIONS);
    }

    private static KafkaConsumer<String, String> consumer(String group, String protocol) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrap());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    }

    /** Polls until the consumer owns every partition (it is the only member). */
    private static void awaitAssignment(KafkaConsumer<String, String> consumer) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (consumer.assignment().size() < PARTITIONS) {
            assertThat(System.nanoTime()).as("assignment within 60 s").isLessThan(deadline);
            consumer.poll(Duration.ofMillis(100));
        }
    }
}
