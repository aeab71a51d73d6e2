package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.server.ConnectionLimits;
import io.fluxmq.kafka.server.KafkaFrontendConfig;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The connection bounds of the Kafka listeners, with Kafka's setting names; bad values name the key. */
class NodeConfigConnectionsTest {
    private static NodeConfig config(String... keyValues) {
        Map<String, String> s = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            s.put(keyValues[i], keyValues[i + 1]);
        }
        return NodeConfig.from(s);
    }

    @Test
    void defaultsAreKafkasExceptABoundedRequestMemory() {
        ConnectionLimits limits = config().connectionLimits();
        assertThat(limits.maxIdleMs()).isEqualTo(600_000);
        assertThat(limits.maxConnections()).isEqualTo(Integer.MAX_VALUE);
        assertThat(limits.maxConnectionsPerIp()).isEqualTo(Integer.MAX_VALUE);
        assertThat(limits.perIpOverrides()).isEmpty();
        assertThat(limits.queuedMaxRequestBytes()).isEqualTo(256L << 20);
        assertThat(config().kafkaListeners()).allSatisfy(l -> assertThat(l.maxInFlightPerConnection()).isEqualTo(1000));
    }

    @Test
    void everyBoundIsSettable() {
        NodeConfig c = config("connections.max.idle.ms", "1000", "max.connections", "50",
                "max.connections.per.ip", "5", "max.connections.per.ip.overrides", "127.0.0.1:20",
                "queued.max.request.bytes", "-1", "connection.max.in.flight.requests", "3");
        ConnectionLimits limits = c.connectionLimits();
        assertThat(limits.maxIdleMs()).isEqualTo(1000);
        assertThat(limits.maxConnections()).isEqualTo(50);
        assertThat(limits.maxConnections(InetAddress.getLoopbackAddress())).isEqualTo(20);
        assertThat(limits.queuedMaxRequestBytes()).isEqualTo(-1);
        assertThat(c.kafkaListeners()).extracting(KafkaFrontendConfig::maxInFlightPerConnection).containsExactly(3);
    }

    @Test
    void badValuesAreRefusedWithTheKeyNamed() {
        assertThatThrownBy(() -> config("max.connections", "0")).hasMessageContaining("max.connections");
        assertThatThrownBy(() -> config("connections.max.idle.ms", "x")).hasMessageContaining("connections.max.idle.ms");
        assertThatThrownBy(() -> config("max.connections.per.ip.overrides", "127.0.0.1"))
                .hasMessageContaining("max.connections.per.ip.overrides");
        assertThatThrownBy(() -> config("queued.max.request.bytes", "1048576"))
                .hasMessageContaining("queued.max.request.bytes").hasMessageContaining("socket.request.max.bytes");
        assertThatThrownBy(() -> config("queued.max.request.bytes", "0")).hasMessageContaining("-1 (unbounded)");
        assertThatThrownBy(() -> config("connection.max.in.flight.requests", "0"))
                .hasMessageContaining("connection.max.in.flight.requests");
        assertThat(config("socket.request.max.bytes", "1048576", "queued.max.request.bytes", "1048580")
                .connectionLimits().queuedMaxRequestBytes()).isEqualTo(1_048_580);
    }
}
