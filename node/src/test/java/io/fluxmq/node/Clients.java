package io.fluxmq.node;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Real Kafka clients with default settings, as tests use them. */
final class Clients {
    private Clients() {
    }

    static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    static KafkaProducer<String, String> producer(String bootstrap, Map<String, Object> overrides) {
        Map<String, Object> p = new HashMap<>(overrides);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** Reads every committed record of the topic's partitions (assign + seek to beginning), bounded by timeout. */
    static Map<TopicPartition, List<ConsumerRecord<String, String>>> readAll(String bootstrap, String topic,
                                                                           int partitions, Duration timeout) {
        return readUntil(bootstrap, topic, partitions, null, timeout);
    }

    /** The end offsets (high watermarks) of the topic's partitions. */
    static Map<TopicPartition, Long> endOffsets(String bootstrap, String topic, int partitions) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            return consumer.endOffsets(tps, Duration.ofSeconds(60));
        }
    }

    /**
     * Reads each partition from its start until its position reaches {@code until} (the partition's end offset at the
     * start when {@code until} is null; 0, nothing, for a partition it does not name), bounded by timeout.
     */
    static Map<TopicPartition, List<ConsumerRecord<String, String>>> readUntil(
            String bootstrap, String topic, int partitions, Map<TopicPartition, Long> until, Duration timeout) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        Map<TopicPartition, List<ConsumerRecord<String, String>>> out = new HashMap<>();
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
                out.put(tps.get(i), new ArrayList<>());
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = until != null ? until : consumer.endOffsets(tps);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline
                    && tps.stream().anyMatch(tp -> consumer.position(tp) < ends.getOrDefault(tp, 0L))) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    out.get(new TopicPartition(r.topic(), r.partition())).add(r);
                }
            }
        }
        return out;
    }

    /**
     * Waits until {@code tp}'s end offset reaches {@code offset} (records sent without acknowledgement land some time
     * after the client has handed them to the socket) and returns the last end offset seen.
     */
    static long awaitEndOffset(String bootstrap, TopicPartition tp, long offset, Duration timeout)
            throws InterruptedException {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            long deadline = System.nanoTime() + timeout.toNanos();
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (end < offset && System.nanoTime() < deadline) {
                Thread.sleep(100);
                end = consumer.endOffsets(List.of(tp)).get(tp);
            }
            return end;
        }
    }
}
