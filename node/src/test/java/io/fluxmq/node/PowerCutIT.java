package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power cuts: every node's data directory is a {@link LossyFileSystem}, which keeps only what was fsynced. Under a
 * continuous default Java producer (acks=all) on an RF=3 topic, the test cuts one node at a time at random
 * (seeded) moments, then all three at once; a cut is power off (nothing more becomes durable, not even fsyncs in
 * flight), SIGKILL, unmount (dropping every unsynced write), remount, restart. After every cut the cluster must serve every partition again, and every record acknowledged so far must
 * be read back exactly once at its acknowledged offset; at the end every replica must hold byte-identical record
 * batches up to the high watermark. Rerun a schedule with {@code -Dpowercut.seed=N}.
 */
class PowerCutIT {
    private static final String TOPIC = "powercut";
    private static final int PARTITIONS = 3;
    /** 5 in the suite (time); {@code -Dpowercut.singleCuts=8} or more for a longer run (docs/testing.md). */
    private static final int SINGLE_NODE_CUTS = Integer.getInteger("powercut.singleCuts", 5);
    private static final int WHOLE_CLUSTER_CUTS = 2;
    private static final Duration BOUND = Duration.ofSeconds(90);
    private static final String NAME = "powercut-node-";
    /** Each fsync takes a random 0..10 ms, so fsyncs of different files finish in varying order and far apart. */
    private static final int FSYNC_LATENCY_MS = 10;
    /** Small segments and frequent snapshots, so that cuts land on rolls and snapshot writes too. */
    private static final Map<String, String> SETTINGS = Map.of("log.segment.bytes", "262144",
            "raft.log.segment.bytes", "65536", "raft.snapshot.interval.entries", "1000");

    /** Without the node-wide write-ahead log (on by default): every partition log forced on its own. */
    @Test
    void everyAcknowledgedRecordSurvivesPowerCuts(@TempDir Path dir) throws Exception {
        Map<String, String> settings = new java.util.HashMap<>(SETTINGS);
        settings.put(NodeConfig.RAFT_WAL_SEGMENT_BYTES, "0");
        run(dir, settings);
    }

    /**
     * The same with the node-wide write-ahead log ({@code raft.wal.segment.bytes}), its files small enough that cuts
     * land on rolls and checkpoints: the partition logs are forced only by checkpoints, so what survives a cut of
     * theirs is what the write-ahead log's replay puts back.
     */
    @Test
    void everyAcknowledgedRecordSurvivesPowerCutsWithTheWriteAheadLog(@TempDir Path dir) throws Exception {
        Map<String, String> settings = new java.util.HashMap<>(SETTINGS);
        settings.put(NodeConfig.RAFT_WAL_SEGMENT_BYTES, Integer.toString(1 << 20));
        run(dir, settings);
        for (int i = 0; i < 3; i++) {
            assertThat(dir.resolve("disk-" + i).resolve("multiraft").resolve(".wal")).as("node %d wrote a write-ahead log", i)
                    .isDirectory();
        }
    }

    private static void run(Path dir, Map<String, String> settings) throws Exception {
        long seed = Long.getLong("powercut.seed", System.nanoTime());
        System.out.printf("POWERCUT seed %d (rerun this schedule with -Dpowercut.seed=%d)%n", seed, seed);
        Random random = new Random(seed);
        Path logs = Path.of("target", "node-logs");
        for (int i = 0; i < 3; i++) {
            Files.deleteIfExists(logs.resolve(NAME + i + ".log"));
            Files.deleteIfExists(logs.resolve("powercut-lossyfs-" + i + ".log"));
        }
        List<LossyFileSystem> disks = new ArrayList<>();
        long started = System.nanoTime();
        try {
            for (int i = 0; i < 3; i++) {
                disks.add(LossyFileSystem.mount(dir.resolve("disk-" + i), dir.resolve("node-" + i),
                        logs.resolve("powercut-lossyfs-" + i + ".log"), FSYNC_LATENCY_MS));
            }
            try (TestCluster cluster = TestCluster.withDataDirs(3, settings, i -> disks.get(i).mountPoint(), NAME)) {
                cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
                ContinuousProducer producer = ContinuousProducer.start(cluster.bootstrap(), TOPIC, "p", 20);
                boolean stopped = false;
                try {
                    awaitServing(producer, System.nanoTime(), "at start");
                    int cuts = 0;
                    for (int c = 0; c < SINGLE_NODE_CUTS + WHOLE_CLUSTER_CUTS; c++) {
                        // The fault schedule: a random moment mid-stream (not a wait for a condition).
                        Thread.sleep(500 + random.nextInt(3000));
                        List<Integer> victims = c < SINGLE_NODE_CUTS ? List.of(random.nextInt(3)) : List.of(0, 1, 2);
                        cuts++;
                        String what = "cut " + cuts + " (node" + (victims.size() > 1 ? "s " : " ") + victims + ")";
                        long cutStart = System.nanoTime();
                        int ackedBefore = producer.acked().size();
                        String steps = cut(cluster, disks, victims);
                        long restarted = System.nanoTime();
                        awaitServing(producer, restarted, "after " + what);
                        System.out.printf("POWERCUT %s: %d acknowledged before it; down and restarted in %d ms (%s), "
                                        + "all partitions serving %d ms later%n", what, ackedBefore,
                                ms(restarted - cutStart), steps, ms(System.nanoTime() - restarted));
                        checkConsistency(cluster, producer, "after " + what);
                    }
                    stopped = producer.stop(BOUND);
                    assertThat(stopped).as("producer finished its outstanding sends").isTrue();
                    System.out.printf("POWERCUT %d cuts; %d sent, %d acknowledged, %d failed%n", cuts,
                            producer.sent().size(), producer.acked().size(), producer.failed());
                    checkConsistency(cluster, producer, "at the end");
                    awaitIdenticalReplicas(cluster, disks);
                } catch (Throwable t) {
                    printLogTails(logs);
                    throw t;
                } finally {
                    if (!stopped) {
                        producer.stop(Duration.ofSeconds(10));
                    }
                }
            }
        } finally {
            for (LossyFileSystem disk : disks) {
                disk.close();
            }
            System.out.printf("POWERCUT ran %d s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
        }
    }

    /**
     * SIGKILL, power cut, remount, restart; for several nodes, each step for all before the next. Returns how long
     * the steps took.
     */
    private static String cut(TestCluster cluster, List<LossyFileSystem> disks, List<Integer> ids) throws Exception {
        long t0 = System.nanoTime();
        for (int id : ids) {
            disks.get(id).powerOff(); // first, so that no fsync in flight completes after the "power" is gone
        }
        for (int id : ids) {
            cluster.node(id).kill();
        }
        long t1 = System.nanoTime();
        for (int id : ids) {
            disks.get(id).cut();
        }
        long t2 = System.nanoTime();
        for (int id : ids) {
            disks.get(id).mount();
        }
        long t3 = System.nanoTime();
        for (int id : ids) {
            cluster.node(id).start(false);
        }
        for (int id : ids) {
            cluster.node(id).awaitPort(BOUND.toMillis());
        }
        long t4 = System.nanoTime();
        return String.format("power off + kill %d ms, unmount %d ms, mount %d ms, start %d ms", ms(t1 - t0), ms(t2 - t1),
                ms(t3 - t2), ms(t4 - t3));
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** Waits until a record sent after {@code since} was acknowledged in every partition. */
    private static void awaitServing(ContinuousProducer producer, long since, String when) throws Exception {
        for (int p = 0; p < PARTITIONS; p++) {
            long ms = producer.firstAckAfter(new TopicPartition(TOPIC, p), since, BOUND);
            assertThat(ms).as("%s: a produce to partition %d acknowledged within %s", when, p, BOUND)
                    .isNotNegative();
        }
    }

    /**
     * {@link Consistency}'s check on what was acknowledged so far: every record read back appears once, was sent, at
     * increasing offsets; every acknowledged record is there at its acknowledged offset.
     */
    private static void checkConsistency(TestCluster cluster, ContinuousProducer producer, String when) {
        Map<String, ContinuousProducer.Ack> acked = new HashMap<>(producer.acked());
        Map<TopicPartition, Long> needed = new HashMap<>();
        acked.values().forEach(a -> needed.merge(a.tp(), a.offset() + 1, Math::max));
        long start = System.nanoTime();
        Map<TopicPartition, List<ConsumerRecord<String, String>>> read = Clients.readUntil(cluster.bootstrap(), TOPIC,
                PARTITIONS, needed, BOUND);
        Consistency.check(when, read, producer.sent(), acked);
        System.out.printf("POWERCUT %s: all %d acknowledged records present once at their offsets (%d read in %d ms)%n",
                when, acked.size(), read.values().stream().mapToInt(List::size).sum(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    /**
     * Waits until every replica holds the same record batches, byte for byte, up to the partition's high
     * watermark (read through the mounts while the nodes run); on timeout, copies them to
     * target/node-logs/powercut-replicas and fails naming the first difference.
     */
    private static void awaitIdenticalReplicas(TestCluster cluster, List<LossyFileSystem> disks) throws Exception {
        Map<TopicPartition, Long> hwm;
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                tps.add(new TopicPartition(TOPIC, p));
            }
            hwm = consumer.endOffsets(tps, BOUND);
        }
        long deadline = System.nanoTime() + BOUND.toNanos();
        for (int p = 0; p < PARTITIONS; p++) {
            long end = hwm.get(new TopicPartition(TOPIC, p));
            byte[][] replicas = new byte[disks.size()][];
            for (int attempt = 0; attempt < 1000; attempt++) {
                for (int i = 0; i < disks.size(); i++) {
                    replicas[i] = batchesUpTo(PartitionDirs.of(disks.get(i).mountPoint(), TOPIC, p),
                            end);
                }
                boolean same = Arrays.stream(replicas).allMatch(r -> Arrays.equals(r, replicas[0]));
                if (same || System.nanoTime() > deadline) {
                    break;
                }
                Thread.sleep(200);
            }
            Path copies = Path.of("target", "node-logs", "powercut-replicas");
            for (int i = 0; i < replicas.length; i++) {
                if (!Arrays.equals(replicas[i], replicas[0])) {
                    Files.createDirectories(copies);
                    for (int j = 0; j < replicas.length; j++) {
                        Files.write(copies.resolve(TOPIC + "-" + p + "-node-" + j + ".batches"), replicas[j]);
                    }
                }
                assertThat(Arrays.equals(replicas[i], replicas[0])).as("partition %d up to its high watermark %d: "
                                + "node %d holds %d bytes of batches, node 0 %d; first difference at byte %d (copies in "
                                + "%s)", p, end, i, replicas[i].length, replicas[0].length,
                        Arrays.mismatch(replicas[i], replicas[0]), copies).isTrue();
            }
            assertThat(replicas[0].length).as("partition %d holds data", p).isPositive();
            System.out.printf("POWERCUT partition %d: 3 replicas hold identical batches up to high watermark %d "
                    + "(%d bytes)%n", p, end, replicas[0].length);
        }
    }

    /**
     * The record batches of a partition directory's {@code .log} files (in offset order) whose base offset is below
     * {@code end}, walked by their headers (base offset int64, length int32, last offset delta int32 at byte 23);
     * a zero length or a batch past the end of the file ends that file.
     */
    static byte[] batchesUpTo(Path partitionDir, long end) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!Files.isDirectory(partitionDir)) {
            return out.toByteArray();
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(partitionDir)) {
            files = s.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
        for (Path f : files) {
            byte[] b = Files.readAllBytes(f);
            ByteBuffer buf = ByteBuffer.wrap(b);
            int pos = 0;
            while (pos + 27 <= b.length) {
                long base = buf.getLong(pos);
                int length = buf.getInt(pos + 8);
                if (length <= 0 || pos + 12L + length > b.length || base >= end) {
                    break;
                }
                out.write(b, pos, 12 + length);
                if (base + buf.getInt(pos + 23) + 1 >= end) {
                    return out.toByteArray();
                }
                pos += 12 + length;
            }
        }
        return out.toByteArray();
    }

    /** The last lines of every node's and every file system daemon's log, for the failure report. */
    private static void printLogTails(Path logs) {
        for (int i = 0; i < 3; i++) {
            for (Path log : List.of(logs.resolve(NAME + i + ".log"), logs.resolve("powercut-lossyfs-" + i + ".log"))) {
                try {
                    List<String> lines = Files.readAllLines(log);
                    System.out.printf("POWERCUT ---- last lines of %s ----%n%s%n", log,
                            String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
                } catch (IOException e) {
                    System.out.printf("POWERCUT no log %s: %s%n", log, e);
                }
            }
        }
    }
}
