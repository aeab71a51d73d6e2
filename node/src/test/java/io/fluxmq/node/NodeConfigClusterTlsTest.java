package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Node-to-node TLS settings ({@code cluster.security.protocol}, {@code cluster.ssl.*}): parsing and errors. */
class NodeConfigClusterTlsTest {
    @TempDir
    static Path dir;
    static TestCertificates certs;
    static Path nodeStore;
    static Path nodePem;

    @BeforeAll
    static void certificates() throws Exception {
        certs = TestCertificates.create(dir);
        nodeStore = certs.keystore("node", "CN=fluxmq-node");
        nodePem = certs.pem("node");
    }

    private static Map<String, String> tls(String... keyValues) {
        Map<String, String> s = new HashMap<>();
        s.put("cluster.security.protocol", "SSL");
        s.put("cluster.ssl.keystore.location", nodeStore.toString());
        s.put("cluster.ssl.keystore.password", TestCertificates.PASSWORD);
        s.put("cluster.ssl.keystore.type", "PKCS12");
        s.put("cluster.ssl.truststore.location", certs.truststore().toString());
        s.put("cluster.ssl.truststore.password", TestCertificates.PASSWORD);
        s.put("cluster.ssl.truststore.type", "PKCS12");
        for (int i = 0; i < keyValues.length; i += 2) {
            if (keyValues[i + 1] == null) {
                s.remove(keyValues[i]);
            } else {
                s.put(keyValues[i], keyValues[i + 1]);
            }
        }
        return s;
    }

    @Test
    void plaintextByDefault() {
        assertThat(NodeConfig.from(Map.of()).clusterTls()).isNull();
        assertThat(NodeConfig.from(Map.of("cluster.security.protocol", "plaintext")).clusterTls()).isNull();
    }

    @Test
    void kafkasInterBrokerSettingsAreRefusedWithWhatToSetInstead() {
        for (String value : new String[] {"PLAINTEXT", "SSL", "SASL_SSL"}) {
            assertThatThrownBy(() -> NodeConfig.from(Map.of("security.inter.broker.protocol", value)))
                    .isInstanceOf(NodeConfig.ConfigException.class)
                    .hasMessageStartingWith("setting 'security.inter.broker.protocol' is Kafka's and has no FluxMQ "
                            + "equivalent")
                    .hasMessageContaining("cluster.security.protocol=SSL").hasMessageContaining("cluster.ssl.*");
        }
        assertThatThrownBy(() -> NodeConfig.from(Map.of("inter.broker.listener.name", "INTERNAL")))
                .isInstanceOf(NodeConfig.ConfigException.class)
                .hasMessageStartingWith("setting 'inter.broker.listener.name' is Kafka's and has no FluxMQ equivalent")
                .hasMessageContaining("'listeners'").hasMessageContaining("cluster.security.protocol=SSL");
        assertThatThrownBy(() -> NodeConfig.from(Map.of("inter.broker.listener.nam", "INTERNAL")))
                .as("a misspelling stays an unknown setting").hasMessage("unknown setting 'inter.broker.listener.nam'");
    }

    @Test
    void theKeysAreKafkasSslKeysPrefixedWithCluster() {
        assertThat(NodeConfig.isKey("cluster.security.protocol")).isTrue();
        assertThat(NodeConfig.isKey("cluster.ssl.keystore.location")).isTrue();
        assertThat(NodeConfig.isKey("cluster.ssl.truststore.certificates")).isTrue();
        assertThat(NodeConfig.isKey("cluster.ssl.endpoint.identification.algorithm")).isTrue();
        assertThat(NodeConfig.isKey("cluster.ssl.handshake.timeout.ms")).isTrue();
        assertThat(NodeConfig.isKey("cluster.ssl.principal.mapping.rules")).isTrue();
        assertThat(NodeConfig.isKey("cluster.ssl.keystore.bogus")).isFalse();
        assertThat(Main.envKey("FLUXMQ_CLUSTER_SSL_KEYSTORE_LOCATION")).isEqualTo("cluster.ssl.keystore.location");
        assertThat(Main.envKey("FLUXMQ_CLUSTER_SECURITY_PROTOCOL")).isEqualTo("cluster.security.protocol");
        assertThatThrownBy(() -> NodeConfig.from(Map.of("cluster.ssl.keystore.bogus", "x")))
                .isInstanceOf(NodeConfig.ConfigException.class).hasMessageContaining("cluster.ssl.keystore.bogus");
    }

    @Test
    void pkcs12StoresGiveEnginesThatRequireThePeersCertificate() {
        NodeConfig c = NodeConfig.from(tls());
        ClusterTls t = c.clusterTls();
        assertThat(t).isNotNull();
        assertThat(t.handshakeTimeoutMs()).isEqualTo(10_000);
        SSLEngine server = t.serverEngine(new InetSocketAddress("127.0.0.1", 1234));
        assertThat(server.getUseClientMode()).isFalse();
        assertThat(server.getNeedClientAuth()).isTrue();
        SSLEngine client = t.clientEngine("127.0.0.1", 1234);
        assertThat(client.getUseClientMode()).isTrue();
        assertThat(client.getSSLParameters().getEndpointIdentificationAlgorithm()).isEqualToIgnoringCase("https");
        assertThat(t.serverCredentials()).isNotNull();
        assertThat(t.channelCredentials()).isNotNull();
        assertThat(t.sslContext()).isNotNull();
    }

    @Test
    void pemKeyStoreAndSettingsOfKafkasSslKeys() {
        ClusterTls t = NodeConfig.from(tls("cluster.ssl.keystore.type", "PEM",
                "cluster.ssl.keystore.location", nodePem.toString(), "cluster.ssl.keystore.password", null,
                "cluster.ssl.handshake.timeout.ms", "2500", "cluster.ssl.enabled.protocols", "TLSv1.3",
                "cluster.ssl.endpoint.identification.algorithm", "")).clusterTls();
        assertThat(t.handshakeTimeoutMs()).isEqualTo(2500);
        SSLEngine client = t.clientEngine("localhost", 1);
        assertThat(client.getEnabledProtocols()).containsExactly("TLSv1.3");
        assertThat(client.getSSLParameters().getEndpointIdentificationAlgorithm()).isNullOrEmpty();
        assertThat(t.serverCredentials()).isNotNull(); // the PEM key (no password) gives key managers
    }

    @Test
    void refusesWhatWouldLetStrangersIn() {
        assertThatThrownBy(() -> NodeConfig.from(tls("cluster.ssl.truststore.location", null)))
                .isInstanceOf(NodeConfig.ConfigException.class)
                .hasMessageContaining("cluster.ssl.truststore.location");
        assertThatThrownBy(() -> NodeConfig.from(tls("cluster.ssl.keystore.location", null)))
                .isInstanceOf(NodeConfig.ConfigException.class)
                .hasMessageContaining("cluster.ssl.keystore.location");
        assertThatThrownBy(() -> NodeConfig.from(tls("cluster.ssl.client.auth", "requested")))
                .isInstanceOf(NodeConfig.ConfigException.class)
                .hasMessageContaining("cluster.ssl.client.auth");
        assertThatThrownBy(() -> NodeConfig.from(tls("cluster.security.protocol", "SASL_SSL")))
                .isInstanceOf(NodeConfig.ConfigException.class)
                .hasMessageContaining("Invalid value SASL_SSL for configuration cluster.security.protocol");
    }

    @Test
    void badValuesAndUnreadableStoresNameTheKey() {
        assertThatThrownBy(() -> NodeConfig.from(tls("cluster.ssl.handshake.timeout.ms", "0")))
                .isInstanceOf(NodeConfig.ConfigException.class)
                .hasMessageContaining("configuration cluster.ssl.handshake.timeout.ms");
        assertThatThrownBy(() -> NodeConfig.from(tls("cluster.ssl.keystore.password", "wrong")))
                .isInstanceOf(NodeConfig.ConfigException.class)
                .hasMessageContaining("cluster TLS");
        assertThatThrownBy(() -> NodeConfig.from(tls("cluster.ssl.truststore.location",
                dir.resolve("missing.p12").toString())))
                .isInstanceOf(NodeConfig.ConfigException.class)
                .hasMessageContaining("missing.p12");
    }
}
