package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeReplicaLogDirsResult.ReplicaLogDirInfo;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionReplica;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.apache.kafka.common.errors.PreferredLeaderNotAvailableException;
import org.apache.kafka.tools.LeaderElectionCommand;
import org.apache.kafka.tools.LogDirsCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leadership and inspection commands on a three-process cluster: {@code fluxmq-admin partition transfer-leader} moves a
 * leader to a non-preferred replica (and it stays there), Kafka's {@code kafka-leader-election --election-type
 * PREFERRED --all-topic-partitions} brings it back, a second election answers ELECTION_NOT_NEEDED, {@code fluxmq-admin
 * raft status} shows the leader and the same commit index on every member after a produce, {@code kafka-log-dirs
 * --describe} and the Admin client list every replica with the batch bytes of its segment files, {@code leaders
 * balance} moves a transferred leader back, and with the preferred replica killed ElectLeaders (Admin and
 * {@code kafka-leader-election}) answers PREFERRED_LEADER_NOT_AVAILABLE and a transfer to it TARGET_NOT_IN_SYNC.
 */
class ElectLeadersIT {
    private static final String TOPIC = "elect";
    private static final int PARTITIONS = 3;
    private static final int RECORDS = 40;
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void leadersMoveAndComeBackAndReplicasCanBeInspected(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir); Admin admin = cluster.admin()) {
            cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
            List<Integer> preferred = preferredLeaders(admin);
            awaitLeaders(admin, preferred);
            produce(cluster.bootstrap());
            AdminCli cli = new AdminCli(cluster.controlAddress(0) + "," + cluster.controlAddress(1));

            // transfer-leader to the second replica; pinned, so the balancer leaves it there
            TopicPartition tp0 = new TopicPartition(TOPIC, 0);
            int other = replicas(admin, 0).get(1);
            String moved = cli.ok("partition", "transfer-leader", TOPIC, "--partition", "0", "--to",
                    Integer.toString(other));
            assertThat(moved).contains("moved to node " + other);
            awaitLeader(admin, 0, other);
            assertThat(cli.ok("partition", "transfer-leader", TOPIC, "--partition", "0", "--to",
                    Integer.toString(other))).contains("already leads");
            AdminCli.Result notReplica = cli.run("partition", "transfer-leader", TOPIC, "--partition", "0", "--to", "7");
            assertThat(notReplica.exit()).isEqualTo(1);
            assertThat(notReplica.err()).contains("NOT_A_REPLICA");

            // kafka-leader-election brings it back to the preferred replica
            Tool election = tool(LeaderElectionCommand.class, "--bootstrap-server", cluster.bootstrap(),
                    "--election-type", "PREFERRED", "--all-topic-partitions");
            assertThat(election.exit()).as(election.out()).isZero();
            assertThat(election.out()).contains("Successfully completed leader election (PREFERRED) for partitions "
                    + TOPIC + "-0");
            awaitLeaders(admin, preferred);
            Tool again = tool(LeaderElectionCommand.class, "--bootstrap-server", cluster.bootstrap(),
                    "--election-type", "PREFERRED", "--topic", TOPIC, "--partition", "0");
            assertThat(again.out()).contains("Valid replica already elected for partitions " + TOPIC + "-0");
            assertThat(admin.electLeaders(ElectionType.PREFERRED, Set.of(tp0)).partitions().get(30, TimeUnit.SECONDS)
                    .get(tp0)).containsInstanceOf(ElectionNotNeededException.class);
            assertThat(admin.electLeaders(ElectionType.UNCLEAN, Set.of(tp0)).partitions().get(30, TimeUnit.SECONDS)
                    .get(tp0)).as("UNCLEAN with a leader").containsInstanceOf(ElectionNotNeededException.class);

            // raft status: the leader, and every member at the leader's commit index
            JsonNode status = awaitEqualCommitIndex(cli, 1);
            assertThat(status.get("leader").asInt()).isEqualTo(preferred.get(1));
            assertThat(status.get("answered_by").asInt()).isEqualTo(preferred.get(1));
            assertThat(status.get("peers")).hasSize(3);
            assertThat(cli.ok("raft", "status", TOPIC, "--partition", "1")).contains("LEADER").contains("MATCH-INDEX");

            // kafka-log-dirs and the Admin client: every replica, with the bytes of its segment files
            for (int p = 0; p < PARTITIONS; p++) {
                awaitEqualCommitIndex(cli, p);
            }
            Tool logDirs = tool(LogDirsCommand.class, "--bootstrap-server", cluster.bootstrap(), "--describe");
            assertThat(logDirs.exit()).as(logDirs.out()).isZero();
            JsonNode described = JSON.readTree(logDirs.out().lines().filter(l -> l.startsWith("{")).findFirst()
                    .orElseThrow(() -> new AssertionError("no JSON in:\n" + logDirs.out())));
            assertThat(described.get("brokers")).hasSize(3);
            for (JsonNode broker : described.get("brokers")) {
                int node = broker.get("broker").asInt();
                Path topics = PartitionDirs.engineRoot(cluster.node(node).dataDir()); // multiraft/ or topics/
                JsonNode logDir = broker.get("logDirs").get(0);
                assertThat(Path.of(logDir.get("logDir").asText())).isEqualTo(topics.toAbsolutePath());
                Map<String, Long> sizes = new HashMap<>();
                for (JsonNode p : logDir.get("partitions")) {
                    sizes.put(p.get("partition").asText(), p.get("size").asLong());
                    assertThat(p.get("isFuture").asBoolean()).isFalse();
                    assertThat(p.get("offsetLag").asLong()).isZero();
                }
                for (int p = 0; p < PARTITIONS; p++) {
                    long onDisk = batchBytes(topics.resolve(TOPIC + "-" + p));
                    assertThat(onDisk).as("records were written").isPositive();
                    assertThat(sizes).as("node %d", node).containsEntry(TOPIC + "-" + p, onDisk);
                }
            }
            Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(0)).descriptions().get(0)
                    .get(30, TimeUnit.SECONDS);
            LogDirDescription d = dirs.values().iterator().next();
            assertThat(d.totalBytes().orElse(-1)).isPositive();
            assertThat(d.usableBytes().orElse(-1)).isPositive().isLessThanOrEqualTo(d.totalBytes().getAsLong());
            ReplicaInfo r0 = d.replicaInfos().get(tp0);
            assertThat(r0.size()).isEqualTo(batchBytes(PartitionDirs.of(cluster.node(0).dataDir(), TOPIC, 0)));
            TopicPartitionReplica replica = new TopicPartitionReplica(TOPIC, 2, 1);
            ReplicaLogDirInfo info = admin.describeReplicaLogDirs(List.of(replica)).all().get(30, TimeUnit.SECONDS)
                    .get(replica);
            assertThat(Path.of(info.getCurrentReplicaLogDir()))
                    .isEqualTo(PartitionDirs.engineRoot(cluster.node(1).dataDir()).toAbsolutePath());

            // leaders balance undoes a pinned transfer
            int away = replicas(admin, 2).get(2);
            cli.ok("partition", "transfer-leader", TOPIC, "--partition", "2", "--to", Integer.toString(away));
            awaitLeader(admin, 2, away);
            JsonNode balanced = JSON.readTree(cli.ok("leaders", "balance", "--output", "json"));
            assertThat(balanced).as("%s", balanced).anySatisfy(m -> {
                assertThat(m.get("topic").asText()).isEqualTo(TOPIC);
                assertThat(m.get("partition").asInt()).isEqualTo(2);
                assertThat(m.get("moved").asBoolean()).isTrue();
            });
            awaitLeaders(admin, preferred);

            // the preferred replica down: PREFERRED_LEADER_NOT_AVAILABLE
            int victim = preferred.get(1);
            cluster.node(victim).kill();
            TopicPartition tp1 = new TopicPartition(TOPIC, 1);
            long deadline = System.nanoTime() + WAIT.toNanos();
            int leader = victim;
            while (leader == victim && System.nanoTime() < deadline) {
                leader = cluster.awaitLeader(TOPIC, 1, WAIT);
                Thread.sleep(200);
            }
            assertThat(leader).as("a surviving replica leads").isNotEqualTo(victim);
            Optional<Throwable> refused = admin.electLeaders(ElectionType.PREFERRED, Set.of(tp1)).partitions()
                    .get(60, TimeUnit.SECONDS).get(tp1);
            assertThat(refused).containsInstanceOf(PreferredLeaderNotAvailableException.class);
            Tool failed = tool(LeaderElectionCommand.class, "--bootstrap-server", cluster.bootstrap(),
                    "--election-type", "PREFERRED", "--topic", TOPIC, "--partition", "1");
            assertThat(failed.exit()).isEqualTo(1);
            assertThat(failed.out()).contains("Error completing leader election (PREFERRED) for partition: " + TOPIC
                    + "-1").contains("PreferredLeaderNotAvailableException");
            AdminCli.Result toDead = cli.run("partition", "transfer-leader", TOPIC, "--partition", "1", "--to",
                    Integer.toString(victim));
            assertThat(toDead.exit()).isEqualTo(1);
            assertThat(toDead.err()).contains("TARGET_NOT_IN_SYNC");
        }
    }

    private static List<Integer> replicas(Admin admin, int partition) throws Exception {
        return admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC).partitions().get(partition)
                .replicas().stream().map(n -> n.id()).toList();
    }

    private static List<Integer> preferredLeaders(Admin admin) throws Exception {
        List<Integer> out = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            out.add(replicas(admin, p).get(0));
        }
        return out;
    }

    private static List<Integer> leaders(Admin admin) throws Exception {
        return admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC).partitions().stream()
                .map(p -> p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id()).toList();
    }

    private static void awaitLeaders(Admin admin, List<Integer> expected) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<Integer> leaders = leaders(admin);
        while (!leaders.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            leaders = leaders(admin);
        }
        assertThat(leaders).as("leaders vs expected").isEqualTo(expected);
    }

    private static void awaitLeader(Admin admin, int partition, int expected) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        int leader = leaders(admin).get(partition);
        while (leader != expected && System.nanoTime() < deadline) {
            Thread.sleep(200);
            leader = leaders(admin).get(partition);
        }
        assertThat(leader).as("leader of partition %d", partition).isEqualTo(expected);
    }

    private static void produce(String bootstrap) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, Map.of())) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, "record-" + i)).get(30,
                        TimeUnit.SECONDS);
            }
        }
    }

    /**
     * {@code raft status} until every member reports the leader's commit index and holds its whole log (at most
     * {@link #WAIT}). On multiraft the leader does not know a follower's commit index (null, documented), so there
     * each follower must hold the whole committed log (match index = the leader's commit index) instead.
     */
    private static JsonNode awaitEqualCommitIndex(AdminCli cli, int partition) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode status;
        while (true) {
            status = JSON.readTree(cli.ok("raft", "status", TOPIC, "--partition", Integer.toString(partition),
                    "--output", "json"));
            boolean equal = status.get("role").asText().equals("LEADER");
            for (JsonNode peer : status.get("peers")) {
                equal &= caughtUp(status, peer);
            }
            if (equal || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(200);
        }
        JsonNode last = status;
        assertThat(last.get("peers")).as("every member at commit index %s: %s", last.get("commit_index"), last)
                .allSatisfy(p -> assertThat(caughtUp(last, p)).as("%s", p).isTrue());
        return last;
    }

    private static boolean caughtUp(JsonNode status, JsonNode peer) {
        long commit = status.get("commit_index").asLong();
        boolean multiRaft = "multiraft".equals(status.path("engine").asText());
        boolean committed = multiRaft && peer.get("role").asText().equals("FOLLOWER")
                ? peer.get("commit_index").isNull() && peer.get("match_index").asLong(-1) >= commit
                : peer.get("commit_index").asLong(-1) == commit;
        return committed && peer.get("match_index").asLong(-1) == status.get("last_index").asLong();
    }

    /**
     * The bytes of the record batches in a partition directory's {@code .log} files: each batch is 12 bytes of
     * offset and length plus the length; a segment's preallocated tail is zeros (length 0).
     */
    private static long batchBytes(Path partitionDir) throws IOException {
        long total = 0;
        List<Path> logs;
        try (Stream<Path> files = Files.list(partitionDir)) {
            logs = files.filter(f -> f.getFileName().toString().endsWith(".log")).toList();
        }
        for (Path log : logs) {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(log));
            while (b.remaining() >= 12) {
                int length = b.getInt(b.position() + 8);
                if (length <= 0 || b.remaining() < 12 + length) {
                    break;
                }
                total += 12 + length;
                b.position(b.position() + 12 + length);
            }
        }
        return total;
    }

    private record Tool(int exit, String out) {}

    /** Runs one of Kafka's command-line tools in this JVM (its {@code mainNoExit}) and returns what it printed. */
    private static synchronized Tool tool(Class<?> command, String... args) throws Exception {
        Method main = command.getDeclaredMethod("mainNoExit", String[].class);
        main.setAccessible(true);
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try (PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            System.setErr(capture);
            exit = (int) main.invoke(null, (Object) args);
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        originalOut.println(command.getSimpleName() + " " + String.join(" ", args) + " -> " + exit + "\n" + output);
        return new Tool(exit, output);
    }
}
