package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
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

            Map<String, ContinuousProducer.Ack> acked = new ConcurrentHashMap<>();
            Set<String> sent = ConcurrentHashMap.newKeySet();
            AtomicInteger failed = new AtomicInteger();
            AtomicBoolean running = new AtomicBoolean(true);
            Thread producerThread = new Thread(() -> {
                try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of())) {
                    for (int i = 0; running.get() && i < 2_000_000; i++) {
                        String value = "r" + i;
                        sent.add(value);
                        long sentAt = System.nanoTime();
                        producer.send(new ProducerRecord<>(TOPIC, "k" + i, value), (md, e) -> {
                            if (e == null) {
                                acked.put(value, new ContinuousProducer.Ack(
                                        new TopicPartition(TOPIC, md.partition()), md.offset(), sentAt));
                            } else {
                                failed.incrementAndGet();
                            }
                        });
                        if (i % 250 == 0) {
                            Thread.sleep(50); // at most ~5k records/s, so the faults happen mid-stream
                        }
                    }
                    producer.flush();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "multiraft-producer");
            producerThread.start();
            awaitAcked(acked, 10_000);

            int leader0 = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
            long killedAt = System.nanoTime();
            cluster.node(leader0).kill();
            long recoveredMs = firstAckAfter(acked, new TopicPartition(TOPIC, 0), killedAt);
            System.out.printf("MULTIRAFT kill -9 of node %d (leader of %s-0): first acknowledged produce after %d ms%n",
                    leader0, TOPIC, recoveredMs);
            awaitAcked(acked, acked.size() + 5_000);
            cluster.restart(leader0);
            awaitAcked(acked, acked.size() + 10_000);
            running.set(false);
            producerThread.join(180_000);
            assertThat(producerThread.isAlive()).isFalse();
            System.out.printf("MULTIRAFT %d sent, %d acknowledged, %d failed%n", sent.size(), acked.size(),
                    failed.get());

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
                TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
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

    private static void awaitAcked(Map<String, ContinuousProducer.Ack> acked, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (acked.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(acked.size()).as("acknowledged records").isGreaterThanOrEqualTo(count);
    }

    /** Waits for the first acknowledgement of a record sent to {@code tp} after {@code since}; returns ms. */
    private static long firstAckAfter(Map<String, ContinuousProducer.Ack> acked, TopicPartition tp, long since)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            boolean any = acked.values().stream().anyMatch(a -> a.tp().equals(tp) && a.sentNanos() > since);
            if (any) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no produce to " + tp + " succeeded within 60 s of the fault");
    }
}
