package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's data dir belongs to one partition engine: {@code meta.properties} records it on first start, a node
 * started over it with the other engine refuses to start (it would not see the partitions and would serve them empty),
 * and a data dir written before the engine was recorded keeps the engine whose partitions it holds.
 */
class PartitionEngineDataDirIT {

    private static final String TOPIC = "kept";

    @TempDir
    Path dir;

    @Test
    void theOtherEngineIsRefusedAndTheRecordedOneServesTheData() throws Exception {
        try (TestNode node = TestNode.start(dir, Map.of(NodeConfig.PARTITION_ENGINE, NodeConfig.RATIS))) {
            writeOneRecord(node);
            node.stop();
            assertThat(meta().getProperty(NodeConfig.PARTITION_ENGINE)).isEqualTo(NodeConfig.RATIS);

            node.set(NodeConfig.PARTITION_ENGINE, NodeConfig.MULTIRAFT);
            assertThatThrownBy(node::restart)
                    .isInstanceOf(NodeConfig.ConfigException.class)
                    .hasMessageContaining("holds partitions of the ratis engine, not partition.engine=multiraft");

            node.set(NodeConfig.PARTITION_ENGINE, NodeConfig.RATIS);
            node.restart();
            assertThat(values(node)).containsExactly("v");
        }
    }

    @Test
    void aDataDirWrittenBeforeTheEngineWasRecordedKeepsTheEngineOfItsPartitions() throws Exception {
        try (TestNode node = TestNode.start(dir, Map.of(NodeConfig.PARTITION_ENGINE, NodeConfig.MULTIRAFT))) {
            writeOneRecord(node);
            node.stop();
            Properties old = meta();
            old.remove(NodeConfig.PARTITION_ENGINE);
            try (Writer out = Files.newBufferedWriter(dir.resolve("meta.properties"), StandardCharsets.UTF_8)) {
                old.store(out, "as written before 2026-12-02");
            }

            node.set(NodeConfig.PARTITION_ENGINE, NodeConfig.RATIS);
            assertThatThrownBy(node::restart)
                    .isInstanceOf(NodeConfig.ConfigException.class)
                    .hasMessageContaining("holds partitions of the multiraft engine, not partition.engine=ratis");
            assertThat(meta().getProperty(NodeConfig.PARTITION_ENGINE)).isNull();

            node.set(NodeConfig.PARTITION_ENGINE, NodeConfig.MULTIRAFT);
            node.restart();
            assertThat(meta().getProperty(NodeConfig.PARTITION_ENGINE)).isEqualTo(NodeConfig.MULTIRAFT);
            assertThat(values(node)).containsExactly("v");
        }
    }

    private static void writeOneRecord(TestNode node) throws Exception {
        node.createTopic(TOPIC, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
            producer.send(new ProducerRecord<>(TOPIC, "k", "v")).get();
        }
    }

    private static List<String> values(TestNode node) {
        Map<TopicPartition, List<ConsumerRecord<String, String>>> read =
                Clients.readAll(node.bootstrap(), TOPIC, 1, Duration.ofSeconds(60));
        return read.get(new TopicPartition(TOPIC, 0)).stream().map(ConsumerRecord::value).toList();
    }

    private Properties meta() throws Exception {
        Properties meta = new Properties();
        try (Reader in = Files.newBufferedReader(dir.resolve("meta.properties"), StandardCharsets.UTF_8)) {
            meta.load(in);
        }
        return meta;
    }
}
