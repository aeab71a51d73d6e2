package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raft.partition.PartitionError;
import io.fluxmq.raft.partition.PartitionException;
import io.fluxmq.raft.partition.ProducerStateTable;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes' {@link EnginePartitions} in one JVM, each with its own TCP transport on 127.0.0.1 and its own data
 * directory: partitions of a topic elect leaders, take idempotent batches, and when the node leading the most of them
 * stops (its engine and sockets closed at once, as a crash would) the survivors lead every partition again and hold
 * every acknowledged record exactly once; the stopped node restarts from its directory on a new port and its
 * replicas catch up to the leaders'.
 */
class EnginePartitionsIT {

    private static final int PARTITIONS = 12;
    private static final Set<Integer> NODES = new TreeSet<>(List.of(1, 2, 3));
    private static final SegmentLogConfig CONFIG = new SegmentLogConfig(256 * 1024, Long.MAX_VALUE, 4096, 1 << 16);
    private static final Uuid TOPIC_ID = Uuid.randomUuid();
    private static final long NODE_TIMEOUT_MS = 300;

    @TempDir
    Path dir;
    private final Map<Integer, InetSocketAddress> addresses = new ConcurrentHashMap<>();
    private final Map<Integer, EnginePartitions> nodes = new ConcurrentHashMap<>();

    @AfterEach
    void stopAll() throws Exception {
        for (EnginePartitions node : nodes.values()) {
            node.close();
        }
        nodes.clear();
    }

    private void start(int node) throws Exception {
        EnginePartitions host = host(node);
        for (int p = 0; p < PARTITIONS; p++) {
            host.open(new TopicPartition("events", p), TOPIC_ID, CONFIG, NODES, preferred(p)).get(10, TimeUnit.SECONDS);
        }
    }

    /** Starts a node's partitions with none open. */
    private EnginePartitions host(int node) throws Exception {
        EnginePartitions host = new EnginePartitions(new EnginePartitions.Settings(node, "engine-it",
            dir.resolve("node-" + node), new InetSocketAddress("127.0.0.1", 0), 2, 1000, 100, 50, NODE_TIMEOUT_MS,
            1 << 20, ProducerStateTable.DEFAULT_EXPIRATION_MS, 2000), addresses::get).start();
        addresses.put(node, host.address());
        nodes.put(node, host);
        return host;
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    /** The replica placement would list first for partition {@code p}: it campaigns as soon as the group is new. */
    private static int preferred(int p) {
        return 1 + p % 3;
    }

    private static TopicPartition tp(int p) {
        return new TopicPartition("events", p);
    }

    /** The node whose replica of partition {@code p} is the ready leader, or -1. */
    private int leaderOf(int p) {
        for (Map.Entry<Integer, EnginePartitions> node : nodes.entrySet()) {
            EnginePartition replica = node.getValue().partition(tp(p));
            if (replica != null && replica.isLeader()) {
                return node.getKey();
            }
        }
        return -1;
    }

    private static MemoryRecords batch(long producerId, int sequence, String value) {
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, (short) 0, sequence,
            new SimpleRecord(System.currentTimeMillis(), value.getBytes(StandardCharsets.UTF_8)));
    }

    /** Appends to the partition's leader, retrying while leadership moves (a bounded number of times). */
    private long append(int p, int sequence, String value) throws Exception {
        for (int attempt = 0; attempt < 200; attempt++) {
            int leader = leaderOf(p);
            if (leader > 0) {
                try {
                    return nodes.get(leader).partition(tp(p)).append(batch(p, sequence, value))
                        .get(10, TimeUnit.SECONDS).baseOffset();
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause() instanceof CompletionException ? e.getCause().getCause() : e.getCause();
                    assertThat(cause).isInstanceOf(PartitionException.class);
                    assertThat(((PartitionException) cause).error()).isEqualTo(PartitionError.NOT_LEADER);
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        throw new AssertionError("no leader of partition " + p + " took a batch");
    }

    private static List<String> values(EnginePartition replica) {
        List<String> values = new ArrayList<>();
        long next = replica.logStartOffset();
        while (next < replica.highWatermark()) {
            for (RecordBatch batch : replica.read(next, 1 << 20, true).batches()) {
                if (!batch.isControlBatch()) {
                    for (Record record : batch) {
                        values.add(StandardCharsets.UTF_8.decode(record.value()).toString());
                    }
                }
                next = batch.nextOffset();
            }
        }
        return values;
    }

    @Test
    void partitionsFailOverToTheSurvivorsAndARestartedNodeCatchesUp() throws Exception {
        long started = System.nanoTime();
        for (int node : NODES) {
            start(node);
        }
        await("every partition led", Duration.ofSeconds(15), () -> {
            for (int p = 0; p < PARTITIONS; p++) {
                if (leaderOf(p) < 0) {
                    return false;
                }
            }
            return true;
        });
        System.out.printf("every new partition led %d ms after the first node started%n",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        for (int p = 0; p < PARTITIONS; p++) {
            assertThat(leaderOf(p)).as("leader of new partition %d", p).isEqualTo(preferred(p));
        }
        Map<Integer, List<String>> acknowledged = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            acknowledged.put(p, new ArrayList<>());
            for (int i = 0; i < 10; i++) {
                append(p, i, "p" + p + "-" + i);
                acknowledged.get(p).add("p" + p + "-" + i);
            }
        }
        Map<Integer, Integer> led = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            led.merge(leaderOf(p), 1, Integer::sum);
        }
        int victim = led.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        List<Integer> itLed = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            if (leaderOf(p) == victim) {
                itLed.add(p);
            }
        }

        long stopped = System.nanoTime();
        nodes.remove(victim).close();
        await("the partitions node " + victim + " led are led again", Duration.ofSeconds(5),
            () -> itLed.stream().allMatch(p -> leaderOf(p) > 0));
        long reledMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
        System.out.printf("node %d led %d of %d partitions; all led again %d ms after it stopped%n", victim,
            itLed.size(), PARTITIONS, reledMs);
        // the node timeout finds the node gone; no election timeout (1 s) is waited for on top
        assertThat(reledMs).isLessThan(NODE_TIMEOUT_MS + 700);
        await("the new leaders count node " + victim + " out of sync", Duration.ofSeconds(5),
            () -> itLed.stream().allMatch(p -> {
                List<Integer> inSync = nodes.get(leaderOf(p)).partition(tp(p)).inSync();
                return !inSync.isEmpty() && !inSync.contains(victim);
            }));
        for (int p = 0; p < PARTITIONS; p++) {
            int sequence = acknowledged.get(p).size();
            append(p, sequence, "p" + p + "-" + sequence);
            acknowledged.get(p).add("p" + p + "-" + sequence);
            assertThat(values(nodes.get(leaderOf(p)).partition(tp(p)))).containsExactlyElementsOf(acknowledged.get(p));
        }

        start(victim);
        await("the restarted node's replicas catch up", Duration.ofSeconds(15), () -> {
            for (int p = 0; p < PARTITIONS; p++) {
                int leader = leaderOf(p);
                if (leader < 0 || nodes.get(victim).partition(tp(p)).highWatermark()
                        < nodes.get(leader).partition(tp(p)).highWatermark()) {
                    return false;
                }
            }
            return true;
        });
        for (int p = 0; p < PARTITIONS; p++) {
            assertThat(values(nodes.get(victim).partition(tp(p)))).containsExactlyElementsOf(acknowledged.get(p));
        }
        await("every leader counts all three in sync again", Duration.ofSeconds(5), () -> {
            for (int p = 0; p < PARTITIONS; p++) {
                int leader = leaderOf(p);
                if (leader < 0 || !nodes.get(leader).partition(tp(p)).inSync().equals(List.of(1, 2, 3))) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * Partition 0 moves from nodes 1-3 to a fourth node as a reassignment moves it, one voter per change through the
     * leader: node 4 opens the group empty with the former voters, is added and catches up from the leader, leadership
     * moves off the leaving leader, which is removed and deletes its replica; every replica's partition.metadata
     * records the new voters, and node 4, restarted, runs the group from its directory alone with them.
     */
    @Test
    void aReplicaMovesToANewNodeOneVoterAtATimeAndItsVotersSurviveARestart() throws Exception {
        for (int node : NODES) {
            start(node);
        }
        await("partition 0 led", Duration.ofSeconds(15), () -> leaderOf(0) > 0);
        List<String> acknowledged = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            append(0, i, "v" + i);
            acknowledged.add("v" + i);
        }
        int leaving = leaderOf(0);
        Set<Integer> target = new TreeSet<>(NODES);
        target.remove(leaving);
        target.add(4);

        EnginePartitions fourth = host(4);
        EnginePartition joining = fourth.open(tp(0), TOPIC_ID, CONFIG, NODES, -1).get(10, TimeUnit.SECONDS);
        assertThat(joining.voters().get(10, TimeUnit.SECONDS).voters()).as("not a voter yet").doesNotContain(4);
        EnginePartition leader = nodes.get(leaving).partition(tp(0));
        Set<Integer> four = new TreeSet<>(NODES);
        four.add(4);
        leader.changeVoters(four).get(10, TimeUnit.SECONDS);
        await("node 4 caught up", Duration.ofSeconds(10), () -> leader.caughtUp(4).join()
            && joining.highWatermark() == leader.highWatermark());
        assertThat(values(joining)).containsExactlyElementsOf(acknowledged);

        leader.transferLeadership(4).get(10, TimeUnit.SECONDS);
        await("node 4 leads", Duration.ofSeconds(10), () -> leaderOf(0) == 4);
        append(0, acknowledged.size(), "after the transfer");
        acknowledged.add("after the transfer");
        joining.changeVoters(target).get(10, TimeUnit.SECONDS); // its own entry is committed: it may change voters
        assertThat(joining.voters().get(10, TimeUnit.SECONDS)).isEqualTo(new EnginePartition.Voters(target, true));
        nodes.get(leaving).remove(tp(0));
        assertThat(dir.resolve("node-" + leaving).resolve("events-0")).as("the removed replica").doesNotExist();
        await("every replica records the new voters", Duration.ofSeconds(10), () -> target.stream().allMatch(n -> {
            try {
                return EnginePartitions.readIdentity(dir.resolve("node-" + n).resolve("events-0")
                    .resolve(EnginePartitions.TOPIC_ID_FILE)).voters().equals(target);
            } catch (java.io.IOException e) {
                return false;
            }
        }));

        nodes.remove(4).close();
        EnginePartitions restarted = host(4);
        assertThat(restarted.openFound(CONFIG).get(10, TimeUnit.SECONDS)).containsExactly(tp(0));
        await("node 4's replica open", Duration.ofSeconds(10), () -> restarted.partition(tp(0)) != null);
        assertThat(restarted.partition(tp(0)).voters().get(10, TimeUnit.SECONDS).voters()).isEqualTo(target);
        append(0, acknowledged.size(), "after the restart");
        acknowledged.add("after the restart");
        await("the restarted replica caught up", Duration.ofSeconds(15), () -> leaderOf(0) > 0
            && restarted.partition(tp(0)).highWatermark() == nodes.get(leaderOf(0)).partition(tp(0)).highWatermark());
        assertThat(values(restarted.partition(tp(0)))).containsExactlyElementsOf(acknowledged);
        assertThat(leaderOf(0)).isIn(target);
    }
}
