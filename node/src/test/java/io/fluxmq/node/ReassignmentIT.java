package io.fluxmq.node;

import static io.fluxmq.node.DynamicConfigsIT.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.admin.FluxmqAdmin;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterPartitionReassignmentsOptions;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.NoReassignmentInProgressException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.tools.reassign.ReassignPartitionsCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partition reassignment through Raft membership changes on a four-process cluster. A default Java producer
 * (acks=all, idempotent) writes while a partition moves off its leader to a node that held nothing, after the
 * leader's Raft log was purged (so the new replica catches up by snapshot and segment copy): every acknowledged record
 * is read back once at its offset, the new replicas hold byte-identical batches up to the high watermark, the node
 * that left holds no files of the partition, and Metadata lists the new replicas. Kafka's
 * {@code kafka-reassign-partitions} moves a second partition (--generate, --execute, --verify), {@code fluxmq-admin
 * partition reassign} moves it back, and bad requests get Kafka's error codes.
 */
class ReassignmentIT {
    private static final String MOVED = "moved";
    private static final String TOOL = "tool";

    @Test
    @Timeout(240)
    void reassignsWhileProducingAndWithKafkasTool(@TempDir Path dir) throws Exception {
        // Ratis (its joint membership change, its log purge and snapshot install); reassignsAndDecommissionsOnMultiRaft
        // covers the multiraft engine
        Map<String, String> settings = Map.of("raft.snapshot.interval.entries", "100",
                "raft.log.segment.bytes", "8192", "leader.balance.interval.ms", "3600000",
                NodeConfig.PARTITION_ENGINE, NodeConfig.RATIS);
        try (TestCluster cluster = TestCluster.start(4, dir, settings); Admin admin = cluster.admin()) {
            admin.createTopics(List.of(new NewTopic(MOVED, 1, (short) 3).configs(Map.of("segment.bytes", "65536")),
                    new NewTopic(TOOL, 1, (short) 3))).all().get(60, TimeUnit.SECONDS);
            TopicPartition tp = new TopicPartition(MOVED, 0);
            List<Integer> before = replicas(admin, MOVED);
            int leader = cluster.awaitLeader(MOVED, 0, Duration.ofSeconds(30));
            int spare = spare(before);
            List<Integer> target = new ArrayList<>(before);
            target.remove(Integer.valueOf(leader));
            target.add(spare);

            ContinuousProducer producer = ContinuousProducer.start(cluster.bootstrap(), MOVED, "r", 20);
            assertThat(producer.awaitAcked(3000, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(3000);
            long started = System.nanoTime();
            admin.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(target))))
                    .all().get(30, TimeUnit.SECONDS);
            awaitReplicas(admin, MOVED, target);
            long movedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            int acked = producer.acked().size();
            assertThat(producer.awaitAcked(acked + 1000, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(acked + 1000);
            assertThat(producer.stop(Duration.ofSeconds(60))).isTrue();

            Map<TopicPartition, List<ConsumerRecord<String, String>>> read =
                    Clients.readAll(cluster.bootstrap(), MOVED, 1, Duration.ofSeconds(60));
            Consistency.check("after the reassignment", read, producer.sent(), producer.acked());
            assertThat(cluster.awaitLeader(MOVED, 0, Duration.ofSeconds(30))).isIn(target);
            eventually(() -> {
                TopicPartitionInfo info = info(admin, MOVED);
                assertThat(ids(info.isr())).containsExactlyInAnyOrderElementsOf(target);
                return null;
            });
            long hwm = Clients.awaitEndOffset(cluster.bootstrap(), tp, 0, Duration.ofSeconds(10));
            awaitIdentical(dir, target, MOVED, hwm);
            eventually(() -> {
                assertThat(dir.resolve("node-" + leader).resolve("topics").resolve(MOVED + "-0"))
                        .as("the old leader's segments").doesNotExist();
                try (var specs = Files.list(dir.resolve("node-" + leader).resolve("raft-partitions"))) {
                    for (Path spec : specs.toList()) {
                        assertThat(Files.readString(spec)).as("partition spec %s of the old leader", spec)
                                .doesNotContain("topic=" + MOVED);
                    }
                }
                return null;
            });
            assertThat(admin.listPartitionReassignments().reassignments().get()).isEmpty();
            System.out.printf("REASSIGN %s %s -> %s (leader %d left) in %d ms while producing; %d records acked, "
                    + "%d read, %d failed sends, high watermark %d%n", tp, before, target, leader, movedMs,
                    producer.acked().size(), read.get(tp).size(), producer.failed(), hwm);

            kafkaReassignPartitions(cluster, dir);
            fluxmqAdminReassign(cluster, admin);
            refusals(admin);
        }
    }

    /**
     * The same move on {@code partition.engine=multiraft}, where the group's leader changes its voters one at a time
     * (add the new replica, move leadership off the leaving one, remove it): every record acknowledged while a
     * producer writes is read back once at its offset, the replicas hold identical batches, the leaving node's
     * directory is gone, and each replica's {@code partition.metadata} records the new voters; the added replica is
     * killed and restarted and rejoins with them. Kafka's tool and {@code fluxmq-admin partition reassign} move a
     * second partition, then the node leading it is decommissioned ({@code fluxmq-admin node decommission}) while a
     * producer writes to it; recommissioned, it takes a third partition whose leaving leader is killed mid-move.
     */
    @Test
    @Timeout(240)
    void reassignsAndDecommissionsOnMultiRaft(@TempDir Path dir) throws Exception {
        Map<String, String> settings = Map.of(NodeConfig.PARTITION_ENGINE, NodeConfig.MULTIRAFT,
                "leader.balance.interval.ms", "3600000");
        try (TestCluster cluster = TestCluster.start(4, dir, settings); Admin admin = cluster.admin()) {
            admin.createTopics(List.of(new NewTopic(MOVED, 1, (short) 3).configs(Map.of("segment.bytes", "65536")),
                    new NewTopic(TOOL, 1, (short) 3))).all().get(60, TimeUnit.SECONDS);
            TopicPartition tp = new TopicPartition(MOVED, 0);
            List<Integer> before = eventually(() -> {
                List<Integer> replicas = replicas(admin, MOVED);
                assertThat(replicas).hasSize(3);
                return replicas;
            });
            int leader = cluster.awaitLeader(MOVED, 0, Duration.ofSeconds(30));
            int spare = spare(before);
            List<Integer> target = new ArrayList<>(before);
            target.remove(Integer.valueOf(leader));
            target.add(spare);

            ContinuousProducer producer = ContinuousProducer.start(cluster.bootstrap(), MOVED, "r", 20);
            assertThat(producer.awaitAcked(1000, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(1000);
            long started = System.nanoTime();
            reassign(admin, tp, target);
            awaitReplicas(admin, MOVED, target);
            long movedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(admin.listPartitionReassignments().reassignments().get()).isEmpty();
            int acked = producer.acked().size();
            assertThat(producer.awaitAcked(acked + 1000, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(acked + 1000);

            // the added replica restarts from its directory, whose partition.metadata records the new voters
            eventually(() -> {
                for (int n : target) {
                    assertThat(votersRecorded(dir, n, MOVED)).as("voters in node %d's partition.metadata", n)
                            .containsExactlyInAnyOrderElementsOf(target);
                }
                return null;
            });
            cluster.node(spare).kill();
            acked = producer.acked().size();
            assertThat(producer.awaitAcked(acked + 500, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(acked + 500);
            cluster.restart(spare);
            acked = producer.acked().size();
            assertThat(producer.awaitAcked(acked + 500, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(acked + 500);
            assertThat(producer.stop(Duration.ofSeconds(60))).isTrue();

            Map<TopicPartition, List<ConsumerRecord<String, String>>> read =
                    Clients.readAll(cluster.bootstrap(), MOVED, 1, Duration.ofSeconds(60));
            Consistency.check("after the reassignment on multiraft", read, producer.sent(), producer.acked());
            assertThat(cluster.awaitLeader(MOVED, 0, Duration.ofSeconds(30))).isIn(target);
            eventually(() -> {
                assertThat(ids(info(admin, MOVED).isr())).containsExactlyInAnyOrderElementsOf(target);
                return null;
            });
            long hwm = Clients.awaitEndOffset(cluster.bootstrap(), tp, 0, Duration.ofSeconds(10));
            awaitIdentical(dir, target, MOVED, hwm, "multiraft");
            eventually(() -> {
                assertThat(dir.resolve("node-" + leader).resolve("multiraft").resolve(MOVED + "-0"))
                        .as("the old leader's replica").doesNotExist();
                return null;
            });
            System.out.printf("REASSIGN multiraft %s %s -> %s (leader %d left) in %d ms while producing; node %d "
                    + "restarted; %d records acked, %d read, %d failed sends, high watermark %d%n", tp, before,
                    target, leader, movedMs, spare, producer.acked().size(), read.get(tp).size(), producer.failed(),
                    hwm);

            kafkaReassignPartitions(cluster, dir);
            fluxmqAdminReassign(cluster, admin);
            int decommissioned = decommissionOnMultiRaft(cluster, admin, dir);
            NodeMembershipIT.admin(cluster, "node", "recommission", Integer.toString(decommissioned));
            resumesAfterTheLeavingLeaderIsKilledOnMultiRaft(cluster, admin, dir);
        }
    }

    /**
     * On multiraft, the leader that is to leave is killed right after the reassignment was committed: a staying
     * replica takes over, its driver removes the dead voter first (the failure detector reports its node down), adds
     * the new replica and completes; the killed node removes its replica when it returns.
     */
    private static void resumesAfterTheLeavingLeaderIsKilledOnMultiRaft(TestCluster cluster, Admin admin, Path dir)
            throws Exception {
        String topic = "resumed";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get(60, TimeUnit.SECONDS);
        TopicPartition tp = new TopicPartition(topic, 0);
        List<Integer> before = eventually(() -> {
            List<Integer> replicas = replicas(admin, topic);
            assertThat(replicas).hasSize(3);
            return replicas;
        });
        int leader = cluster.awaitLeader(topic, 0, Duration.ofSeconds(30));
        List<Integer> target = new ArrayList<>(before);
        target.remove(Integer.valueOf(leader));
        target.add(spare(before));
        ContinuousProducer producer = ContinuousProducer.start(cluster.bootstrap(), topic, "k", 20);
        assertThat(producer.awaitAcked(500, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(500);
        reassign(admin, tp, target);
        cluster.node(leader).kill();
        long killed = System.nanoTime();
        awaitReplicas(admin, topic, target);
        long movedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        int acked = producer.acked().size();
        assertThat(producer.awaitAcked(acked + 500, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(acked + 500);
        assertThat(producer.stop(Duration.ofSeconds(60))).isTrue();
        Consistency.check("after the resumed reassignment on multiraft", Clients.readAll(cluster.bootstrap(), topic,
                1, Duration.ofSeconds(60)), producer.sent(), producer.acked());
        cluster.restart(leader);
        eventually(() -> {
            assertThat(dir.resolve("node-" + leader).resolve("multiraft").resolve(topic + "-0"))
                    .as("the killed old leader's replica after its restart").doesNotExist();
            return null;
        });
        long hwm = Clients.awaitEndOffset(cluster.bootstrap(), tp, 0, Duration.ofSeconds(10));
        awaitIdentical(dir, target, topic, hwm, "multiraft");
        System.out.printf("REASSIGN multiraft %s %s -> %s with leader %d killed: done %d ms after the kill; %d acked, "
                + "%d failed sends%n", tp, before, target, leader, movedMs, producer.acked().size(),
                producer.failed());
    }

    /** The node leading the second topic's partition leaves with {@code fluxmq-admin node decommission}. */
    private static int decommissionOnMultiRaft(TestCluster cluster, Admin admin, Path dir) throws Exception {
        int leaving = cluster.awaitLeader(TOOL, 0, Duration.ofSeconds(30));
        ContinuousProducer producer = ContinuousProducer.start(cluster.bootstrap(), TOOL, "d", 20);
        assertThat(producer.awaitAcked(500, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(500);
        long started = System.nanoTime();
        String out = NodeMembershipIT.admin(cluster, "node", "decommission", Integer.toString(leaving),
                "--wait-timeout-ms", "120000");
        long decommissionMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertThat(out).contains("Done: node " + leaving + " is DECOMMISSIONED and holds no replica");
        int acked = producer.acked().size();
        assertThat(producer.awaitAcked(acked + 500, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(acked + 500);
        assertThat(producer.stop(Duration.ofSeconds(60))).isTrue();
        Consistency.check("after decommissioning node " + leaving + " on multiraft",
                Clients.readAll(cluster.bootstrap(), TOOL, 1, Duration.ofSeconds(60)), producer.sent(),
                producer.acked());
        eventually(() -> {
            for (String topic : List.of(MOVED, TOOL)) {
                TopicPartitionInfo info = info(admin, topic);
                assertThat(ids(info.replicas())).as("replicas of %s", topic).hasSize(3).doesNotContain(leaving);
                assertThat(ids(info.isr())).as("in sync: %s", topic).containsExactlyInAnyOrderElementsOf(
                        ids(info.replicas()));
            }
            try (var left = Files.list(dir.resolve("node-" + leaving).resolve("multiraft"))) {
                assertThat(left.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                        .filter(name -> !name.startsWith(".")).toList())
                        .as("partition directories left on node %d", leaving).isEmpty();
            }
            return null;
        });
        System.out.printf("DECOMMISSION multiraft node %d (leader of %s-0) in %d ms while producing: %d acked, %d "
                + "failed sends%n", leaving, TOOL, decommissionMs, producer.acked().size(), producer.failed());
        return leaving;
    }

    /** The voters node {@code node}'s {@code partition.metadata} of the topic's partition 0 records. */
    private static List<Integer> votersRecorded(Path dir, int node, String topic) throws Exception {
        Path file = dir.resolve("node-" + node).resolve("multiraft").resolve(topic + "-0").resolve("partition.metadata");
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith("voters:")) {
                return java.util.Arrays.stream(line.substring("voters:".length()).trim().split(","))
                        .map(String::trim).filter(v -> !v.isEmpty()).map(Integer::valueOf).toList();
            }
        }
        throw new AssertionError(file + " records no voters");
    }

    /**
     * The leader that is to leave is killed right after the reassignment was committed: the partition elects a new
     * leader among the staying replicas, whose driver resumes from metadata and the group's configuration; when the
     * killed node returns, it removes its replica.
     */
    @Test
    @Timeout(240)
    void reassignmentResumesAfterTheLeavingLeaderIsKilled(@TempDir Path dir) throws Exception {
        // Ratis; the same kill on multiraft is the last step of reassignsAndDecommissionsOnMultiRaft
        Map<String, String> settings = Map.of("leader.balance.interval.ms", "3600000",
                NodeConfig.PARTITION_ENGINE, NodeConfig.RATIS);
        try (TestCluster cluster = TestCluster.start(4, dir, settings); Admin admin = cluster.admin()) {
            String topic = "resumed";
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get(60, TimeUnit.SECONDS);
            TopicPartition tp = new TopicPartition(topic, 0);
            List<Integer> before = replicas(admin, topic);
            int leader = cluster.awaitLeader(topic, 0, Duration.ofSeconds(30));
            List<Integer> target = new ArrayList<>(before);
            target.remove(Integer.valueOf(leader));
            target.add(spare(before));

            ContinuousProducer producer = ContinuousProducer.start(cluster.bootstrap(), topic, "k", 20);
            assertThat(producer.awaitAcked(1000, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(1000);
            reassign(admin, tp, target);
            cluster.node(leader).kill();
            long killed = System.nanoTime();
            awaitReplicas(admin, topic, target);
            long movedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            int acked = producer.acked().size();
            assertThat(producer.awaitAcked(acked + 500, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(acked + 500);
            assertThat(producer.stop(Duration.ofSeconds(60))).isTrue();
            Consistency.check("after the resumed reassignment", Clients.readAll(cluster.bootstrap(), topic, 1,
                    Duration.ofSeconds(60)), producer.sent(), producer.acked());

            cluster.restart(leader);
            eventually(() -> {
                assertThat(dir.resolve("node-" + leader).resolve("topics").resolve(topic + "-0"))
                        .as("the killed old leader's segments after its restart").doesNotExist();
                return null;
            });
            long hwm = Clients.awaitEndOffset(cluster.bootstrap(), tp, 0, Duration.ofSeconds(10));
            awaitIdentical(dir, target, topic, hwm);
            System.out.printf("REASSIGN %s %s -> %s with leader %d killed: done %d ms after the kill; %d acked, "
                    + "%d failed sends%n", tp, before, target, leader, movedMs, producer.acked().size(),
                    producer.failed());

            replicationFactorChanges(cluster, admin);
        }
    }

    /**
     * At replication factor 2, [a,b] -> [b,c] (Ratis refuses to add as many voters as it keeps, so this passes through
     * three voters), then 2 -> 3 replicas, refused first with allowReplicationFactorChange=false; the records written
     * before are all there after each move.
     */
    private static void replicationFactorChanges(TestCluster cluster, Admin admin) throws Exception {
        String topic = "rf";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 2))).all().get(60, TimeUnit.SECONDS);
        TopicPartition tp = new TopicPartition(topic, 0);
        List<String> values = new ArrayList<>();
        try (var producer = Clients.producer(cluster.bootstrap(), Map.of())) {
            for (int i = 0; i < 200; i++) {
                values.add("v" + i);
                producer.send(new ProducerRecord<>(topic, 0, null, "v" + i)).get();
            }
        }
        List<Integer> before = replicas(admin, topic);
        int c = -1;
        for (int id = 0; id < 4 && c < 0; id++) {
            c = before.contains(id) ? -1 : id;
        }
        List<Integer> crossed = List.of(before.get(1), c);
        reassign(admin, tp, crossed);
        awaitReplicas(admin, topic, crossed);
        assertThat(readValues(cluster, topic)).as("after %s -> %s", before, crossed).isEqualTo(values);

        int d = spare(List.of(before.get(0), before.get(1), c));
        List<Integer> three = List.of(before.get(1), c, d);
        assertThatThrownBy(() -> admin.alterPartitionReassignments(Map.of(tp, Optional.of(
                        new NewPartitionReassignment(three))),
                new AlterPartitionReassignmentsOptions().allowReplicationFactorChange(false)).all()
                .get(30, TimeUnit.SECONDS)).cause().isInstanceOf(InvalidReplicationFactorException.class);
        reassign(admin, tp, three);
        awaitReplicas(admin, topic, three);
        assertThat(readValues(cluster, topic)).as("after %s -> %s", crossed, three).isEqualTo(values);
        eventually(() -> {
            assertThat(ids(info(admin, topic).isr())).containsExactlyInAnyOrderElementsOf(three);
            return null;
        });
        System.out.printf("REASSIGN %s %s -> %s -> %s (replication factor 2 -> 3)%n", tp, before, crossed, three);
    }

    private static List<String> readValues(TestCluster cluster, String topic) {
        return Clients.readAll(cluster.bootstrap(), topic, 1, Duration.ofSeconds(30)).get(new TopicPartition(topic, 0))
                .stream().map(ConsumerRecord::value).toList();
    }

    /** kafka-reassign-partitions --generate, --execute and --verify on the second topic. */
    private static void kafkaReassignPartitions(TestCluster cluster, Path dir) throws Exception {
        try (Admin admin = cluster.admin()) {
            List<Integer> before = replicas(admin, TOOL);
            Path topics = dir.resolve("topics.json");
            Files.writeString(topics, "{\"topics\": [{\"topic\": \"" + TOOL + "\"}], \"version\": 1}");
            String generated = tool(cluster, "--generate", "--topics-to-move-json-file", topics.toString(),
                    "--broker-list", "0,1,2,3");
            assertThat(generated).contains("Current partition replica assignment")
                    .contains("Proposed partition reassignment configuration");
            List<Integer> target = new ArrayList<>(before.subList(1, before.size()));
            target.add(spare(before));
            Path plan = dir.resolve("reassignment.json");
            Files.writeString(plan, "{\"version\": 1, \"partitions\": [{\"topic\": \"" + TOOL
                    + "\", \"partition\": 0, \"replicas\": " + target + "}]}");
            assertThat(tool(cluster, "--execute", "--reassignment-json-file", plan.toString()))
                    .contains("Successfully started partition reassignment");
            String verified = eventually(() -> {
                String out = tool(cluster, "--verify", "--preserve-throttles", "--reassignment-json-file",
                        plan.toString());
                assertThat(out).contains("Reassignment of partition " + TOOL + "-0 is completed");
                return out;
            });
            // every node's metadata replica applies the completion; the one answering may lag a moment
            eventually(() -> assertThat(replicas(admin, TOOL)).isEqualTo(target));
            System.out.printf("REASSIGN kafka-reassign-partitions %s -> %s:%n%s", before, target, verified);
        }
    }

    /** fluxmq-admin partition reassign moves the second topic back and waits until done. */
    private static void fluxmqAdminReassign(TestCluster cluster, Admin admin) throws Exception {
        List<Integer> back = List.of(0, 1, 2);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = FluxmqAdmin.run(new PrintWriter(out), new PrintWriter(err), "partition", "reassign", TOOL,
                "--partition", "0", "--replicas", "0,1,2", "--kafka-bootstrap", cluster.bootstrap());
        assertThat(exit).as("fluxmq-admin partition reassign: %s %s", out, err).isZero();
        assertThat(out.toString()).contains("Reassigning " + TOOL + "-0 to 0,1,2")
                .contains("Done: " + TOOL + "-0 has replicas 0,1,2");
        eventually(() -> assertThat(replicas(admin, TOOL)).isEqualTo(back));
        System.out.printf("REASSIGN fluxmq-admin partition reassign:%n%s", out);
    }

    private static void refusals(Admin admin) {
        TopicPartition tp = new TopicPartition(MOVED, 0);
        assertThatThrownBy(() -> reassign(admin, tp, List.of(0, 1, 9))).cause()
                .isInstanceOf(InvalidReplicaAssignmentException.class).hasMessageContaining("node 9");
        assertThatThrownBy(() -> reassign(admin, tp, List.of(0, 1, 1))).cause()
                .isInstanceOf(InvalidReplicaAssignmentException.class).hasMessageContaining("duplicates");
        assertThatThrownBy(() -> reassign(admin, new TopicPartition(MOVED, 5), List.of(0, 1, 2))).cause()
                .isInstanceOf(UnknownTopicOrPartitionException.class);
        assertThatThrownBy(() -> admin.alterPartitionReassignments(Map.of(tp, Optional.empty())).all()
                .get(30, TimeUnit.SECONDS)).cause().isInstanceOf(NoReassignmentInProgressException.class);
    }

    private static void reassign(Admin admin, TopicPartition tp, List<Integer> target) throws Exception {
        admin.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(target)))).all()
                .get(30, TimeUnit.SECONDS);
    }

    /** The node of a four-node cluster that is not among {@code replicas} (three of them). */
    private static int spare(List<Integer> replicas) {
        for (int id = 0; id < 4; id++) {
            if (!replicas.contains(id)) {
                return id;
            }
        }
        throw new AssertionError("no spare node outside " + replicas);
    }

    private static TopicPartitionInfo info(Admin admin, String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                .get(topic);
        return d.partitions().get(0);
    }

    private static List<Integer> ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).toList();
    }

    private static List<Integer> replicas(Admin admin, String topic) throws Exception {
        return ids(info(admin, topic).replicas());
    }

    /** Waits until no reassignment of the topic's partition 0 runs and Metadata lists exactly {@code target}. */
    private static void awaitReplicas(Admin admin, String topic, List<Integer> target) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            boolean running = !admin.listPartitionReassignments(Set.of(new TopicPartition(topic, 0)))
                    .reassignments().get(30, TimeUnit.SECONDS).isEmpty();
            List<Integer> now = replicas(admin, topic);
            if (!running && now.equals(target)) {
                return;
            }
            assertThat(System.nanoTime()).as("reassignment of %s to %s done in time (replicas now %s)", topic,
                    target, now).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    /** Every node of {@code nodes} holds the same record batches of the topic's partition 0 up to {@code hwm}. */
    private static void awaitIdentical(Path dir, List<Integer> nodes, String topic, long hwm) throws Exception {
        awaitIdentical(dir, nodes, topic, hwm, "topics");
    }

    /** As above, with the partitions in {@code dataSubdir} of each node's data directory (the engine's). */
    private static void awaitIdentical(Path dir, List<Integer> nodes, String topic, long hwm, String dataSubdir)
            throws Exception {
        eventually(() -> {
            List<byte[]> copies = new ArrayList<>();
            for (int n : nodes) {
                copies.add(PowerCutIT.batchesUpTo(dir.resolve("node-" + n).resolve(dataSubdir).resolve(topic + "-0"),
                        hwm));
            }
            assertThat(copies.get(0).length).as("node %d holds batches", nodes.get(0)).isPositive();
            for (int i = 1; i < copies.size(); i++) {
                assertThat(copies.get(i)).as("node %d's batches up to %d equal node %d's", nodes.get(i), hwm,
                        nodes.get(0)).isEqualTo(copies.get(0));
            }
            return null;
        });
    }

    /** Runs kafka-reassign-partitions in this JVM and returns what it printed. */
    static synchronized String tool(TestCluster cluster, String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", cluster.bootstrap()));
        all.addAll(List.of(args));
        PrintStream originalOut = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        Exit.setExitProcedure((status, message) -> {
            throw new ToolExit(status);
        });
        int status = 0;
        try (PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            ReassignPartitionsCommand.main(all.toArray(String[]::new));
        } catch (ToolExit e) {
            status = e.status;
        } finally {
            System.setOut(originalOut);
            Exit.resetExitProcedure();
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        originalOut.println("kafka-reassign-partitions " + String.join(" ", args) + " (exit " + status + ")\n"
                + output);
        assertThat(status).as("kafka-reassign-partitions exit status; output:\n%s", output).isZero();
        return output;
    }

    private static final class ToolExit extends RuntimeException {
        final int status;

        ToolExit(int status) {
            super("exit " + status);
            this.status = status;
        }
    }
}
