package io.fluxmq.admin;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.ssl.DefaultSslEngineFactory;

/**
 * How {@code fluxmq-admin} reaches the control service: plaintext, or, for a cluster with
 * {@code cluster.security.protocol=SSL}, mutual TLS with a certificate the cluster's CA signed. Settings come from a
 * properties file in Kafka's client names ({@code --control-config}): {@code security.protocol=SSL},
 * {@code ssl.keystore.location} / {@code .password} / {@code .type} (JKS, PKCS12 or PEM), {@code ssl.key.password},
 * {@code ssl.truststore.location} / {@code .password} / {@code .type} (the cluster's CA). Stores are loaded by Kafka's
 * own {@code DefaultSslEngineFactory}.
 */
final class ControlTls {
    static final String PROTOCOL = "security.protocol";

    private ControlTls() {
    }

    /** The credentials {@code file} describes; null file: plaintext. */
    static ChannelCredentials credentials(Path file) {
        if (file == null) {
            return InsecureChannelCredentials.create();
        }
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            props.load(in);
        } catch (IOException e) {
            throw AdminException.usage("cannot read --control-config " + file + ": " + e.getMessage());
        }
        String protocol = props.getProperty(PROTOCOL, "PLAINTEXT").trim().toUpperCase(Locale.ROOT);
        if (protocol.equals("PLAINTEXT")) {
            return InsecureChannelCredentials.create();
        }
        if (!protocol.equals("SSL")) {
            throw AdminException.usage("--control-config " + file + ": " + PROTOCOL + " must be PLAINTEXT or SSL, not "
                    + props.getProperty(PROTOCOL));
        }
        ConfigDef def = new ConfigDef();
        SslConfigs.addClientSslSupport(def);
        Map<String, Object> given = new HashMap<>();
        props.stringPropertyNames().stream().filter(def.names()::contains)
                .forEach(k -> given.put(k, props.getProperty(k).trim()));
        try {
            Map<String, Object> values = new HashMap<>(new AbstractConfig(def, given, false).values());
            DefaultSslEngineFactory factory = new DefaultSslEngineFactory();
            factory.configure(values);
            TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
            if (factory.keystore() != null) {
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(factory.keystore(), keyPassword(values));
                b.keyManager(kmf.getKeyManagers());
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(factory.truststore());
            return b.trustManager(tmf.getTrustManagers()).build();
        } catch (KafkaException | GeneralSecurityException | IllegalArgumentException e) {
            throw AdminException.usage("--control-config " + file + ": " + e.getMessage()
                    + (e.getCause() == null ? "" : ": " + e.getCause().getMessage()));
        }
    }

    /** As Kafka's factory: {@code ssl.key.password}, else (not PEM) the key store's password. */
    private static char[] keyPassword(Map<String, Object> values) {
        Password key = (Password) values.get(SslConfigs.SSL_KEY_PASSWORD_CONFIG);
        Password store = (Password) values.get(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG);
        boolean pem = DefaultSslEngineFactory.PEM_TYPE.equals(values.get(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG));
        Password p = key != null ? key : pem ? null : store;
        return p == null ? null : p.value().toCharArray();
    }
}
