package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes, each in its own network namespace on a private bridge. The test cuts the leader of one
 * partition of an RF=3 topic off from the other two nodes with iptables (DROP both ways, in the cut node's
 * namespace), choosing the controller (metadata group leader) when it leads a partition, the harder case, while
 * a default Java producer that bootstraps from the two majority nodes keeps writing. While cut, a
 * producer that can reach only the cut node (it runs in that node's namespace) must get no acknowledgement, and the
 * majority producer must make progress on every partition. After healing, every acknowledged record is present
 * exactly once at its acknowledged offset, nothing unsent or only-sent-to-the-cut-node appears, no process used
 * loopback, and every replica's segment files are byte-identical.
 *
 * <p>Needs root, iproute2 and iptables (.ci/run installs them); fails, rather than skips, without them.
 */
class NetworkPartitionIT {
    private static final String TOPIC = "netsplit";
    private static final int PARTITIONS = 3;
    private static final int ISOLATED_RECORDS = 100;
    private static final Duration BOUND = Duration.ofSeconds(90);
    /** Far above the election timeout (1-2 s here): the majority side taking longer is worth thread dumps. */
    private static final Duration STALL = Duration.ofSeconds(10);
    /** Ten times the longest election timeout: by then the majority must acknowledge on every partition again. */
    private static final Duration MAJORITY_PROGRESS = Duration.ofSeconds(20);

    @Test
    void cutOffLeaderCannotAcknowledgeWhileTheMajorityGoesOn(@TempDir Path dir) throws Exception {
        try (NetnsCluster cluster = NetnsCluster.start(3, dir)) {
            NetnsNetwork net = cluster.network();
            System.out.printf("NETSPLIT nodes at %s (iptables: %s), test JVM at %s%n", cluster.bootstrap(),
                    net.iptablesCommand(), net.clientAddress());
            for (int i = 0; i < cluster.size(); i++) {
                assertThat(net.addresses(i)).as("IPv4 addresses in node %d's namespace", i)
                        .containsExactlyInAnyOrder("lo 127.0.0.1/8", "eth0 " + net.address(i) + "/24");
            }
            cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
            TopicDescription before = cluster.awaitInSync(TOPIC, 3, BOUND);
            assertBrokersAdvertiseBridgeAddresses(cluster);

            int controller = controller(cluster);
            int partition = before.partitions().stream().filter(p -> p.leader().id() == controller)
                    .mapToInt(TopicPartitionInfo::partition).findFirst().orElse(0);
            TopicPartition cutTp = new TopicPartition(TOPIC, partition);
            int isolated = before.partitions().get(partition).leader().id();
            List<Integer> majority = new ArrayList<>();
            for (int i = 0; i < cluster.size(); i++) {
                if (i != isolated) {
                    majority.add(i);
                }
            }
            ContinuousProducer producer = ContinuousProducer.start(cluster.bootstrap(majority), TOPIC, "m", 100);
            boolean producerStopped;
            try {
                assertThat(producer.awaitAcked(2000, BOUND)).as("acknowledged before the cut")
                        .isGreaterThanOrEqualTo(2000);

                net.cut(isolated, majority);
                long cutAt = System.nanoTime(); // after the last rule is in place: earlier sends may be acknowledged
                System.out.printf("NETSPLIT cut node %d (leader of %s, %s) off from nodes %s%n", isolated, cutTp,
                        isolated == controller ? "the controller" : "not the controller " + controller, majority);
                Process isolatedProducer = startIsolatedProducer(cluster, isolated, partition);

                for (int p = 0; p < PARTITIONS; p++) {
                    TopicPartition tp = new TopicPartition(TOPIC, p);
                    long ms = producer.firstAckAfter(tp, cutAt, STALL);
                    if (ms < 0) {
                        System.out.printf("NETSPLIT no acknowledgement on %s %s after the cut; thread dumps in the "
                                + "node logs%n", tp, STALL);
                        cluster.dumpState(TOPIC, majority);
                        ms = producer.firstAckAfter(tp, cutAt, BOUND);
                    }
                    System.out.printf("NETSPLIT majority side: first acknowledged produce to %s%s after the cut: "
                            + "%d ms%n", tp, tp.equals(cutTp) ? " (led by the cut node)" : "", ms);
                    assertThat(ms).as("ms until a record sent to %s after the cut is acknowledged (-1: none within %s)",
                            tp, BOUND).isNotNegative().isLessThanOrEqualTo(MAJORITY_PROGRESS.toMillis());
                }

                List<String> isolatedAcks = awaitIsolatedProducer(isolatedProducer);
                long dropped = net.droppedByCut(isolated);
                System.out.printf("NETSPLIT isolated side: %d acknowledged (%s); cut rules dropped %d packets%n",
                        isolatedAcks.size(), isolatedAcks, dropped);
                assertThat(isolatedAcks).as("acknowledgements through the cut-off node only").isEmpty();
                assertThat(dropped).as("packets dropped by the cut").isPositive();
                int duringCut = producer.acked().size();
                assertThat(producer.awaitAcked(duringCut + 1000, BOUND)).as("majority still acknowledging")
                        .isGreaterThanOrEqualTo(duringCut + 1000);

                long healedAt = System.nanoTime();
                net.heal(isolated);
                System.out.printf("NETSPLIT healed after %d ms%n", TimeUnit.NANOSECONDS.toMillis(healedAt - cutAt));
                int atHeal = producer.acked().size();
                assertThat(producer.awaitAcked(atHeal + 2000, BOUND)).as("acknowledged after healing")
                        .isGreaterThanOrEqualTo(atHeal + 2000);
                cluster.awaitInSync(TOPIC, 3, BOUND);
                System.out.printf("NETSPLIT all replicas in sync %d ms after healing%n",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - healedAt));
            } finally {
                producerStopped = producer.stop(BOUND);
            }
            assertThat(producerStopped).as("majority producer finished within %s", BOUND).isTrue();
            System.out.printf("NETSPLIT majority producer: %d sent, %d acknowledged, %d failed%n",
                    producer.sent().size(), producer.acked().size(), producer.failed());

            checkConsistency(cluster, producer);
            for (int i = 0; i < cluster.size(); i++) {
                assertThat(net.loopbackPackets(i)).as("packets sent to 127.0.0.0/8 in node %d's namespace", i)
                        .isZero();
            }
            // On the multi-Raft engine a leader change is a LEADER_CHANGE control batch in the log itself, and nodes
            // stopped one after another still elect among themselves: the replicas are compared up to the high
            // watermark read before the stop (Ratis writes no such batch: there the whole files must match).
            Map<TopicPartition, Long> ends = Clients.endOffsets(cluster.bootstrap(), TOPIC, PARTITIONS);
            cluster.stopAll();
            boolean multiRaft = PartitionDirs.isMultiRaft(dir.resolve("node-0"));
            for (int p = 0; p < PARTITIONS; p++) {
                long end = ends.get(new TopicPartition(TOPIC, p));
                byte[] first = multiRaft
                        ? PowerCutIT.batchesUpTo(PartitionDirs.of(dir.resolve("node-0"), TOPIC, p), end)
                        : segments(dir.resolve("node-0"), p);
                assertThat(first.length).as("segment bytes of partition %d on node 0", p).isPositive();
                for (int i = 1; i < cluster.size(); i++) {
                    byte[] other = multiRaft
                            ? PowerCutIT.batchesUpTo(PartitionDirs.of(dir.resolve("node-" + i), TOPIC, p), end)
                            : segments(dir.resolve("node-" + i), p);
                    if (!java.util.Arrays.equals(first, other)) {
                        PartitionDirs.keep(dir, TOPIC, p, cluster.size(), Path.of("target", "node-logs", "replicas"));
                    }
                    assertThat(other).as("replica on node %d of partition %d matches node 0 (%d vs %d bytes, first "
                            + "difference at byte %d; copies in target/node-logs/replicas)", i, p, other.length,
                            first.length, java.util.Arrays.mismatch(first, other)).isEqualTo(first);
                }
            }
        }
    }

    /** Every acknowledged record once at its offset, offsets increasing, only majority-sent records present. */
    private static void checkConsistency(NetnsCluster cluster, ContinuousProducer producer) {
        Map<TopicPartition, List<ConsumerRecord<String, String>>> read =
                Clients.readAll(cluster.bootstrap(), TOPIC, PARTITIONS, BOUND);
        System.out.printf("NETSPLIT read %d records back%n", read.values().stream().mapToInt(List::size).sum());
        Map<String, Long> seenAt = new HashMap<>();
        for (Map.Entry<TopicPartition, List<ConsumerRecord<String, String>>> e : read.entrySet()) {
            long previous = -1;
            for (ConsumerRecord<String, String> r : e.getValue()) {
                assertThat(r.offset()).as("offsets increase in %s", e.getKey()).isGreaterThan(previous);
                previous = r.offset();
                assertThat(r.value()).as("record only the cut-off node was sent").doesNotStartWith("iso-");
                assertThat(producer.sent()).as("only sent records appear").contains(r.value());
                assertThat(seenAt.put(r.value(), r.offset())).as("%s appears once", r.value()).isNull();
            }
        }
        for (Map.Entry<String, ContinuousProducer.Ack> a : producer.acked().entrySet()) {
            assertThat(seenAt.get(a.getKey())).as("acknowledged %s at %s", a.getKey(), a.getValue())
                    .isEqualTo(a.getValue().offset());
        }
    }

    /** The metadata group's leader; also leads partitions more often than not, as it creates their groups first. */
    private static int controller(NetnsCluster cluster) throws Exception {
        try (Admin admin = cluster.admin()) {
            return admin.describeCluster().controller().get(30, TimeUnit.SECONDS).id();
        }
    }

    private static void assertBrokersAdvertiseBridgeAddresses(NetnsCluster cluster) throws Exception {
        try (Admin admin = cluster.admin()) {
            for (Node n : admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)) {
                assertThat(n.host()).as("advertised host of node %d", n.id())
                        .isEqualTo(cluster.network().address(n.id()));
            }
        }
    }

    /** Starts {@link IsolatedProducer} inside the cut node's namespace, bootstrapping from that node only. */
    private static Process startIsolatedProducer(NetnsCluster cluster, int isolated, int partition) throws Exception {
        String classpath = String.join(File.pathSeparator, "target/test-classes", "target/classes",
                Files.readString(Path.of("target", "classpath.txt")).trim());
        List<String> cmd = new ArrayList<>(cluster.network().launcher(isolated));
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", classpath, IsolatedProducer.class.getName(), cluster.node(isolated).bootstrap(), TOPIC,
                Integer.toString(partition), Integer.toString(ISOLATED_RECORDS), "50", "iso"));
        Path log = Path.of("target", "node-logs", "isolated-producer.log");
        Files.createDirectories(log.getParent());
        Files.deleteIfExists(log);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits for the isolated producer to exit; returns its acknowledgements. */
    private static List<String> awaitIsolatedProducer(Process process) throws Exception {
        boolean exited = process.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        List<String> lines = Files.readAllLines(Path.of("target", "node-logs", "isolated-producer.log"));
        String summary = lines.stream().filter(l -> l.startsWith("ISOLATED SUMMARY")).findFirst().orElse(null);
        System.out.printf("NETSPLIT isolated producer: %s%n", summary);
        assertThat(exited).as("isolated producer exited within %s", BOUND).isTrue();
        assertThat(summary).as("isolated producer summary (target/node-logs/isolated-producer.log)")
                .isNotNull().doesNotContain("sent=0 ");
        return lines.stream().filter(l -> l.startsWith("ISOLATED ACK")).toList();
    }

    private static byte[] segments(Path nodeDir, int partition) throws Exception {
        Path dir = PartitionDirs.of(nodeDir, TOPIC, partition);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".log")).sorted().toList()) {
                all.write(Files.readAllBytes(f));
            }
        }
        return all.toByteArray();
    }
}
