package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Committed offsets live in {@code __consumer_offsets}: a group consumer commits part of a topic, the node restarts
 * (every node of this one-node cluster), and a consumer of the same group resumes exactly after the last commit.
 */
class GroupOffsetsIT {
    private static final int PARTITIONS = 3;
    private static final int RECORDS = 300;

    @TempDir
    Path dataDir;

    @ParameterizedTest(name = "group.protocol={0}")
    @ValueSource(strings = {"classic", "consumer"})
    @Timeout(180)
    void committedOffsetsSurviveARestart(String protocol) throws Exception {
        try (TestNode node = TestNode.start(dataDir, Map.of("group.initial.rebalance.delay.ms", "0",
                "group.consumer.heartbeat.interval.ms", "500"))) {
            String topic = "resume-" + protocol;
            node.createTopic(topic, PARTITIONS);
            produce(node.bootstrap(), topic, 0, RECORDS);

            Map<TopicPartition, Long> committed = new HashMap<>();
            try (KafkaConsumer<String, String> consumer = consumer(node.bootstrap(), "g-" + protocol, protocol)) {
                consumer.subscribe(List.of(topic));
                int seen = 0;
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (seen < RECORDS / 2 && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        seen++;
                        committed.merge(new TopicPartition(r.topic(), r.partition()), r.offset() + 1, Math::max);
                    }
                }
                assertThat(seen).isGreaterThanOrEqualTo(RECORDS / 2);
                Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
                committed.forEach((tp, o) -> commit.put(tp, new OffsetAndMetadata(o, "m")));
                consumer.commitSync(commit);
                assertThat(consumer.committed(committed.keySet())).isEqualTo(commit);
            }

            node.stop();
            node.restart();

            try (KafkaConsumer<String, String> consumer = consumer(node.bootstrap(), "g-" + protocol, protocol)) {
                consumer.subscribe(List.of(topic));
                Map<TopicPartition, Long> first = new HashMap<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (first.size() < committed.size() && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        first.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
                    }
                }
                for (Map.Entry<TopicPartition, Long> e : committed.entrySet()) {
                    if (e.getValue() < RECORDS / PARTITIONS) {
                        assertThat(first).as("first offset after restart of %s", e.getKey())
                                .containsEntry(e.getKey(), e.getValue());
                    }
                }
                assertThat(consumer.committed(Set.copyOf(committed.keySet())).get(committed.keySet().iterator()
                        .next()).metadata()).isEqualTo("m");
            }
        }
    }

    static void produce(String bootstrap, String topic, int from, int count) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, Map.of())) {
            for (int i = from; i < from + count; i++) {
                producer.send(new ProducerRecord<>(topic, i % PARTITIONS, "k" + i, "v" + i));
            }
            producer.flush();
        }
    }

    static KafkaConsumer<String, String> consumer(String bootstrap, String group, String protocol) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "20");
        return new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    }
}
