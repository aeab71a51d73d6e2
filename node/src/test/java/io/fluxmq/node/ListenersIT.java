package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node with an internal and an external Kafka listener (compose: peers' network and published host ports): each
 * listener's clients are told that listener's address, and clients of either produce and read.
 */
class ListenersIT {
    @Test
    void eachListenerAdvertisesItsOwnAddress(@TempDir Path dir) throws Exception {
        int external = TestNode.freePort();
        try (TestNode node = TestNode.start(dir, Map.of("kafka.external.port", Integer.toString(external),
                "kafka.external.nodes", "0@127.0.0.1:" + external))) {
            String internalBootstrap = node.bootstrap();
            String externalBootstrap = "127.0.0.1:" + external;
            assertThat(brokers(internalBootstrap)).extracting(Node::port).containsExactly(node.kafkaPort());
            assertThat(brokers(externalBootstrap)).extracting(Node::port).containsExactly(external);

            Clients.createTopic(externalBootstrap, "t", 1);
            try (KafkaProducer<String, String> producer = Clients.producer(externalBootstrap, Map.of())) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>("t", "k" + i, "v" + i)).get();
                }
            }
            for (String bootstrap : List.of(internalBootstrap, externalBootstrap)) {
                assertThat(Clients.readAll(bootstrap, "t", 1, Duration.ofSeconds(30)).get(new TopicPartition("t", 0)))
                        .as("records read through %s", bootstrap).hasSize(100);
            }
        }
    }

    private static Collection<Node> brokers(String bootstrap) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            return admin.describeCluster().nodes().get();
        }
    }
}
