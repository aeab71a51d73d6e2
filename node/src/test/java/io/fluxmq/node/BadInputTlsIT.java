package io.fluxmq.node;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;
import java.util.Properties;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SslConfigs;

/**
 * {@link BadInputChecks} on an SSL listener (certificates made by the test, {@link TestCertificates}): every bad frame
 * travels inside valid TLS records, so it reaches the same decoder behind the TLS layer, and the clients before and
 * after connect over TLS. The node's plaintext listener only creates the topic.
 */
class BadInputTlsIT extends BadInputChecks {
    private int sslPort;
    private TestCertificates certs;
    private SSLContext sslContext;

    @Override
    TestNode startNode(Path dataDir) throws Exception {
        certs = TestCertificates.create(Files.createDirectories(dataDir.resolve("certs")));
        Path nodeStore = certs.keystore("node", "CN=fluxmq-node");
        sslPort = TestNode.freePort();
        sslContext = trustingTheCa();
        return TestNode.start(dataDir.resolve("node"), kafkaPort -> Map.of(
                "listeners", "PLAINTEXT://127.0.0.1:" + kafkaPort + ",SSL://127.0.0.1:" + sslPort,
                "listener.name.ssl.nodes", "0@127.0.0.1:" + sslPort,
                "ssl.keystore.location", nodeStore.toString(),
                "ssl.keystore.password", TestCertificates.PASSWORD,
                "ssl.keystore.type", "PKCS12"));
    }

    @Override
    RawKafkaConnection open() throws Exception {
        return RawKafkaConnection.openTls(sslPort, sslContext);
    }

    @Override
    Properties clientSettings() {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + sslPort);
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
        p.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, certs.truststore().toString());
        p.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, TestCertificates.PASSWORD);
        p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
        return p;
    }

    private SSLContext trustingTheCa() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(certs.truststore())) {
            trust.load(in, TestCertificates.PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
