package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes with {@code partition.engine=multiraft} (partitions on FluxMQ's own multi-Raft, ADR 3): a
 * default Java producer writes continuously to an RF=3, 6-partition topic; leaders spread to each partition's
 * preferred replica; the node leading partition 0 is killed with SIGKILL and restarted; every acknowledged record is
 * read back exactly once at its acknowledged offset by a consumer, and the first acknowledged produce to partition 0
 * after the kill is reported.
 */
class MultiRaftIT {
    private static final String TOPIC = "multiraft";
    private static final int PARTITIONS = 6;

    @Test
    void producesConsumesAndFailsOverOnTheOwnEngine(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of(NodeConfig.PARTITION_ENGINE, NodeConfig.MULTIRAFT))) {
            cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
            awaitPreferredLeaders(cluster);

            ContinuousProducer producer = ContinuousProducer.start(cluster.bootstrap(), TOPIC, "r", 250);
            awaitAcked(producer, 10_000);

            int leader0 = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
            long killedAt = System.nanoTime();
            cluster.node(leader0).kill();
            long recoveredMs = producer.firstAckAfter(new TopicPartition(TOPIC, 0), killedAt, Duration.ofSeconds(60));
            assertThat(recoveredMs).as("ms to the first acknowledged produce after the kill").isNotNegative();
            System.out.printf("MULTIRAFT kill -9 of node %d (leader of %s-0): first acknowledged produce after %d ms%n",
                    leader0, TOPIC, recoveredMs);
            awaitAcked(producer, producer.acked().size() + 5_000);
            cluster.restart(leader0);
            awaitAcked(producer, producer.acked().size() + 10_000);
            assertThat(producer.stop(Duration.ofMinutes(3))).as("producer finished").isTrue();
            Set<String> sent = producer.sent();
            Map<String, ContinuousProducer.Ack> acked = producer.acked();
            System.out.printf("MULTIRAFT %d sent, %d acknowledged, %d failed%n", sent.size(), acked.size(),
                    producer.failed());

            Map<TopicPartition, List<ConsumerRecord<String, String>>> read =
                    Clients.readAll(cluster.bootstrap(), TOPIC, PARTITIONS, Duration.ofSeconds(120));
            Consistency.check("multiraft, after a kill and restart", read, sent, acked);
            // the restarted node takes back the partitions it prefers to lead, holding every record
            awaitPreferredLeaders(cluster);
            Map<TopicPartition, List<ConsumerRecord<String, String>>> again =
                    Clients.readAll(cluster.bootstrap(), TOPIC, PARTITIONS, Duration.ofSeconds(120));
            Consistency.check("multiraft, after leadership moved back", again, sent, acked);
        }
    }

    /** Waits until every partition is led by its preferred replica (the first assigned one). */
    private static void awaitPreferredLeaders(TestCluster cluster) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> off = new ArrayList<>();
        try (Admin admin = cluster.admin()) {
            while (System.nanoTime() < deadline) {
                off.clear();
                TopicDescription d;
                try {
                    d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
                } catch (java.util.concurrent.ExecutionException e) {
                    // On the multi-Raft engine CreateTopics answers once the topic is in the answering node's
                    // metadata, as Kafka's does; another node may learn of it a moment later.
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                        throw e;
                    }
                    off.add("topic not known to the node asked yet");
                    Thread.sleep(100);
                    continue;
                }
                for (TopicPartitionInfo p : d.partitions()) {
                    if (p.leader() == null || p.leader().id() != p.replicas().get(0).id()) {
                        off.add(p.partition() + ": leader " + (p.leader() == null ? "none" : p.leader().id())
                                + ", preferred " + p.replicas().get(0).id());
                    }
                }
                if (off.isEmpty()) {
                    return;
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("partitions not led by their preferred replica after 60 s: " + off);
    }

    private static void awaitAcked(ContinuousProducer producer, int count) throws InterruptedException {
        assertThat(producer.awaitAcked(count, Duration.ofSeconds(120))).as("acknowledged records")
                .isGreaterThanOrEqualTo(count);
    }
}
