package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node process refuses bad settings and taken ports with a clear message and a non-zero exit. */
class MainIT {
    record Run(int exit, String output) {}

    private static Run run(Path dataDir, List<String> args, String... env) throws Exception {
        String classpath = "target/classes" + java.io.File.pathSeparator
                + Files.readString(Path.of("target", "classpath.txt")).trim();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classpath, "io.fluxmq.node.Main", "--data-dir", dataDir.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        for (int i = 0; i < env.length; i += 2) {
            pb.environment().put(env[i], env[i + 1]);
        }
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("node did not exit: " + cmd);
        }
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void badValuesExitWithCodeTwoNamingTheKey(@TempDir Path dir) throws Exception {
        Run notANumber = run(dir, List.of("--set", "kafka.port=ninety"));
        assertThat(notANumber.exit()).isEqualTo(2);
        assertThat(notANumber.output()).contains("invalid value 'ninety' for kafka.port");

        Run unknown = run(dir, List.of("--set", "no.such.key=1"));
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.output()).contains("unknown setting 'no.such.key'");

        Run fromEnv = run(dir, List.of(), "FLUXMQ_LOG_FSYNC", "sometimes");
        assertThat(fromEnv.exit()).isEqualTo(2);
        assertThat(fromEnv.output()).contains("for log.fsync: expected true or false");

        Path file = dir.resolve("node.properties");
        Files.writeString(file, "raft.election.timeout.min.ms=5000\nraft.election.timeout.max.ms=100\n");
        Run fromFile = run(dir, List.of("--config", file.toString()));
        assertThat(fromFile.exit()).isEqualTo(2);
        assertThat(fromFile.output()).contains("raft.election.timeout.max.ms");
    }

    @Test
    void badLivenessSettingsExitWithCodeTwoNamingTheKey(@TempDir Path dir) throws Exception {
        Run negative = run(dir, List.of("--set", "node.heartbeat.interval.ms=-5"));
        assertThat(negative.exit()).isEqualTo(2);
        assertThat(negative.output()).contains("invalid value -5 for node.heartbeat.interval.ms");

        Run notAbove = run(dir, List.of("--set", "node.heartbeat.interval.ms=2000",
                "--set", "node.session.timeout.ms=2000"));
        assertThat(notAbove.exit()).isEqualTo(2);
        assertThat(notAbove.output()).contains("node.session.timeout.ms (2000) must be above node.heartbeat.interval.ms");

        Run badPort = run(dir, List.of("--set", "control.port=70000"));
        assertThat(badPort.exit()).isEqualTo(2);
        assertThat(badPort.output()).contains("invalid value 70000 for control.port");

        Run mismatch = run(dir, List.of("--raft-port", "9192", "--set", "control.port=9999",
                "--set", "cluster.nodes=0@127.0.0.1:9092:9192"));
        assertThat(mismatch.exit()).isEqualTo(2);
        assertThat(mismatch.output()).contains("control.port 9999 differs from this node's control port 9292");
    }

    @Test
    void aPortInUseExitsWithCodeOne(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            Run run = run(dir, List.of("--kafka-port", Integer.toString(taken.getLocalPort()),
                    "--raft-port", Integer.toString(TestNode.freePort())));
            assertThat(run.exit()).isEqualTo(1);
            assertThat(run.output()).contains("a port is already in use").contains(":" + taken.getLocalPort());
        }
    }
}
