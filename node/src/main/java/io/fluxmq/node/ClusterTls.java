package io.fluxmq.node;

import io.fluxmq.kafka.security.SecurityConfigs;
import io.fluxmq.kafka.security.SslEngines;
import io.fluxmq.raft.tls.PeerTls;
import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Node-to-node TLS: {@code cluster.security.protocol=SSL} puts mutual TLS with the cluster's CA on the Raft transport
 * (Ratis' and the multi-Raft engine's), the Raft clients, the gRPC control service and its clients (peers and
 * {@code fluxmq-admin}) and the HTTP endpoint. The stores are Kafka's {@code ssl.*} settings prefixed with
 * {@code cluster.} ({@code cluster.ssl.keystore.location}, ...), loaded by Kafka's own {@code DefaultSslEngineFactory}
 * ({@link SslEngines}: JKS, PKCS12 or PEM). Replaced store files are used from the next handshake on, by the Raft
 * connections (a new engine each), the gRPC control service and its clients and the HTTP endpoint (key and trust
 * managers that ask for the stores loaded at each call); open connections keep theirs.
 * Every node presents its certificate and requires the peer's: {@code cluster.ssl.client.auth} is {@code required}
 * and may not be set otherwise, and a trust store is required (the JDK's public CAs would let any certificate from
 * them in). Thread-safe.
 */
public final class ClusterTls implements PeerTls {
    /** {@code PLAINTEXT} (default) or {@code SSL}, as Kafka's {@code security.inter.broker.protocol}. */
    public static final String PROTOCOL_KEY = "cluster.security.protocol";
    public static final String PROTOCOL_DEFAULT = "PLAINTEXT";
    /** What the cluster's TLS settings are prefixed with: {@code cluster.} + a Kafka {@code ssl.*} key. */
    public static final String PREFIX = "cluster.";

    private final SslEngines engines;
    private final long handshakeTimeoutMs;

    private ClusterTls(SslEngines engines, long handshakeTimeoutMs) {
        this.engines = engines;
        this.handshakeTimeoutMs = handshakeTimeoutMs;
    }

    /** Whether {@code key} is a node-to-node TLS setting: {@value #PROTOCOL_KEY} or {@code cluster.ssl.*}. */
    public static boolean isKey(String key) {
        if (key.equals(PROTOCOL_KEY)) {
            return true;
        }
        if (!key.startsWith(PREFIX + "ssl.")) {
            return false;
        }
        String ssl = key.substring(PREFIX.length());
        return SecurityConfigs.DEF.names().contains(ssl);
    }

    /**
     * The cluster's TLS from the node's settings, or null with {@code cluster.security.protocol=PLAINTEXT}. Loads the
     * stores now: a missing or unreadable store, a bad value or a missing key or trust store fails with
     * {@link NodeConfig.ConfigException} naming the key.
     */
    static ClusterTls parse(Map<String, String> settings) {
        String protocol = settings.getOrDefault(PROTOCOL_KEY, PROTOCOL_DEFAULT).trim().toUpperCase(Locale.ROOT);
        if (protocol.equals(PROTOCOL_DEFAULT)) {
            return null;
        }
        if (!protocol.equals("SSL")) {
            throw new NodeConfig.ConfigException("Invalid value " + settings.get(PROTOCOL_KEY) + " for configuration "
                    + PROTOCOL_KEY + ": String must be one of: PLAINTEXT, SSL");
        }
        Map<String, Object> effective = new HashMap<>();
        settings.forEach((k, v) -> {
            String ssl = k.substring(Math.min(k.length(), PREFIX.length()));
            // empty unsets, except for the endpoint identification, where (as in Kafka) it turns host name checks off
            boolean keepEmpty = ssl.equals(SslConfigs.SSL_ENDPOINT_IDENTIFICATION_ALGORITHM_CONFIG);
            if (isKey(k) && !k.equals(PROTOCOL_KEY) && v != null && (keepEmpty || !v.trim().isEmpty())) {
                effective.put(ssl, v.trim());
            }
        });
        Object clientAuth = effective.getOrDefault(SecurityConfigs.SSL_CLIENT_AUTH, "required");
        if (!"required".equals(clientAuth)) {
            throw new NodeConfig.ConfigException("Invalid value " + clientAuth + " for configuration " + PREFIX
                    + SecurityConfigs.SSL_CLIENT_AUTH + ": node-to-node TLS always requires the peer's certificate "
                    + "(required)");
        }
        effective.put(SecurityConfigs.SSL_CLIENT_AUTH, "required");
        requireOne(effective, SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, SslConfigs.SSL_KEYSTORE_KEY_CONFIG,
                "this node's key and certificate");
        requireOne(effective, SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG,
                "the cluster's CA (only it: every certificate it signed may join the cluster)");
        try {
            AbstractConfig config = new AbstractConfig(SecurityConfigs.DEF, effective, false);
            return new ClusterTls(SslEngines.create("cluster", config.values()),
                    config.getLong(SecurityConfigs.HANDSHAKE_TIMEOUT_MS));
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new NodeConfig.ConfigException(prefixed(e.getMessage()));
        }
    }

    private static void requireOne(Map<String, Object> effective, String file, String inline, String what) {
        if (!effective.containsKey(file) && !effective.containsKey(inline)) {
            throw new NodeConfig.ConfigException(PROTOCOL_KEY + "=SSL needs " + what + ": set " + PREFIX + file
                    + " (or " + PREFIX + inline + ")");
        }
    }

    /** Kafka's message names the unprefixed key ("... for configuration ssl.keystore.type ..."): name ours. */
    private static String prefixed(String message) {
        String m = String.valueOf(message);
        return m.replace("configuration ssl.", "configuration " + PREFIX + "ssl.")
                .replace("listener cluster:", "cluster TLS (" + PREFIX + "ssl.*):");
    }

    @Override
    public SSLEngine serverEngine(InetSocketAddress peer) {
        return engines.newEngine(peer);
    }

    @Override
    public SSLEngine clientEngine(String host, int port) {
        return engines.newClientEngine(host, port);
    }

    /**
     * The principal of a peer of a TLS session: its certificate's distinguished name mapped by
     * {@code cluster.ssl.principal.mapping.rules} (as Kafka maps a client certificate), e.g.
     * {@code User:CN=operator,OU=admins}.
     */
    KafkaPrincipal principal(SSLSession session) {
        return engines.principal(session);
    }

    @Override
    public long handshakeTimeoutMs() {
        return handshakeTimeoutMs;
    }

    /** The gRPC control service's TLS: this node's certificate, the peer's required and checked against the CA. */
    ServerCredentials serverCredentials() {
        return TlsServerCredentials.newBuilder().keyManager(engines.reloadingKeyManager())
                .trustManager(engines.reloadingTrustManager()).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                .build();
    }

    /** TLS of this node's calls to peers' control services (gRPC checks the peer's name against its address). */
    ChannelCredentials channelCredentials() {
        return TlsChannelCredentials.newBuilder().keyManager(engines.reloadingKeyManager())
                .trustManager(engines.reloadingTrustManager()).build();
    }

    /** For the HTTP endpoint (server) and the snapshot client: its managers follow the store files. */
    SSLContext sslContext() {
        return engines.reloadingSslContext();
    }
}
