package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.FileLogInputStream.FileChannelRecordBatch;
import org.apache.kafka.common.record.FileRecords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node killed with SIGKILL keeps every acknowledged record; a torn segment tail is cut at the last good batch. */
class CrashRecoveryIT {
    private static final int PARTITIONS = 3;

    record Acked(TopicPartition tp, long offset, String value) {}

    @Test
    void sigkillDuringProductionLosesNoAcknowledgedRecord(@TempDir Path dataDir) throws Exception {
        try (NodeProcess node = new NodeProcess("crash", dataDir, Map.of()).start()) {
            Clients.createTopic(node.bootstrap(), "crash", PARTITIONS);
            ConcurrentLinkedQueue<Acked> acked = new ConcurrentLinkedQueue<>();
            AtomicInteger failed = new AtomicInteger();
            AtomicBoolean running = new AtomicBoolean(true);
            Thread producerThread = new Thread(() -> {
                try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(),
                        Map.of(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 5000,
                                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000,
                                ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000))) {
                    for (int i = 0; running.get() && i < 2_000_000; i++) {
                        String value = "v" + i;
                        producer.send(new ProducerRecord<>("crash", "k" + i, value), (md, e) -> {
                            if (e == null) {
                                acked.add(new Acked(new TopicPartition(md.topic(), md.partition()), md.offset(), value));
                            } else {
                                failed.incrementAndGet();
                            }
                        });
                    }
                    producer.close(Duration.ofSeconds(10));
                }
            });
            producerThread.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (acked.size() < 30_000 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            node.kill();
            int ackedAtKill = acked.size();
            running.set(false);
            producerThread.join(60_000);
            // The producer must be gone before the restart, or its retries would land on the new process.
            assertThat(producerThread.isAlive()).as("producer thread finished").isFalse();
            assertThat(ackedAtKill).as("records acknowledged before the kill").isGreaterThanOrEqualTo(30_000);

            node.start();
            Map<TopicPartition, List<ConsumerRecord<String, String>>> read =
                    Clients.readAll(node.bootstrap(), "crash", PARTITIONS, Duration.ofSeconds(60));
            Map<TopicPartition, Map<Long, String>> byOffset = new ConcurrentHashMap<>();
            read.forEach((tp, records) -> {
                Map<Long, String> m = new java.util.HashMap<>();
                long previous = -1;
                for (ConsumerRecord<String, String> r : records) {
                    assertThat(r.offset()).as("offsets strictly increase in %s", tp).isGreaterThan(previous);
                    previous = r.offset();
                    m.put(r.offset(), r.value());
                }
                byOffset.put(tp, m);
            });
            for (Acked a : acked) {
                assertThat(byOffset.get(a.tp()).get(a.offset()))
                        .as("acknowledged record at %s offset %d", a.tp(), a.offset()).isEqualTo(a.value());
            }
            System.out.printf("crash test: %d acknowledged (%d at kill), %d failed sends, all present after restart%n",
                    acked.size(), ackedAtKill, failed.get());
        }
    }

    @Test
    void tornSegmentTailIsTruncatedAtLastGoodBatch(@TempDir Path dataDir) throws Exception {
        List<Acked> acked = new ArrayList<>();
        NodeProcess node = new NodeProcess("torn", dataDir, Map.of()).start();
        try {
            Clients.createTopic(node.bootstrap(), "torn", 1);
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
                for (int i = 0; i < 1000; i++) {
                    var md = producer.send(new ProducerRecord<>("torn", "k" + i, "v" + i)).get();
                    acked.add(new Acked(new TopicPartition("torn", 0), md.offset(), "v" + i));
                }
            }
            assertThat(node.stop()).as("exit status after SIGTERM").isIn(0, 143);
            assertThat(Files.readString(Path.of("target/node-logs/torn.log"))).contains("FluxMQ node 0 stopped");

            long lastAcked = acked.get(acked.size() - 1).offset();
            Path segment = lastSegment(PartitionDirs.of(dataDir, "torn", 0));
            long goodSize = Files.size(segment);
            // the header of the last batch (a data batch: its records follow the 61 header bytes), so the copy is
            // torn; the multi-Raft engine's first batch, a leader change, is a whole batch in 61 bytes
            int lastBatchPosition;
            try (FileRecords records = FileRecords.open(segment.toFile())) {
                FileChannelRecordBatch last = null;
                for (var batch : records.batches()) {
                    last = batch;
                }
                assertThat(last.lastOffset()).isEqualTo(lastAcked);
                assertThat(last.sizeInBytes()).isGreaterThan(61);
                lastBatchPosition = last.position();
            }
            ByteBuffer head = ByteBuffer.allocate(61);
            try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.read(head, lastBatchPosition);
                head.flip();
                head.putLong(0, lastAcked + 1); // a batch header claiming the next offset, cut off before its records
                ch.write(head, goodSize);
            }
            assertThat(Files.size(segment)).isGreaterThan(goodSize);

            node.start();
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
                var md = producer.send(new ProducerRecord<>("torn", "after", "after-restart")).get();
                // The multi-Raft engine's new leader term takes one offset of its own (a LEADER_CHANGE control batch,
                // which consumers skip) before the next record; on Ratis the record comes right after.
                long controlBatches = PartitionDirs.isMultiRaft(dataDir) ? 1 : 0;
                assertThat(md.offset()).as("the next offset follows the last good batch")
                        .isEqualTo(lastAcked + 1 + controlBatches);
            }
            List<ConsumerRecord<String, String>> read = Clients.readAll(node.bootstrap(), "torn", 1,
                    Duration.ofSeconds(30)).get(new TopicPartition("torn", 0));
            assertThat(read).hasSize(1001);
            Map<Long, String> byOffset = new java.util.HashMap<>();
            read.forEach(r -> byOffset.put(r.offset(), r.value()));
            for (Acked a : acked) {
                assertThat(byOffset.get(a.offset())).as("acknowledged record at offset %d", a.offset())
                        .isEqualTo(a.value());
            }
            assertThat(read.get(1000).value()).isEqualTo("after-restart");
        } finally {
            node.close();
        }
    }

    private static Path lastSegment(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().reduce((a, b) -> b).orElseThrow();
        }
    }
}
