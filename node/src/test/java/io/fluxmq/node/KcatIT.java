package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** librdkafka (Debian's kcat) produces to and consumes from a node, and interoperates with the Java client. */
class KcatIT {
    @TempDir
    static Path dataDir;
    static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.start(dataDir);
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void kcatProducesAndConsumes(String codec) throws Exception {
        String topic = "kcat-" + codec;
        node.createTopic(topic, 3);
        List<String> lines = IntStream.range(0, 2000).mapToObj(i -> "key" + i + ":value-" + i).toList();
        Result produced = kcat(String.join("\n", lines) + "\n", "-P", "-t", topic, "-K:", "-z", codec,
                "-X", "enable.idempotence=true", "-X", "acks=all");
        assertThat(produced.exit()).as("kcat -P stderr: %s", produced.err()).isZero();

        Result consumed = kcat("", "-C", "-t", topic, "-o", "beginning", "-e", "-f", "%k:%s\\n");
        assertThat(consumed.exit()).as("kcat -C stderr: %s", consumed.err()).isZero();
        assertThat(consumed.out().lines().sorted().toList()).isEqualTo(lines.stream().sorted().toList());

        Map<TopicPartition, List<ConsumerRecord<String, String>>> javaView =
                Clients.readAll(node.bootstrap(), topic, 3, Duration.ofSeconds(30));
        List<String> javaLines = javaView.values().stream().flatMap(List::stream)
                .map(r -> r.key() + ":" + r.value()).sorted().toList();
        assertThat(javaLines).isEqualTo(lines.stream().sorted().toList());
    }

    @Test
    void kcatReadsWhatTheJavaProducerWrote() throws Exception {
        node.createTopic("java-to-kcat", 2);
        Map<String, List<Long>> acked = new java.util.TreeMap<>(); // by partition, in order
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
            for (int i = 0; i < 500; i++) {
                long offset = producer.send(new ProducerRecord<>("java-to-kcat", i % 2, "k" + i, "v" + i)).get()
                        .offset();
                acked.computeIfAbsent(Integer.toString(i % 2), p -> new ArrayList<>()).add(offset);
            }
        }
        Result consumed = kcat("", "-C", "-t", "java-to-kcat", "-o", "beginning", "-e", "-f", "%p %o %k %s\\n");
        assertThat(consumed.exit()).as(consumed.err()).isZero();
        List<String> out = consumed.out().lines().toList();
        assertThat(out).hasSize(500);
        Map<String, List<String>> byPartition = out.stream().collect(Collectors.groupingBy(l -> l.split(" ")[0]));
        byPartition.forEach((partition, partitionLines) -> {
            List<Long> offsets = partitionLines.stream().map(l -> Long.parseLong(l.split(" ")[1])).toList();
            assertThat(offsets).as("partition %s: where the Java producer's records were acknowledged", partition)
                    .isEqualTo(acked.get(partition));
        });
        Result list = kcat("", "-L", "-t", "java-to-kcat");
        assertThat(list.out()).contains("2 partitions").contains("leader 0");
    }

    record Result(int exit, String out, String err) {}

    private static Result kcat(String stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("kcat", "-b", node.bootstrap()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("kcat did not finish within 60 s: " + cmd);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err,
                StandardCharsets.UTF_8));
    }
}
