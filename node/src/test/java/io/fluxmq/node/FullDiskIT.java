package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A node whose data directory fills up (a small tmpfs; needs root) refuses further writes with an error instead of
 * acknowledging them or crashing, and after the disk grows and the node restarts, every acknowledged record is
 * there and new writes succeed.
 */
class FullDiskIT {
    private static final String TOPIC = "full";
    private static final int MAX_RECORDS = 200_000;

    record Acked(long offset, String value) {}

    /** With the node-wide write-ahead log (the default, 64 MiB files) and without it ({@code 0}). */
    @ParameterizedTest(name = "raft.wal.segment.bytes={0}")
    @ValueSource(strings = {"67108864", "0"})
    void aFullDiskFailsWritesCleanlyAndLosesNothing(String walSegmentBytes, @TempDir Path tmp) throws Exception {
        try (Tmpfs disk = Tmpfs.mount(tmp.resolve("data"), "48m", "fluxmq-full-disk")) {
            Path dataDir = disk.path();
            Map<String, String> settings = Map.of("log.segment.bytes", Integer.toString(4 << 20),
                    NodeConfig.RAFT_WAL_SEGMENT_BYTES, walSegmentBytes);
            try (NodeProcess node = new NodeProcess("full-disk", dataDir, settings).start()) {
                Clients.createTopic(node.bootstrap(), TOPIC, 1);
                ConcurrentLinkedQueue<Acked> acked = new ConcurrentLinkedQueue<>();
                Map<String, Integer> errors = new ConcurrentHashMap<>();
                AtomicReference<String> firstError = new AtomicReference<>();
                String padding = "x".repeat(1000);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(),
                        Map.of(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000,
                                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000))) {
                    for (int i = 0; i < MAX_RECORDS && errors.isEmpty() && System.nanoTime() < deadline; i++) {
                        String value = i + ":" + padding;
                        producer.send(new ProducerRecord<>(TOPIC, "k" + i, value), (md, e) -> {
                            if (e == null) {
                                acked.add(new Acked(md.offset(), value));
                            } else {
                                errors.merge(e.getClass().getSimpleName(), 1, Integer::sum);
                                firstError.compareAndSet(null, e.toString());
                            }
                        });
                    }
                    producer.flush();
                }
                System.out.printf("FULLDISK %d acknowledged, failed sends by error: %s, first: %s%n", acked.size(),
                        errors, firstError.get());
                assertThat(errors).as("sends refused once the 48 MiB disk is full").isNotEmpty();
                assertThat(acked.size()).as("records acknowledged before the disk filled").isGreaterThan(1000);
                assertThat(node.isAlive()).as("node still running with a full disk").isTrue();

                disk.resize("512m");
                int exit = node.stop();
                System.out.printf("FULLDISK node stopped with %d after the disk grew%n", exit);
                node.start();

                List<ConsumerRecord<String, String>> read = Clients.readAll(node.bootstrap(), TOPIC, 1,
                        Duration.ofSeconds(60)).get(new TopicPartition(TOPIC, 0));
                Map<Long, String> byOffset = new java.util.HashMap<>();
                long previous = -1;
                for (ConsumerRecord<String, String> r : read) {
                    assertThat(r.offset()).as("offsets increase").isGreaterThan(previous);
                    previous = r.offset();
                    byOffset.put(r.offset(), r.value());
                }
                for (Acked a : acked) {
                    assertThat(byOffset.get(a.offset())).as("acknowledged record at offset %d", a.offset())
                            .isEqualTo(a.value());
                }
                try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
                    for (int i = 0; i < 100; i++) {
                        producer.send(new ProducerRecord<>(TOPIC, "after", "after-" + i)).get(30, TimeUnit.SECONDS);
                    }
                }
                System.out.printf("FULLDISK after restart: %d records read, all %d acknowledged present, 100 more "
                        + "written%n", read.size(), acked.size());
            }
        }
    }
}
