package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.server.KafkaFrontendConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/**
 * Kafka's listener settings ({@code listeners}, {@code advertised.listeners}, {@code listener.security.protocol.map},
 * {@code listener.name.*}) and how the older {@code kafka.*} keys map onto them.
 */
class NodeConfigSecurityTest {
    private static final String NODES = "0@node0:9092:9192,1@node1:9092:9192,2@node2:9092:9192";
    private static final String PLAIN_USERS =
            "org.apache.kafka.common.security.plain.PlainLoginModule required user_alice=\"alice-secret\";";
    private static final String SCRAM_USERS =
            "org.apache.kafka.common.security.scram.ScramLoginModule required user_alice=\"alice-secret\";";

    private static NodeConfig config(String... keyValues) {
        Map<String, String> s = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            s.put(keyValues[i], keyValues[i + 1]);
        }
        return NodeConfig.from(s);
    }

    private static NodeConfig cluster(String... keyValues) {
        Map<String, String> s = new HashMap<>(Map.of("node.id", "1", "cluster.nodes", NODES,
                "advertised.listeners", "PLAINTEXT://node1:9092"));
        for (int i = 0; i < keyValues.length; i += 2) {
            s.put(keyValues[i], keyValues[i + 1]);
        }
        return NodeConfig.from(s);
    }

    @Test
    void olderKeysMapToPlaintextListenersNamedExternalAndInternal() {
        NodeConfig c = config();
        assertThat(c.kafkaListeners()).extracting(KafkaFrontendConfig::listener, l -> l.security().protocol())
                .containsExactly(Tuple.tuple("EXTERNAL", SecurityProtocol.PLAINTEXT));
        NodeConfig two = cluster("advertised.listeners", "", "kafka.external.port", "9093", "kafka.external.nodes", "0@h:1,1@h:2,2@h:3");
        assertThat(two.kafkaListeners()).extracting(KafkaFrontendConfig::listener, l -> l.security().protocol())
                .containsExactly(Tuple.tuple("INTERNAL", SecurityProtocol.PLAINTEXT),
                        Tuple.tuple("EXTERNAL", SecurityProtocol.PLAINTEXT));
        assertThat(two.listenerNodes("EXTERNAL")).containsOnlyKeys(0, 1, 2);
        assertThat(two.listenerNodes("INTERNAL")).isEmpty();
    }

    @Test
    void theProtocolMapAppliesToTheOlderListenerNamesToo() {
        NodeConfig c = config("listener.security.protocol.map", "EXTERNAL:SASL_PLAINTEXT",
                "listener.name.external.plain.sasl.jaas.config", PLAIN_USERS);
        assertThat(c.kafkaListeners().get(0).security().protocol()).isEqualTo(SecurityProtocol.SASL_PLAINTEXT);
        assertThat(c.kafkaListeners().get(0).security().sasl().enabled()).containsExactly("PLAIN");
    }

    @Test
    void listenersWithProtocolMapAndPortZero() {
        NodeConfig c = config("listeners", "CLIENTS://127.0.0.1:0,internal://127.0.0.1:9095",
                "listener.security.protocol.map", "CLIENTS:SASL_PLAINTEXT,INTERNAL:PLAINTEXT",
                "sasl.enabled.mechanisms", "SCRAM-SHA-256,PLAIN",
                "listener.name.clients.scram-sha-256.sasl.jaas.config", SCRAM_USERS,
                "listener.name.clients.plain.sasl.jaas.config", PLAIN_USERS);
        assertThat(c.kafkaListeners()).extracting(KafkaFrontendConfig::listener, KafkaFrontendConfig::port,
                        l -> l.security().protocol())
                .containsExactly(Tuple.tuple("CLIENTS", 0, SecurityProtocol.SASL_PLAINTEXT),
                        Tuple.tuple("INTERNAL", 9095, SecurityProtocol.PLAINTEXT));
        assertThat(c.kafkaPort()).isZero();
        assertThat(c.kafkaListeners().get(0).security().sasl().enabled()).containsExactly("SCRAM-SHA-256", "PLAIN");
        assertThat(c.listenerNodes("INTERNAL").get(0).getPort()).as("single node: its own address").isEqualTo(9095);
    }

    @Test
    void advertisedListenersSetTheAddressesOfASingleNode() {
        NodeConfig c = config("listeners", "PLAINTEXT://0.0.0.0:9092,SASL_PLAINTEXT://0.0.0.0:9093",
                "advertised.listeners", "PLAINTEXT://broker.example:19092,SASL_PLAINTEXT://broker.example:19093",
                "listener.name.sasl_plaintext.plain.sasl.jaas.config", PLAIN_USERS);
        assertThat(c.advertisedHost()).isEqualTo("broker.example");
        assertThat(c.advertisedPort()).isEqualTo(19092);
        assertThat(c.listenerNodes("SASL_PLAINTEXT").get(0).getHostString()).isEqualTo("broker.example");
        assertThat(c.listenerNodes("SASL_PLAINTEXT").get(0).getPort()).isEqualTo(19093);
    }

    @Test
    void otherListenersOfAClusterNeedEveryNodesAddress() {
        NodeConfig c = cluster("listeners", "PLAINTEXT://0.0.0.0:9092,SSL_OUT://0.0.0.0:9443",
                "listener.security.protocol.map", "SSL_OUT:PLAINTEXT",
                "listener.name.ssl_out.nodes", "0@a:9443,1@b:9443,2@c:9443");
        assertThat(c.listenerNodes("SSL_OUT").get(2).getHostString()).isEqualTo("c");
        assertThatThrownBy(() -> cluster("listeners", "PLAINTEXT://0.0.0.0:9092,SSL://0.0.0.0:9443"))
                .hasMessageContaining("listener.name.ssl.nodes");
        assertThatThrownBy(() -> cluster("listeners", "PLAINTEXT://0.0.0.0:9092,SSL://0.0.0.0:9443",
                "listener.name.ssl.nodes", "0@a:1,1@b:2")).hasMessageContaining("every node");
    }

    @Test
    void badValuesFailWithMessagesNamingTheKey() {
        assertThatThrownBy(() -> config("listeners", "PLAINTEXT:/127.0.0.1:9092"))
                .hasMessageContaining("Invalid value PLAINTEXT:/127.0.0.1:9092 for configuration listeners");
        assertThatThrownBy(() -> config("listeners", "A://h:1,a://h:2")).hasMessageContaining("appears twice");
        assertThatThrownBy(() -> config("listeners", "A://h:70000")).hasMessageContaining("not a TCP port");
        assertThatThrownBy(() -> config("listeners", "CLIENTS://127.0.0.1:9092"))
                .hasMessageContaining("CLIENTS has no security protocol in listener.security.protocol.map");
        assertThatThrownBy(() -> config("listener.security.protocol.map", "EXTERNAL:TLS"))
                .hasMessageContaining("configuration listener.security.protocol.map")
                .hasMessageContaining("unknown security protocol 'TLS'");
        assertThatThrownBy(() -> config("listeners", "PLAINTEXT://127.0.0.1:9092", "kafka.port", "9093"))
                .hasMessageContaining("kafka.port 9093 differs");
        assertThatThrownBy(() -> config("listeners", "PLAINTEXT://127.0.0.1:9092", "kafka.external.port", "9093"))
                .hasMessageContaining("kafka.external.port cannot be combined with listeners");
        assertThatThrownBy(() -> config("advertised.listeners", "OTHER://h:1"))
                .hasMessageContaining("OTHER is not in listeners");
        assertThatThrownBy(() -> config("listener.name.nope.nodes", "0@h:1"))
                .hasMessageContaining("names no listener");
        assertThatThrownBy(() -> config("listener.security.protocol.map", "EXTERNAL:SSL", "ssl.client.auth", "maybe"))
                .hasMessageContaining("Invalid value maybe for configuration ssl.client.auth");
        assertThatThrownBy(() -> config("listener.security.protocol.map", "EXTERNAL:SSL"))
                .as("an SSL listener without a key store").hasMessageContaining("EXTERNAL");
        assertThatThrownBy(() -> config("listener.security.protocol.map", "EXTERNAL:SASL_PLAINTEXT"))
                .hasMessageContaining("listener.name.external.plain.sasl.jaas.config is not set");
        assertThatThrownBy(() -> config("listener.security.protocol.map", "EXTERNAL:SASL_PLAINTEXT",
                "sasl.enabled.mechanisms", "GSSAPI")).hasMessageContaining("sasl.enabled.mechanisms");
        assertThatThrownBy(() -> config("ssl.keystore.locaton", "x")).hasMessageContaining("unknown setting");
    }
}
