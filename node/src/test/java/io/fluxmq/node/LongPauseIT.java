package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node frozen (SIGSTOP, as {@code docker pause} or a long GC pause would) for longer than
 * {@code raft.pause.close.threshold.ms}: when it resumes, Ratis' JVM pause monitor closes its Raft server. The node must
 * not carry on as a zombie (listener open, {@code /ready} 200, heartbeats UP, no replication): it exits with code 3,
 * naming the cause in its log. Meanwhile the other two nodes serve on, nothing acknowledged is lost, and the node
 * restarted on its data rejoins and serves.
 */
class LongPauseIT {
    private static final String TOPIC = "long-pause";
    private static final int PARTITIONS = 3;
    /** The pause threshold of this test (default 60 s), and how long the node stays frozen: well past it. */
    private static final long THRESHOLD_MS = 4000;
    private static final long FROZEN_MS = 7000;

    @Test
    void nodePausedPastTheThresholdExitsAndTheClusterServesOn(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir,
                Map.of("raft.pause.close.threshold.ms", Long.toString(THRESHOLD_MS)))) {
            cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
            ContinuousProducer producer = ContinuousProducer.start(cluster.bootstrap(), TOPIC, "p", 100);
            assertThat(producer.awaitAcked(2000, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(2000);

            TopicPartition tp = new TopicPartition(TOPIC, 0);
            int victim = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
            NodeProcess node = cluster.node(victim);
            long frozenAt = System.nanoTime();
            node.freeze();
            // in the background: the default producer's requests to the frozen leader wait for their timeout (30 s)
            // or for the thaw, so the first acknowledgement of its partition may come only after the thaw
            CompletableFuture<Long> failoverMs = CompletableFuture.supplyAsync(() -> {
                try {
                    return producer.firstAckAfter(tp, frozenAt, Duration.ofSeconds(60));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -1L;
                }
            });
            Thread.sleep(Math.max(0, FROZEN_MS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt)));
            long thawedAt = System.nanoTime();
            node.thaw();
            assertThat(TimeUnit.NANOSECONDS.toMillis(thawedAt - frozenAt)).as("frozen past the threshold")
                    .isGreaterThan(THRESHOLD_MS + 1000);

            Integer exit = node.awaitExit(30_000);
            if (exit == null) {
                node.dumpThreads(); // what keeps it running, into its log (a CI run saw no exit within 30 s)
            }
            System.out.printf("LONGPAUSE node %d thawed after %d ms frozen; exited with %s after %d ms%n", victim,
                    TimeUnit.NANOSECONDS.toMillis(thawedAt - frozenAt), exit,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - thawedAt));
            assertThat(exit).as("exit code of the node whose Raft server Ratis closed").isEqualTo(
                    FluxNode.EXIT_RAFT_SERVER_LOST);
            assertThat(node.log()).contains("JVM pause detected").contains("Raft server closed underneath node "
                    + victim);
            System.out.printf("LONGPAUSE first acknowledgement of %s after the freeze: %d ms%n", tp, failoverMs.get());
            assertThat(failoverMs.get()).as("a record sent to %s after the freeze is acknowledged", tp).isNotNegative();

            // the other two serve on: records to every partition keep being acknowledged
            int before = producer.acked().size();
            assertThat(producer.awaitAcked(before + 2000, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(before + 2000);
            long restartAt = System.nanoTime();
            cluster.restart(victim);
            System.out.printf("LONGPAUSE node %d restarted (Kafka port open) in %d ms%n", victim,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartAt));
            before = producer.acked().size();
            assertThat(producer.awaitAcked(before + 2000, Duration.ofSeconds(60))).isGreaterThanOrEqualTo(before + 2000);
            assertThat(producer.stop(Duration.ofSeconds(120))).as("producer finished").isTrue();
            System.out.printf("LONGPAUSE %d sent, %d acknowledged, %d failed%n", producer.sent().size(),
                    producer.acked().size(), producer.failed());

            // every acknowledged record once at its offset, read through the restarted node alone
            Map<TopicPartition, List<ConsumerRecord<String, String>>> read =
                    Clients.readAll(node.bootstrap(), TOPIC, PARTITIONS, Duration.ofSeconds(120));
            Consistency.check("after the long pause", read, producer.sent(), producer.acked());
        }
    }
}
