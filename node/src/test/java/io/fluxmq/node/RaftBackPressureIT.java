package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Raft back-pressure as a producer sees it: a node whose Raft groups take one pending entry at a time refuses most
 * appends of three default (idempotent, acks=all, 5 in flight) Java producers writing to one partition. The refusals
 * reach them as a retriable error, they retry, and every record is acknowledged exactly once at its own offset. Runs
 * without coalescing ({@code raft.append.max.in.flight=0}), the mode in which Ratis' back-pressure is what bounds a
 * partition's entries in flight.
 */
class RaftBackPressureIT {
    private static final String TOPIC = "pressed";
    private static final int PRODUCERS = 3;
    private static final int RECORDS_EACH = 2_000;
    @TempDir
    static Path dataDir;

    @Test
    void refusedAppendsAreRetriedByDefaultProducersUntilEveryRecordIsWritten() throws Exception {
        // coalescing off: with it, batches queue in the partition (raft.append.max.in.flight <= the element limit) and
        // never reach Ratis' limit
        // Ratis' own limit, pinned to that engine (the multiraft engine bounds a group's entries in flight itself)
        try (TestNode node = TestNode.start(dataDir, Map.of("raft.write.element.limit", "1",
                "raft.append.max.in.flight", "0", NodeConfig.PARTITION_ENGINE, NodeConfig.RATIS))) {
            node.createTopic(TOPIC, 1);
            List<KafkaProducer<String, String>> producers = new ArrayList<>();
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            try {
                for (int p = 0; p < PRODUCERS; p++) {
                    Properties props = new Properties();
                    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrap());
                    producers.add(new KafkaProducer<>(props, new StringSerializer(), new StringSerializer()));
                }
                for (int i = 0; i < RECORDS_EACH; i++) {
                    for (int p = 0; p < PRODUCERS; p++) {
                        sends.add(producers.get(p).send(new ProducerRecord<>(TOPIC, "p" + p + "-" + i)));
                    }
                }
                Set<Long> offsets = new HashSet<>();
                for (Future<RecordMetadata> send : sends) {
                    offsets.add(send.get(120, TimeUnit.SECONDS).offset());
                }
                assertThat(offsets).as("every record acknowledged at its own offset").hasSize(PRODUCERS * RECORDS_EACH);
                assertThat(offsets.stream().mapToLong(Long::longValue).max().orElseThrow())
                        .isEqualTo(PRODUCERS * RECORDS_EACH - 1L);
                double retries = 0;
                for (KafkaProducer<String, String> producer : producers) {
                    retries += metric(producer, "record-retry-total");
                    assertThat(metric(producer, "record-error-total")).isZero();
                }
                assertThat(retries).as("back-pressure happened and was retried").isPositive();
            } finally {
                producers.forEach(KafkaProducer::close);
            }
        }
    }

    private static double metric(KafkaProducer<?, ?> producer, String name) {
        for (Map.Entry<MetricName, ? extends Metric> m : producer.metrics().entrySet()) {
            if (m.getKey().name().equals(name) && m.getKey().group().equals("producer-metrics")) {
                return ((Number) m.getValue().metricValue()).doubleValue();
            }
        }
        throw new AssertionError("no producer metric " + name);
    }
}
