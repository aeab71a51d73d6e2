package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Kafka's operator tools as an operator runs them: each in its own JVM, from the test class path. */
final class KafkaTools {
    private KafkaTools() {
    }

    /**
     * Kafka's {@code kafka-configs.sh} ({@code kafka.admin.ConfigCommand} of kafka_2.13 4.1.1); asserts it exits 0 and
     * returns what it printed.
     */
    static String kafkaConfigs(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "kafka.admin.ConfigCommand"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
        String printed = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(printed).isZero();
        return printed;
    }
}
