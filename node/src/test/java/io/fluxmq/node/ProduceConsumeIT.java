package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Java producer with default settings (idempotent, acks=all) writes keyed records with headers to a
 * 6-partition topic; a consumer (assign + seek) reads every one back intact and in per-partition order.
 */
class ProduceConsumeIT {
    private static final int PARTITIONS = 6;
    @TempDir
    static Path dataDir;
    static TestNode node;

    @BeforeAll
    static void startNode() throws Exception {
        node = TestNode.start(dataDir);
    }

    @AfterAll
    static void stopNode() {
        node.close();
    }

    @Test
    void twoHundredThousandRecordsWithDefaultProducer() throws Exception {
        roundTrip("plain", "none", 200_000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "snappy", "lz4", "zstd"})
    void everyCompressionCodec(String codec) throws Exception {
        roundTrip("codec-" + codec, codec, 50_000);
    }

    @Test
    void acksZeroGetsNoResponseYetEveryRecordLands() throws Exception {
        node.createTopic("acks0", 1);
        TopicPartition tp = new TopicPartition("acks0", 0);
        // 0 on Ratis; past the leader change entry on multiraft, whose control batch takes an offset
        long start = Clients.endOffsets(node.bootstrap(), "acks0", 1).get(tp);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "0");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        try (KafkaProducer<byte[], byte[]> producer =
                     new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 5000; i++) {
                RecordMetadata md = producer.send(new ProducerRecord<>("acks0", key(i), value(i))).get();
                assertThat(md.offset()).as("acks=0 learns no offset").isEqualTo(-1);
            }
        }
        // nothing tells an acks=0 producer when its last records landed: wait for them before reading
        assertThat(Clients.awaitEndOffset(node.bootstrap(), tp, start + 5000, Duration.ofSeconds(60)))
                .isEqualTo(start + 5000);
        var read = Clients.readAll(node.bootstrap(), "acks0", 1, Duration.ofSeconds(60));
        assertThat(read.get(tp)).hasSize(5000);
    }

    private void roundTrip(String topic, String codec, int count) throws Exception {
        node.createTopic(topic, PARTITIONS);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrap());
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        Map<TopicPartition, List<Long>> acked = new HashMap<>();
        List<Future<RecordMetadata>> sends = new ArrayList<>();
        long baseTimestamp = System.currentTimeMillis() - 1_000_000;
        try (KafkaProducer<byte[], byte[]> producer =
                     new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < count; i++) {
                RecordHeaders headers = new RecordHeaders();
                headers.add("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                sends.add(producer.send(new ProducerRecord<>(topic, null, baseTimestamp + i, key(i), value(i),
                        headers)));
            }
            producer.flush();
            for (Future<RecordMetadata> f : sends) {
                RecordMetadata md;
                try {
                    md = f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    try {
                        System.out.println(node.diagnose(topic, PARTITIONS)); // a stalled partition's state
                    } catch (RuntimeException diagnosing) {
                        e.addSuppressed(diagnosing);
                    }
                    throw e;
                }
                acked.computeIfAbsent(new TopicPartition(md.topic(), md.partition()), k -> new ArrayList<>())
                        .add(md.offset());
            }
        }
        assertThat(acked.values().stream().mapToInt(List::size).sum()).isEqualTo(count);
        assertThat(acked).hasSize(PARTITIONS);

        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrap());
        int seen = 0;
        Map<Integer, Integer> lastSeqByPartition = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < PARTITIONS; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (seen < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    int seq = Integer.parseInt(new String(r.headers().lastHeader("seq").value(),
                            StandardCharsets.UTF_8));
                    assertThat(r.key()).isEqualTo(key(seq));
                    assertThat(r.value()).isEqualTo(value(seq));
                    assertThat(r.timestamp()).isEqualTo(baseTimestamp + seq);
                    Integer last = lastSeqByPartition.put(r.partition(), seq);
                    assertThat(last == null || last < seq).as("per-partition order").isTrue();
                    seen++;
                }
            }
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
            for (TopicPartition tp : tps) {
                assertThat(ends.get(tp)).as("one past the last acknowledged record")
                        .isEqualTo(java.util.Collections.max(acked.get(tp)) + 1);
            }
        }
        assertThat(seen).isEqualTo(count);
    }

    static byte[] key(int i) {
        return ("key-" + (i % 997)).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] value(int i) {
        return ("value-" + i + "-" + "x".repeat(i % 50)).getBytes(StandardCharsets.UTF_8);
    }
}
