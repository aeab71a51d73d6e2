package io.fluxmq.node;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A default-config Java producer on its own thread writing keyed records ({@code <prefix><i>}) to a topic at a
 * bounded rate until {@link #stop}, remembering what it sent and where each acknowledged record landed.
 */
final class ContinuousProducer {
    /** Where an acknowledged record landed, and when it was handed to the producer. */
    record Ack(TopicPartition tp, long offset, long sentNanos) {}

    private final Map<String, Ack> acked = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Long> lastAckedSend = new ConcurrentHashMap<>();
    private final Set<String> sent = ConcurrentHashMap.newKeySet();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    /** The producer, once the thread made it. */
    private volatile KafkaProducer<String, String> producer;

    private ContinuousProducer(String bootstrap, String topic, String prefix, int recordsPerPause, int partitions) {
        thread = new Thread(() -> {
            try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, Map.of())) {
                this.producer = producer;
                for (int i = 0; running.get(); i++) {
                    String value = prefix + i;
                    sent.add(value);
                    long sentAt = System.nanoTime();
                    ProducerRecord<String, String> record = partitions > 0
                        ? new ProducerRecord<>(topic, i % partitions, "k" + i, value)
                        : new ProducerRecord<>(topic, "k" + i, value);
                    producer.send(record, (md, e) -> {
                        if (e == null) {
                            TopicPartition tp = new TopicPartition(topic, md.partition());
                            acked.put(value, new Ack(tp, md.offset(), sentAt));
                            lastAckedSend.merge(tp, sentAt, Math::max);
                        } else {
                            failed.incrementAndGet();
                        }
                    });
                    if (i % recordsPerPause == 0) {
                        Thread.sleep(50);
                    }
                }
                producer.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "continuous-producer-" + prefix);
    }

    /** Starts writing; {@code recordsPerPause} records per 50 ms pause bounds the rate. */
    static ContinuousProducer start(String bootstrap, String topic, String prefix, int recordsPerPause) {
        ContinuousProducer p = new ContinuousProducer(bootstrap, topic, prefix, recordsPerPause, 0);
        p.thread.start();
        return p;
    }

    /**
     * {@link #start}, with record i sent to partition i mod {@code partitions} instead of by its key's hash, so each
     * of many partitions gets a record every {@code partitions} records.
     */
    static ContinuousProducer startRoundRobin(String bootstrap, String topic, String prefix, int recordsPerPause,
                                              int partitions) {
        ContinuousProducer p = new ContinuousProducer(bootstrap, topic, prefix, recordsPerPause, partitions);
        p.thread.start();
        return p;
    }

    Map<String, Ack> acked() {
        return acked;
    }

    /** The latest send time (System.nanoTime) of an acknowledged record on {@code tp}; 0 if none. */
    long lastAckedSend(TopicPartition tp) {
        return lastAckedSend.getOrDefault(tp, 0L);
    }

    Set<String> sent() {
        return sent;
    }

    int failed() {
        return failed.get();
    }

    /** Stops sending, then waits up to {@code timeout} for the outstanding records; true if it finished. */
    boolean stop(Duration timeout) throws InterruptedException {
        running.set(false);
        thread.join(timeout.toMillis());
        return !thread.isAlive();
    }

    /**
     * Sends one record ({@code <prefix><partition>}) to each partition now, from the caller's thread through the same
     * producer, kept with the others for the consistency check; per partition, the ms from {@code since} (a
     * System.nanoTime) to its acknowledgement, or the failure.
     */
    Map<TopicPartition, CompletableFuture<Long>> sendNow(List<TopicPartition> partitions, String prefix, long since) {
        Map<TopicPartition, CompletableFuture<Long>> acks = new java.util.LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            String value = prefix + tp.partition();
            CompletableFuture<Long> ack = new CompletableFuture<>();
            acks.put(tp, ack);
            sent.add(value);
            long sentAt = System.nanoTime();
            producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), value, value), (md, e) -> {
                if (e == null) {
                    acked.put(value, new Ack(tp, md.offset(), sentAt));
                    lastAckedSend.merge(tp, sentAt, Math::max);
                    ack.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since));
                } else {
                    failed.incrementAndGet();
                    ack.completeExceptionally(e);
                }
            });
        }
        return acks;
    }

    /** Waits up to {@code timeout} until at least {@code count} records are acknowledged; returns the count. */
    int awaitAcked(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (acked.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return acked.size();
    }

    /** Ms from {@code since} until a record sent to {@code tp} after {@code since} was acknowledged, or -1. */
    long firstAckAfter(TopicPartition tp, long since, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (lastAckedSend.getOrDefault(tp, Long.MIN_VALUE) > since) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
            }
            Thread.sleep(5);
        }
        return -1;
    }
}
