package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fluxmq.admin.FluxmqAdmin;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code fluxmq-admin} command against a three-process cluster, each checked by its effect through the Kafka
 * clients: a created topic exists with its partitions, replication factor and config, grows, is deleted; group
 * offsets reset by each rule are what a consumer then reads (and an active group is refused); {@code cluster status}
 * with a node killed shows it DOWN and lists the under-replicated partitions, and {@code cluster health} exits 1
 * until the node is back.
 */
class AdminCommandsIT {
    private static final String TOPIC = "orders";
    private static final String GROUP = "billing";
    private static final int RECORDS = 100;
    /**
     * The offset of the first record written to partition 0 ("r0"; record "r<i>" is at {@code first + i}): 0 on Ratis,
     * past the leader change entry on multiraft, whose control batch takes an offset (consumers skip it).
     */
    private static long first;
    private static final long BASE_TIME = 1_700_000_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + out + "stderr:\n" + err;
        }
    }

    @Test
    void everyCommandAgainstARealCluster(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of(
                "node.heartbeat.interval.ms", "1000", "node.session.timeout.ms", "6000"))) {
            String control = IntStream.range(0, 3).mapToObj(cluster::controlAddress).collect(Collectors.joining(","));
            Cli cli = new Cli(control);
            Result healthy = cli.await(r -> r.exit() == 0, 90_000, "cluster", "health");
            assertThat(healthy.out()).isEqualTo("healthy\n");
            runnableJar(control);

            try (Admin admin = cluster.admin()) {
                nodeAdd(cli, admin);
                topics(cli, admin);
                groups(cli, admin, cluster.bootstrap());
                partitions(cli, admin, cluster.bootstrap());
                snapshots(cli, admin, cluster.bootstrap());
                assertThat(cli.ok("topic", "delete", TOPIC).out()).isEqualTo("deleted topic " + TOPIC + "\n");
                cli.await(r -> r.exit() == 0 && !r.out().contains(TOPIC), 10_000, "topic", "list");
                eventually(() -> {
                    assertThat(admin.listTopics().names().get()).doesNotContain(TOPIC);
                    return true;
                });
                // each node applies the deletion from the metadata log on its own (as Kafka's brokers do), so the
                // node a new CLI process asks may still list the topic for a moment
                Result gone = cli.await(r -> r.exit() == 1, 10_000, "topic", "describe", TOPIC);
                assertThat(gone.err()).contains("no such topic");
            }
            nodeDown(cluster, cli);
        }
    }

    /**
     * The packaged command line, {@code java -jar admin-cli/target/fluxmq-admin.jar} (its manifest names the main
     * class and the dependencies in {@code target/lib/}), in its own process, with the cluster from the environment
     * variable FLUXMQ_BOOTSTRAP.
     */
    private static void runnableJar(String control) throws Exception {
        Path jar = Path.of("..", "admin-cli", "target", "fluxmq-admin.jar");
        assertThat(jar).as("packaged by the admin-cli module before node's integration tests").isRegularFile();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString(), "cluster", "status", "--output", "json");
        pb.environment().put("FLUXMQ_BOOTSTRAP", control);
        pb.environment().remove("FLUXMQ_ADMIN_BOOTSTRAP");
        Path err = Files.createTempFile("fluxmq-admin-jar", ".err");
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("stdout:\n%s\nstderr:\n%s", out, Files.readString(err)).isZero();
        JsonNode status = JSON.readTree(out);
        assertThat(status.get("nodes")).hasSize(3);
        assertThat(status.get("cluster_id").asText()).isNotBlank();
    }

    /** {@code node add}: the next free id and the new node's settings, the cluster id as Kafka's DescribeCluster. */
    private static void nodeAdd(Cli cli, Admin admin) throws Exception {
        JsonNode add = JSON.readTree(cli.ok("node", "add", "--host", "127.0.0.1", "--kafka-port", "19099",
                "--raft-port", "19199", "--output", "json").out());
        assertThat(add.get("next_free_id").asInt()).isEqualTo(3);
        assertThat(add.get("node_id").asInt()).isEqualTo(3);
        String clusterId = admin.describeCluster().clusterId().get();
        assertThat(add.get("cluster_id").asText()).isEqualTo(clusterId);
        JsonNode settings = add.get("settings");
        assertThat(settings.get("node.id").asText()).isEqualTo("3");
        assertThat(settings.get("cluster.id").asText()).isEqualTo(clusterId);
        assertThat(settings.get("controller.nodes").asText()).isEqualTo("0,1,2");
        String[] seeds = settings.get("cluster.nodes").asText().split(",");
        assertThat(seeds).hasSize(4);
        assertThat(seeds[3]).isEqualTo("3@127.0.0.1:19099:19199");
        for (int i = 0; i < 3; i++) {
            assertThat(seeds[i]).startsWith(i + "@127.0.0.1:");
        }
        String table = cli.ok("node", "add", "--host", "127.0.0.1").out();
        System.out.println("AdminCommandsIT: node add --host 127.0.0.1\n" + table);
        assertThat(table).startsWith("next free node id: 3\n")
                .contains("\nnode.id=3\n", "\ncluster.id=" + clusterId + "\n");
        Result taken = cli.run("node", "add", "--host", "127.0.0.1", "--id", "1");
        assertThat(taken.exit()).as("%s", taken).isEqualTo(1);
        assertThat(taken.err()).contains("node id 1 is taken", "the next free id is 3");
    }

    private static void topics(Cli cli, Admin admin) throws Exception {
        Result created = cli.ok("topic", "create", TOPIC, "--partitions", "3", "--replication-factor", "3",
                "--config", "retention.ms=3600000");
        assertThat(created.out()).isEqualTo("created topic orders with 3 partitions, replication factor 3\n");
        // the node Admin asks may apply the metadata a moment after the one that created the topic
        TopicDescription d = eventually(() -> admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC));
        assertThat(d.partitions()).hasSize(3).allSatisfy(p -> assertThat(p.replicas()).hasSize(3));
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC);
        Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
        assertThat(config.get("retention.ms").value()).isEqualTo("3600000");

        Result again = cli.run("topic", "create", TOPIC, "--partitions", "3");
        assertThat(again.exit()).as("%s", again).isEqualTo(1);
        assertThat(again.err()).contains("creating topic orders failed: the topic already exists");
        assertThat(cli.ok("topic", "create", TOPIC, "--if-not-exists").out()).contains("already exists");

        // a CLI process may ask a node that has not applied the new topic yet
        Result listed = cli.await(r -> r.exit() == 0 && r.out().lines().anyMatch(l -> l.startsWith(TOPIC + " ")),
                10_000, "topic", "list");
        assertThat(line(listed.out(), TOPIC).split("\\s+")).containsExactly(TOPIC, "3", "3");
        assertThat(cli.ok("topic", "list", "--internal").out()).contains("__consumer_offsets");

        // every partition gets a leader in the ISR (Metadata is what the command shows)
        JsonNode described = cli.awaitJson(j -> j.get(0).get("partitions").size() == 3
                && all(j.get(0).get("partitions"), p -> !p.get("leader").isNull() && p.get("isr").size() == 3),
                30_000, "topic", "describe", TOPIC);
        assertThat(described.get(0).get("id").asText()).isEqualTo(d.topicId().toString());
        assertThat(described.get(0).get("configs").get("retention.ms").asText()).isEqualTo("3600000");
        String table = cli.ok("topic", "describe", TOPIC).out();
        assertThat(table).startsWith("topic orders, id " + d.topicId() + ", 3 partitions, replication factor 3\n"
                + "configs: retention.ms=3600000\n");
        assertThat(line(table, "0 ")).matches("0 +[0-2] +[0-2],[0-2],[0-2] +[0-2],[0-2],[0-2] +-");

        assertThat(cli.ok("topic", "add-partitions", TOPIC, "--partitions", "4").out())
                .isEqualTo("topic orders now has 4 partitions\n");
        assertThat(eventually(() -> {
            TopicDescription grown = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
            assertThat(grown.partitions()).hasSize(4);
            return grown;
        }).partitions()).hasSize(4);
        Result shrink = cli.run("topic", "add-partitions", TOPIC, "--partitions", "2");
        assertThat(shrink.exit()).as("%s", shrink).isEqualTo(1);

        assertThat(cli.ok("topic", "alter-config", TOPIC, "--set", "retention.ms=1", "--validate-only").out())
                .isEqualTo("validated (not applied) config changes of topic orders\n");
        Result compressed = cli.run("topic", "alter-config", TOPIC, "--set", "compression.type=zstd");
        assertThat(compressed.exit()).as("%s", compressed).isEqualTo(1);
        assertThat(compressed.err()).contains("altering configs of topic orders failed: "
                + "InvalidConfigurationException: compression.type=zstd is not supported");
        Result unknown = cli.run("topic", "alter-config", TOPIC, "--set", "no.such.config=1");
        assertThat(unknown.exit()).as("%s", unknown).isEqualTo(1);
        assertThat(unknown.err()).contains("Unknown topic config name: no.such.config");
        assertThat(config(admin, resource).get("retention.ms").value()).isEqualTo("3600000");

        assertThat(cli.ok("topic", "alter-config", TOPIC, "--set", "retention.ms=7200000", "--set",
                "segment.ms=600000").out()).isEqualTo("altered configs of topic orders\n");
        eventually(() -> {
            Config altered = config(admin, resource);
            assertThat(altered.get("retention.ms").value()).isEqualTo("7200000");
            assertThat(altered.get("segment.ms").value()).isEqualTo("600000");
            return altered;
        });
        cli.ok("topic", "alter-config", TOPIC, "--delete", "segment.ms", "--set", "retention.ms=3600000");
        eventually(() -> {
            Config restored = config(admin, resource);
            assertThat(restored.get("retention.ms").value()).isEqualTo("3600000");
            assertThat(restored.get("segment.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
            return restored;
        });
    }

    private static Config config(Admin admin, ConfigResource resource) throws Exception {
        return admin.describeConfigs(List.of(resource)).all().get().get(resource);
    }

    private static void groups(Cli cli, Admin admin, String bootstrap) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
            for (int i = 0; i < RECORDS; i++) {
                long offset = producer.send(new ProducerRecord<>(TOPIC, 0, BASE_TIME + i * 1000L, null, "r" + i)).get()
                        .offset();
                if (i == 0) {
                    first = offset;
                }
                assertThat(offset).as("r%s follows r0", i).isEqualTo(first + i);
            }
        }
        String end = Long.toString(first + RECORDS);
        TopicPartition p0 = new TopicPartition(TOPIC, 0);
        try (KafkaConsumer<String, String> member = new KafkaConsumer<>(consumerProps(bootstrap))) {
            member.subscribe(List.of(TOPIC));
            int read = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (read < RECORDS && System.nanoTime() < deadline) {
                read += member.poll(Duration.ofMillis(200)).count();
            }
            assertThat(read).isEqualTo(RECORDS);
            member.commitSync();

            assertThat(line(cli.ok("group", "list").out(), GROUP).split("\\s+"))
                    .containsExactly(GROUP, "classic", "Stable");
            String describe = cli.ok("group", "describe", GROUP).out();
            assertThat(describe).startsWith("group billing: state Stable, type classic");
            assertThat(row(describe, TOPIC, "0")).startsWith(TOPIC, "0", end, end, "0");

            Result active = cli.run("group", "reset-offsets", GROUP, "--topic", TOPIC, "--to-earliest", "--execute");
            assertThat(active.exit()).as("%s", active).isEqualTo(1);
            assertThat(active.err()).contains("stop its consumers first");
        }
        assertThat(committed(admin, p0)).isEqualTo(first + RECORDS);

        Result dry = cli.ok("group", "reset-offsets", GROUP, "--topic", TOPIC + ":0", "--to-offset", "40");
        assertThat(line(dry.out(), GROUP).split("\\s+")).containsExactly(GROUP, TOPIC, "0", end, "40");
        assertThat(dry.out()).contains("dry run: nothing changed");
        assertThat(committed(admin, p0)).as("a dry run changes nothing").isEqualTo(first + RECORDS);

        cli.ok("group", "reset-offsets", GROUP, "--topic", TOPIC + ":0", "--to-offset", "40", "--execute");
        assertThat(readFromCommitted(bootstrap, p0)).isEqualTo(40);
        cli.ok("group", "reset-offsets", GROUP, "--topic", TOPIC + ":0", "--shift-by", "-15", "--execute");
        assertThat(readFromCommitted(bootstrap, p0)).isEqualTo(25);
        String at70 = Instant.ofEpochMilli(BASE_TIME + 70_000).toString();
        cli.ok("group", "reset-offsets", GROUP, "--topic", TOPIC + ":0", "--to-datetime", at70, "--execute");
        assertThat(readFromCommitted(bootstrap, p0)).isEqualTo(first + 70);
        cli.ok("group", "reset-offsets", GROUP, "--all-topics", "--to-earliest", "--execute");
        assertThat(readFromCommitted(bootstrap, p0)).isEqualTo(first);
        Result latest = cli.ok("group", "reset-offsets", GROUP, "--all-topics", "--to-latest", "--execute",
                "--output", "json");
        JsonNode plan = JSON.readTree(latest.out());
        assertThat(plan.get("executed").asBoolean()).isTrue();
        JsonNode first0 = plan.get("partitions").get(0);
        assertThat(first0.get("partition").asInt()).isZero();
        assertThat(first0.get("new_offset").asLong()).isEqualTo(first + RECORDS);
        assertThat(committed(admin, p0)).isEqualTo(first + RECORDS);

        JsonNode group = JSON.readTree(cli.ok("group", "describe", GROUP, "--output", "json").out()).get(0);
        assertThat(group.get("state").asText()).isEqualTo("Empty");
        assertThat(group.get("members")).isEmpty();
        JsonNode offsets0 = group.get("offsets").get(0);
        assertThat(offsets0.get("current_offset").asLong()).isEqualTo(first + RECORDS);
        assertThat(offsets0.get("lag").asLong()).isZero();

        assertThat(cli.ok("group", "delete", GROUP).out()).isEqualTo("deleted group billing\n");
        assertThat(admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get().values())
                .allMatch(Objects::isNull);
        assertThat(cli.ok("group", "list").out()).doesNotContain(GROUP);
    }

    private static void partitions(Cli cli, Admin admin, String kafkaBootstrap) throws Exception {
        String table = cli.ok("partition", "describe", TOPIC, "--partition", "0").out();
        System.out.println("AdminCommandsIT: partition describe " + TOPIC + " --partition 0\n" + table);
        String[] row = line(table, "0 ").split("\\s+");
        assertThat(row).as(table).hasSize(14);
        assertThat(row[3].split(",")).contains(row[1]); // the leader is a replica
        assertThat(Integer.parseInt(row[2])).isPositive(); // leader epoch = the partition's Raft term
        assertThat(row[6]).as("adding (no reassignment)").isEqualTo("-");
        assertThat(row[7]).as("removing (no reassignment)").isEqualTo("-");
        assertThat(row[8]).isEqualTo("0");
        assertThat(row[9]).isEqualTo(Long.toString(first + RECORDS));
        // the Raft columns, from the leader's raft status: commit index, each replica's match index and lag, size
        JsonNode raft = JSON.readTree(cli.ok("raft", "status", TOPIC, "-p", "0", "--output", "json").out());
        assertThat(row[10]).isEqualTo(raft.get("commit_index").asText());
        List<String> replicas = List.of(row[3].split(","));
        assertThat(row[11].split(",")).as("node:match per replica").hasSize(3)
                .allSatisfy(cell -> assertThat(replicas).contains(cell.split(":")[0]));
        assertThat(row[12].split(",")).as("node:lag per replica").hasSize(3)
                .allSatisfy(cell -> assertThat(cell).matches("[0-2]:\\d+"));
        assertThat(Long.parseLong(row[13])).as("log size").isPositive();
        long end = first + RECORDS;
        JsonNode settled = cli.awaitJson(j -> j.get(0).get("raft_replicas").size() == 3
                && all(j.get(0).get("raft_replicas"), r -> r.get("lag").asLong(-1) == 0), 30_000,
                "partition", "describe", TOPIC, "--partition", "0").get(0);
        assertThat(settled.get("commit_index").asLong()).isGreaterThanOrEqualTo("multiraft".equals(
                raft.get("engine").asText()) ? end : RECORDS);
        assertThat(settled.get("size_bytes").asLong()).isPositive();
        for (JsonNode r : settled.get("raft_replicas")) {
            assertThat(r.get("match_index").asLong()).as("%s", r).isGreaterThanOrEqualTo(
                    settled.get("commit_index").asLong());
        }
        Result kafkaOnly = cli.runWithout("partition", "describe", TOPIC, "--partition", "0", "--kafka-bootstrap",
                kafkaBootstrap);
        assertThat(kafkaOnly.exit()).as("%s", kafkaOnly).isZero();
        String[] kafkaRow = line(kafkaOnly.out(), "0 ").split("\\s+");
        assertThat(Arrays.copyOfRange(kafkaRow, 10, kafkaRow.length)).as("no control address: Raft columns unknown")
                .containsExactly("-", "-", "-", "-");
        JsonNode all = JSON.readTree(cli.ok("partition", "describe", TOPIC, "--output", "json").out());
        assertThat(all).hasSize(4);
        TopicPartition p1 = new TopicPartition(TOPIC, 1); // no record: 0 on Ratis, past its leader changes on multiraft
        assertThat(all.get(1).get("log_end_offset").asLong()).isEqualTo(admin.listOffsets(
                Map.of(p1, OffsetSpec.latest())).partitionResult(p1).get().offset());
        Result missing = cli.run("partition", "describe", TOPIC, "--partition", "9");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("has no partition 9");
    }

    /**
     * {@code raft snapshot}, checked with {@code raft status}. On multiraft (the default engine) the segment log is
     * the Raft log and its snapshot is the log start: with 1 KiB segments a snapshot compacts nothing until
     * DeleteRecords moves the log start past a segment, and then compacts to the last segment boundary below it
     * (the Kafka log start stays where DeleteRecords put it). On Ratis the state machine snapshots its applied index.
     */
    private static void snapshots(Cli cli, Admin admin, String bootstrap) throws Exception {
        String topic = "snapped";
        cli.ok("topic", "create", topic, "--partitions", "1", "--replication-factor", "3",
                "--config", "segment.bytes=1024", "--config", "max.message.bytes=1024");
        TopicPartition tp = new TopicPartition(topic, 0);
        long end = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
            String value = "x".repeat(200);
            for (int i = 0; i < 40; i++) { // one batch each: several per segment, about ten segments
                end = eventually(() -> producer.send(new ProducerRecord<>(topic, 0, null, value)).get().offset()) + 1;
            }
        }
        long written = end;
        JsonNode before = cli.awaitJson(s -> s.get("role").asText().equals("LEADER")
                && s.get("commit_index").asLong() >= written, 30_000, "raft", "status", topic, "-p", "0");
        assertThat(before.get("log_segments").asInt()).as("%s", before).isGreaterThan(3);
        boolean multiRaft = before.get("engine").asText().equals("multiraft");
        if (!multiRaft) {
            JsonNode taken = JSON.readTree(cli.ok("raft", "snapshot", "--topic", topic, "--partition", "0",
                    "--output", "json").out());
            assertThat(taken.get("snapshot_index").asLong()).isGreaterThan(before.get("snapshot_index").asLong(-1));
            JsonNode after = JSON.readTree(cli.ok("raft", "status", topic, "-p", "0", "--output", "json").out());
            assertThat(after.get("snapshot_index").asLong()).isEqualTo(taken.get("snapshot_index").asLong());
            return;
        }
        assertThat(before.get("snapshot_index").isNull()).as("nothing compacted yet: %s", before).isTrue();
        String unmoved = cli.ok("raft", "snapshot", topic, "-p", "0").out();
        assertThat(unmoved).startsWith("partition snapped-0 on node ").contains("(multiraft): nothing to compact")
                .endsWith("snapshot index none -> none\n");

        long deleteTo = written - 5;
        admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(deleteTo))).all().get();
        JsonNode taken = JSON.readTree(cli.ok("raft", "snapshot", "--topic", topic, "--partition", "0",
                "--output", "json").out());
        assertThat(taken.get("engine").asText()).isEqualTo("multiraft");
        assertThat(taken.get("previous_snapshot_index").isNull()).as("%s", taken).isTrue();
        long index = taken.get("snapshot_index").asLong(-1);
        assertThat(index).as("compacted to a segment boundary at or below the log start: %s", taken)
                .isPositive().isLessThanOrEqualTo(deleteTo);
        String status = cli.ok("raft", "status", topic, "-p", "0").out();
        System.out.println("AdminCommandsIT: raft snapshot " + topic + " -p 0\n" + unmoved + "after DeleteRecords to "
                + deleteTo + ": " + taken + "raft status " + topic + " -p 0\n" + status);
        JsonNode after = JSON.readTree(cli.ok("raft", "status", topic, "-p", "0", "--output", "json").out());
        assertThat(after.get("answered_by").asInt()).isEqualTo(taken.get("node_id").asInt());
        assertThat(after.get("snapshot_index").asLong()).isEqualTo(index);
        assertThat(after.get("log_segments").asInt()).isLessThan(before.get("log_segments").asInt());
        assertThat(after.get("log_start_offset").asLong()).as("the Kafka log start").isEqualTo(deleteTo);
        assertThat(admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get().offset())
                .isEqualTo(deleteTo);
    }

    /** Whether a {@code cluster status --output json} answer counts a leader for every partition. */
    private static boolean everyPartitionLed(String json) {
        try {
            JsonNode status = JSON.readTree(json);
            int leaders = 0;
            for (JsonNode n : status.get("nodes")) {
                leaders += n.get("leaders").asInt();
            }
            return leaders == status.get("partitions").asInt();
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static void nodeDown(TestCluster cluster, Cli cli) throws Exception {
        cli.ok("topic", "create", "status", "--partitions", "3", "--replication-factor", "3");
        cli.await(r -> r.exit() == 0, 60_000, "cluster", "health");
        // the node answering may list the new topic's leaders a moment after the one that answered health
        JsonNode status = JSON.readTree(cli.await(r -> r.exit() == 0 && everyPartitionLed(r.out()), 30_000,
                "cluster", "status", "--output", "json").out());
        int controller = status.get("controller").asInt();
        int victim = controller == 2 ? 1 : 2;
        assertThat(status.get("nodes")).hasSize(3);
        for (JsonNode n : status.get("nodes")) {
            assertThat(n.get("state").asText()).isEqualTo("UP");
            assertThat(n.get("replicas").asInt()).as("node %s", n).isPositive();
        }
        int leaders = 0;
        for (JsonNode n : status.get("nodes")) {
            leaders += n.get("leaders").asInt();
        }
        assertThat(leaders).isEqualTo(status.get("partitions").asInt());

        cluster.node(victim).kill();
        long killedAt = System.nanoTime();
        Result unhealthy = cli.await(r -> r.exit() == 1 && r.out().contains("node " + victim + " is DOWN")
                && r.out().contains("under-replicated"), 30_000, "cluster", "health");
        System.out.printf("AdminCommandsIT: node %d killed -> cluster health reports it DOWN after %d ms%n", victim,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt));
        assertThat(unhealthy.out()).startsWith("unhealthy:\n");

        Result down = cli.await(r -> r.exit() == 0 && r.out().contains("UNDER-REPLICATED PARTITIONS")
                && IntStream.range(0, 3).allMatch(p -> rowOrNull(under(r.out()), "status", Integer.toString(p)) != null),
                30_000, "cluster", "status");
        String out = down.out();
        assertThat(line(out, victim + " ")).matches(victim + " +127\\.0\\.0\\.1:\\d+ +DOWN .*");
        assertThat(out).contains("UNDER-REPLICATED PARTITIONS");
        String under = under(out);
        for (int p = 0; p < 3; p++) {
            String[] row = row(under, "status", Integer.toString(p));
            assertThat(row[5]).as("out of sync in %s", Arrays.toString(row)).isEqualTo(Integer.toString(victim));
            assertThat(row[4].split(",")).doesNotContain(Integer.toString(victim));
        }

        cluster.restart(victim);
        long restartedAt = System.nanoTime();
        cli.await(r -> r.exit() == 0, 90_000, "cluster", "health");
        System.out.printf("AdminCommandsIT: node %d restarted -> cluster health 0 after %d ms%n", victim,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt));
        // A node that does not lead a partition answers with the ISR its leader published to metadata, a pass and a
        // metadata commit behind the leader's own view: health passes once every leader counted the restarted node
        // back in, and a status answered by another node may still list a partition under-replicated for that moment.
        cli.await(r -> r.exit() == 0 && !r.out().contains("UNDER-REPLICATED"), 90_000, "cluster", "status");
    }

    /** Assigns {@code tp} in {@link #GROUP} without committing, and returns the offset of the first record read. */
    private static long readFromCommitted(String bootstrap, TopicPartition tp) {
        Properties p = consumerProps(bootstrap);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.assign(List.of(tp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                List<ConsumerRecord<String, String>> records = new ArrayList<>(c.poll(Duration.ofMillis(200))
                        .records(tp));
                if (!records.isEmpty()) {
                    assertThat(records.get(0).value()).isEqualTo("r" + (records.get(0).offset() - first));
                    return records.get(0).offset();
                }
            }
        }
        throw new AssertionError("nothing read from " + tp + " within 30 s");
    }

    private static long committed(Admin admin, TopicPartition tp) throws Exception {
        OffsetAndMetadata o = admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get().get(tp);
        return o == null ? -1 : o.offset();
    }

    private static Properties producerProps(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return p;
    }

    private static Properties consumerProps(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return p;
    }

    private static boolean all(JsonNode array, Predicate<JsonNode> test) {
        for (JsonNode n : array) {
            if (!test.test(n)) {
                return false;
            }
        }
        return true;
    }

    /** The value of {@code call} once it returns without throwing, retried for up to 10 s. */
    private static <T> T eventually(Callable<T> call) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return call.call();
            } catch (Exception | AssertionError e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    /** The part of a cluster status table from the under-replicated partitions on, or "". */
    private static String under(String status) {
        int at = status.indexOf("UNDER-REPLICATED PARTITIONS");
        return at < 0 ? "" : status.substring(at);
    }

    /** The cells of the first table row whose first cells are {@code cells}. */
    private static String[] row(String text, String... cells) {
        String[] row = rowOrNull(text, cells);
        if (row == null) {
            throw new AssertionError("no row " + Arrays.toString(cells) + " in:\n" + text);
        }
        return row;
    }

    private static String[] rowOrNull(String text, String... cells) {
        for (String l : text.split("\n")) {
            String[] row = l.trim().split("\\s+");
            if (row.length >= cells.length && Arrays.equals(Arrays.copyOf(row, cells.length), cells)) {
                return row;
            }
        }
        return null;
    }

    /** The first line of {@code text} starting with {@code prefix}, trimmed. */
    private static String line(String text, String prefix) {
        return Arrays.stream(text.split("\n")).filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no line starting with '" + prefix + "' in:\n" + text)).trim();
    }

    /** Runs the real command line in this JVM with the cluster's control addresses. */
    private record Cli(String control) {
        Result run(String... args) {
            List<String> all = new ArrayList<>(List.of(args));
            all.addAll(List.of("--bootstrap", control));
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int exit = FluxmqAdmin.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
            return new Result(exit, out.toString(), err.toString());
        }

        /** Runs the command line with only the arguments given (no {@code --bootstrap}). */
        Result runWithout(String... args) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int exit = FluxmqAdmin.run(new PrintWriter(out), new PrintWriter(err), args);
            return new Result(exit, out.toString(), err.toString());
        }

        Result ok(String... args) {
            Result r = run(args);
            assertThat(r.exit()).as("fluxmq-admin %s: %s", String.join(" ", args), r).isZero();
            return r;
        }

        Result await(Predicate<Result> condition, long timeoutMs, String... args) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            Result last = null;
            while (System.nanoTime() < deadline) {
                last = run(args);
                if (condition.test(last)) {
                    return last;
                }
                Thread.sleep(250);
            }
            throw new AssertionError("fluxmq-admin " + String.join(" ", args) + " did not meet the condition within "
                    + timeoutMs + " ms; last: " + last);
        }

        JsonNode awaitJson(Predicate<JsonNode> condition, long timeoutMs, String... args) throws Exception {
            List<String> withJson = new ArrayList<>(List.of(args));
            withJson.addAll(List.of("--output", "json"));
            Result r = await(x -> {
                try {
                    return x.exit() == 0 && condition.test(JSON.readTree(x.out()));
                } catch (Exception e) {
                    return false;
                }
            }, timeoutMs, withJson.toArray(String[]::new));
            return JSON.readTree(r.out());
        }
    }
}
