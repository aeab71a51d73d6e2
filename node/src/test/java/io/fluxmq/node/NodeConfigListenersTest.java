package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.server.KafkaFrontendConfig;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/** The external Kafka listener settings: kafka.external.port, .host and .nodes, as compose uses them. */
class NodeConfigListenersTest {
    private static final String NODES = "0@node0:19092:9192,1@node1:19092:9192,2@node2:19092:9192";

    private static NodeConfig config(String... keyValues) {
        Map<String, String> s = new HashMap<>(Map.of("node.id", "1", "cluster.nodes", NODES, "kafka.host", "0.0.0.0",
                "kafka.port", "19092", "kafka.advertised.host", "node1"));
        for (int i = 0; i < keyValues.length; i += 2) {
            s.put(keyValues[i], keyValues[i + 1]);
        }
        return NodeConfig.from(s);
    }

    @Test
    void withoutExternalPortThereIsOneListenerNamedExternal() {
        NodeConfig c = config();
        assertThat(c.kafkaListeners()).extracting(KafkaFrontendConfig::listener, KafkaFrontendConfig::port)
                .containsExactly(Tuple.tuple("EXTERNAL", 19092));
        assertThat(c.externalNodes()).isEmpty();
    }

    @Test
    void externalListenerBindsItsPortAndKnowsEveryNodesExternalAddress() {
        NodeConfig c = config("kafka.external.port", "9092",
                "kafka.external.nodes", "0@127.0.0.1:29092, 1@127.0.0.1:29093,2@127.0.0.1:29094");
        assertThat(c.kafkaListeners()).extracting(KafkaFrontendConfig::listener, KafkaFrontendConfig::host,
                KafkaFrontendConfig::port).containsExactly(
                Tuple.tuple("INTERNAL", "0.0.0.0", 19092),
                Tuple.tuple("EXTERNAL", "0.0.0.0", 9092));
        assertThat(c.externalNodes()).containsOnlyKeys(0, 1, 2);
        InetSocketAddress a = c.externalNodes().get(1);
        assertThat(a.getHostString()).isEqualTo("127.0.0.1");
        assertThat(a.getPort()).isEqualTo(29093);
    }

    @Test
    void externalHostDefaultsToKafkaHostAndCanDiffer() {
        NodeConfig c = config("kafka.external.port", "9092", "kafka.external.host", "10.0.0.5",
                "kafka.external.nodes", "0@h:1,1@h:2,2@h:3");
        assertThat(c.kafkaListeners().get(1).host()).isEqualTo("10.0.0.5");
    }

    @Test
    void badExternalSettingsNameTheKey() {
        assertThatThrownBy(() -> config("kafka.external.port", "9092"))
                .hasMessageContaining("kafka.external.nodes");
        assertThatThrownBy(() -> config("kafka.external.nodes", "0@h:1,1@h:2,2@h:3"))
                .hasMessageContaining("kafka.external.port is not");
        assertThatThrownBy(() -> config("kafka.external.port", "9092", "kafka.external.nodes", "0@h:1,1@h:2"))
                .hasMessageContaining("every node");
        assertThatThrownBy(() -> config("kafka.external.port", "9092", "kafka.external.nodes", "0@h:1,1@h,2@h:3"))
                .hasMessageContaining("'1@h'");
        assertThatThrownBy(() -> config("kafka.external.port", "9092", "kafka.external.nodes", "0@h:1,0@h:2,2@h:3"))
                .hasMessageContaining("repeats");
        assertThatThrownBy(() -> config("kafka.external.port", "x", "kafka.external.nodes", "0@h:1,1@h:2,2@h:3"))
                .hasMessageContaining("kafka.external.port");
    }
}
