package io.fluxmq.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeEndpoint;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.NodeState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Parsing of the commands, exit codes for usage errors and an unreachable cluster, tables and JSON. */
class CommandLineTest {
    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        return run(Map.of(), null, args);
    }

    /** Runs with this environment and home directory instead of the process's. */
    private static Result run(Map<String, String> env, Path home, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = FluxmqAdmin.run(new PrintWriter(out), new PrintWriter(err), env, home, args);
        return new Result(exit, out.toString(), err.toString());
    }

    /** Where {@code cluster health} went, from the unreachable-cluster message (nothing listens on these ports). */
    private static String asked(Map<String, String> env, Path home, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("cluster", "health"));
        all.addAll(List.of(args));
        Result r = run(env, home, all.toArray(String[]::new));
        assertThat(r.exit()).as("%s", r).isEqualTo(3);
        return r.err();
    }

    @Test
    void theBootstrapComesFromTheCommandLineTheEnvironmentOrAConfigFile(@TempDir Path home) throws Exception {
        Map<String, String> both = Map.of("FLUXMQ_BOOTSTRAP", "127.0.0.1:2", "FLUXMQ_ADMIN_BOOTSTRAP", "127.0.0.1:3");
        assertThat(asked(Map.of("FLUXMQ_BOOTSTRAP", "127.0.0.1:2"), null, "--timeout-ms", "1000"))
                .contains("127.0.0.1:2");
        assertThat(asked(Map.of("FLUXMQ_ADMIN_BOOTSTRAP", "127.0.0.1:3"), null, "--timeout-ms", "1000"))
                .as("the older name still works").contains("127.0.0.1:3");
        assertThat(asked(both, null, "--timeout-ms", "1000")).contains("127.0.0.1:2").doesNotContain("127.0.0.1:3");
        assertThat(asked(both, null, "-b", "127.0.0.1:4", "--timeout-ms", "1000"))
                .contains("127.0.0.1:4").doesNotContain("127.0.0.1:2");

        // ~/.fluxmq/admin.properties, keyed by the options' long names
        Files.createDirectories(home.resolve(".fluxmq"));
        Files.writeString(home.resolve(".fluxmq/admin.properties"), "bootstrap=127.0.0.1:5\ntimeout-ms=1000\n");
        assertThat(asked(Map.of(), home)).contains("127.0.0.1:5");
        assertThat(asked(Map.of("FLUXMQ_BOOTSTRAP", "127.0.0.1:2"), home)).as("the environment comes first")
                .contains("127.0.0.1:2").doesNotContain("127.0.0.1:5");
        // --admin-config FILE (or FLUXMQ_ADMIN_CONFIG) instead of the one in the home directory
        Path other = Files.writeString(home.resolve("other.properties"),
                "bootstrap=127.0.0.1:6,127.0.0.1:7\ntimeout-ms=1000\noutput=json\n");
        assertThat(asked(Map.of(), home, "--admin-config", other.toString())).contains("127.0.0.1:6", "127.0.0.1:7")
                .doesNotContain("127.0.0.1:5");
        assertThat(asked(Map.of(), home, "--admin-config=" + other)).contains("127.0.0.1:6");
        assertThat(asked(Map.of("FLUXMQ_ADMIN_CONFIG", other.toString()), home)).contains("127.0.0.1:6");

        Result missing = run(Map.of(), home, "cluster", "health", "--admin-config", home.resolve("nope").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("cannot read the config file");
        Path typo = Files.writeString(home.resolve("typo.properties"), "bootstarp=127.0.0.1:8\n");
        Result unknown = run(Map.of(), home, "cluster", "health", "--admin-config", typo.toString());
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown keys [bootstarp]");
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertThat(run("topic").exit()).isEqualTo(2);
        assertThat(run("topic", "create", "--kafka-bootstrap", "127.0.0.1:1").exit()).isEqualTo(2);
        assertThat(run("topic", "frobnicate").exit()).isEqualTo(2);
        assertThat(run("group", "reset-offsets", "g", "--all-topics", "-k", "127.0.0.1:1").err())
                .contains("--to-earliest");
        Result both = run("group", "reset-offsets", "g", "--all-topics", "--to-earliest", "--to-latest",
                "-k", "127.0.0.1:1");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
        Result neither = run("group", "reset-offsets", "g", "--to-earliest", "-k", "127.0.0.1:1");
        assertThat(neither.exit()).isEqualTo(2);
        assertThat(neither.err()).contains("--topic", "--all-topics");
        assertThat(run("cluster", "status", "--output", "xml", "-k", "127.0.0.1:1").exit()).isEqualTo(2);
        Result noAddress = run("topic", "list");
        assertThat(noAddress.exit()).isEqualTo(2);
        assertThat(noAddress.err()).contains("--bootstrap", "--kafka-bootstrap");
        assertThat(run("topic", "alter-config", "t", "-k", "127.0.0.1:1").err()).contains("nothing to change");
        assertThat(run("topic", "create", "t", "--config", "novalue", "-k", "127.0.0.1:1").err())
                .contains("not key=value");
    }

    @Test
    void anUnreachableClusterExitsWithThree() {
        Result r = run("topic", "list", "--kafka-bootstrap", "127.0.0.1:1", "--timeout-ms", "1000");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("no broker answered at 127.0.0.1:1", "--kafka-bootstrap");
        Result health = run("cluster", "health", "--bootstrap", "127.0.0.1:1", "--timeout-ms", "1000");
        assertThat(health.exit()).isEqualTo(3);
        assertThat(health.err()).contains("no node answered", "127.0.0.1:1");
    }

    @Test
    void everyCommandIsThere() {
        CommandLine cl = new CommandLine(new FluxmqAdmin());
        assertThat(cl.getSubcommands()).containsKeys("cluster", "nodes", "topic", "group", "partition");
        assertThat(cl.getSubcommands().get("cluster").getSubcommands()).containsKeys("status", "health");
        assertThat(cl.getSubcommands().get("topic").getSubcommands())
                .containsKeys("create", "list", "describe", "delete", "add-partitions", "alter-config");
        assertThat(cl.getSubcommands().get("group").getSubcommands())
                .containsKeys("list", "describe", "reset-offsets", "delete");
        assertThat(cl.getSubcommands().get("partition").getSubcommands()).containsKeys("describe");
        assertThat(cl.getSubcommands().get("raft").getSubcommands()).containsKeys("status", "snapshot");
    }

    @Test
    void raftCommandsTakeTheTopicAsArgumentOrOption() {
        Result noTopic = run("raft", "snapshot", "-p", "0", "-b", "127.0.0.1:1");
        assertThat(noTopic.exit()).isEqualTo(2);
        assertThat(noTopic.err()).contains("missing topic: give TOPIC or --topic TOPIC");
        Result twoTopics = run("raft", "status", "a", "--topic", "b", "-p", "0", "-b", "127.0.0.1:1");
        assertThat(twoTopics.exit()).isEqualTo(2);
        assertThat(twoTopics.err()).contains("two topics given: a and --topic b");
        assertThat(run("raft", "snapshot", "t", "-b", "127.0.0.1:1").err()).contains("--partition");
        // both forms reach the control service: nothing listens there, so the cluster is unreachable (3)
        for (String[] args : List.of(new String[] {"raft", "snapshot", "t", "-p", "0"},
                new String[] {"raft", "snapshot", "--topic", "t", "--partition", "0"},
                new String[] {"raft", "status", "--topic", "t", "-p", "0"})) {
            List<String> all = new java.util.ArrayList<>(List.of(args));
            all.addAll(List.of("-b", "127.0.0.1:1", "--timeout-ms", "1000"));
            Result r = run(all.toArray(String[]::new));
            assertThat(r.exit()).as("%s: %s", all, r).isEqualTo(3);
            assertThat(r.err()).contains("no node answered");
        }
    }

    @Test
    void kafkaBootstrapIsGivenOrTheRegisteredAddresses() {
        ConnectionOptions given = new ConnectionOptions();
        given.kafka = List.of("a:9092", " ", "b:9092");
        assertThat(KafkaSession.kafkaBootstrap(given, () -> {
            throw new AssertionError("not asked");
        })).isEqualTo("a:9092,b:9092");

        ConnectionOptions derived = new ConnectionOptions();
        derived.control = List.of("a:9292");
        DescribeNodesReply reply = DescribeNodesReply.newBuilder()
                .addNodes(node(0, NodeState.NODE_STATE_DOWN, "n0"))
                .addNodes(node(1, NodeState.NODE_STATE_UP, "n1"))
                .addNodes(node(2, NodeState.NODE_STATE_UNKNOWN, ""))
                .build();
        // UP nodes first; a node that never registered has no address
        assertThat(KafkaSession.kafkaBootstrap(derived, () -> reply)).isEqualTo("n1:19092,n0:19092");

        assertThatThrownBy(() -> KafkaSession.kafkaBootstrap(new ConnectionOptions(), () -> reply))
                .isInstanceOf(AdminException.class)
                .satisfies(e -> assertThat(((AdminException) e).exitCode()).isEqualTo(2));
    }

    private static NodeInfo node(int id, NodeState state, String host) {
        return NodeInfo.newBuilder().setNodeId(id).setState(state)
                .setEndpoint(NodeEndpoint.newBuilder().setHost(host).setKafkaPort(19092).setControlPort(9292))
                .build();
    }

    @Test
    void tablesAlignAndJsonEscapes() {
        String table = new Table("A", "LONGER").row("xyz", null).row(1, 2).render();
        assertThat(table).isEqualTo("A    LONGER\nxyz  -\n1    2\n");
        assertThat(Json.write(Map.of("k", List.of("a\"b\n", 1, true)))).isEqualTo(
                "{\n  \"k\": [\n    \"a\\\"b\\n\",\n    1,\n    true\n  ]\n}\n");
        assertThat(Json.write(List.of())).isEqualTo("[]\n");
    }
}
