package io.fluxmq.kafka.security;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.Principal;
import java.util.Map;
import java.security.GeneralSecurityException;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.ssl.DefaultSslEngineFactory;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS engines of one listener (server side) or of the node-to-node channels (both sides), made by Kafka's own {@link DefaultSslEngineFactory} (JDK provider; JKS,
 * PKCS12 and PEM key stores, enabled protocols and cipher suites, {@code ssl.client.auth}) from the listener's parsed
 * settings. Before each new engine it asks the factory whether a key or trust store file changed (Kafka's check: the
 * files' modification times) and, if so, builds a new factory: certificates are reloaded for new connections without
 * a restart, while open connections keep theirs. A store that fails to load (say, half written) keeps the old one and
 * logs a warning. Thread-safe: any event loop may ask for an engine.
 */
public final class SslEngines {
    private static final Logger LOGGER = LoggerFactory.getLogger(SslEngines.class);

    private final String listener;
    private final Map<String, Object> configs;
    private final SslPrincipalMapper principalMapper;
    private volatile DefaultSslEngineFactory factory;
    private volatile Managers managers;
    private String lastReloadFailure;

    private SslEngines(String listener, Map<String, Object> configs, DefaultSslEngineFactory factory) {
        this.listener = listener;
        this.configs = configs;
        this.factory = factory;
        this.principalMapper = SslPrincipalMapper.fromRules((String) configs.get(SecurityConfigs.PRINCIPAL_MAPPING_RULES));
    }

    /**
     * Loads the stores of {@code listener} (a listener's name, or "cluster" for node-to-node TLS) now; a store that
     * cannot be loaded is a {@link ConfigException}.
     */
    public static SslEngines create(String listener, Map<String, ?> parsed) {
        Map<String, Object> configs = Map.copyOf(withoutNulls(parsed));
        if (!configs.containsKey(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG)
                && !configs.containsKey(SslConfigs.SSL_KEYSTORE_KEY_CONFIG)) {
            throw new ConfigException("listener " + listener + " speaks TLS but has no key: set "
                    + SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG + " (or " + SslConfigs.SSL_KEYSTORE_KEY_CONFIG + " and "
                    + SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG + ")");
        }
        try {
            return new SslEngines(listener, configs, build(configs));
        } catch (KafkaException | IllegalArgumentException e) {
            throw new ConfigException("listener " + listener + ": cannot set up TLS: " + message(e));
        }
    }

    private static Map<String, Object> withoutNulls(Map<String, ?> parsed) {
        Map<String, Object> out = new java.util.HashMap<>();
        parsed.forEach((k, v) -> {
            if (v != null) {
                out.put(k, v);
            }
        });
        return out;
    }

    private static String message(Throwable e) {
        StringBuilder b = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            b.append(": ").append(c.getMessage());
        }
        return b.toString();
    }

    private static DefaultSslEngineFactory build(Map<String, Object> configs) {
        DefaultSslEngineFactory f = new DefaultSslEngineFactory();
        f.configure(configs);
        return f;
    }

    /** A server engine for a connection from {@code peer}, with the stores as they are on disk now. */
    public SSLEngine newEngine(InetSocketAddress peer) {
        reloadIfChanged();
        return factory.createServerSslEngine(peer.getHostString(), peer.getPort());
    }

    /**
     * A client engine for a connection this process dials to {@code host:port}, presenting the key store's certificate
     * and verifying the peer's against the trust store, and its name against {@code host} when
     * {@code ssl.endpoint.identification.algorithm} is {@code https} (Kafka's default).
     */
    public SSLEngine newClientEngine(String host, int port) {
        reloadIfChanged();
        return factory.createClientSslEngine(host, port,
                (String) configs.get(SslConfigs.SSL_ENDPOINT_IDENTIFICATION_ALGORITHM_CONFIG));
    }

    /** The JDK context of the stores as they are on disk now (for servers and clients that take an SSLContext). */
    public SSLContext sslContext() {
        reloadIfChanged();
        return factory.sslContext();
    }

    /**
     * Key managers of the key store as loaded now (for gRPC, which takes managers, not a context); the key's password
     * is found as Kafka's factory finds it: {@code ssl.key.password}, else (not PEM) {@code ssl.keystore.password}.
     */
    public KeyManager[] keyManagers() {
        reloadIfChanged();
        Password key = (Password) configs.get(SslConfigs.SSL_KEY_PASSWORD_CONFIG);
        Password store = (Password) configs.get(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG);
        boolean pem = DefaultSslEngineFactory.PEM_TYPE.equals(configs.get(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG));
        Password password = key != null ? key : pem ? null : store;
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(factory.keystore(), password == null ? null : password.value().toCharArray());
            return kmf.getKeyManagers();
        } catch (GeneralSecurityException e) {
            throw new ConfigException(listener + ": cannot use the key store: " + message(e));
        }
    }

    /** Trust managers of the trust store as loaded now (none configured: the JDK's default CAs). */
    public TrustManager[] trustManagers() {
        reloadIfChanged();
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(factory.truststore());
            return tmf.getTrustManagers();
        } catch (GeneralSecurityException e) {
            throw new ConfigException(listener + ": cannot use the trust store: " + message(e));
        }
    }

    /**
     * A key manager that answers each call with the key store as it is on disk at that moment (reloaded as for new
     * engines), for servers and clients that take managers once and keep them: gRPC's credentials, a JDK
     * {@link SSLContext}. A handshake after a store file was replaced presents the new certificate.
     */
    public X509ExtendedKeyManager reloadingKeyManager() {
        return new ReloadingKeyManager(this);
    }

    /** As {@link #reloadingKeyManager()}, for the trust store. */
    public X509ExtendedTrustManager reloadingTrustManager() {
        return new ReloadingTrustManager(this);
    }

    /**
     * A JDK context whose managers follow the stores on disk ({@link #reloadingKeyManager()}), for a server or client
     * made once (the node's HTTPS endpoint, its snapshot client).
     */
    public SSLContext reloadingSslContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {reloadingKeyManager()}, new TrustManager[] {reloadingTrustManager()}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new ConfigException(listener + ": cannot make a TLS context: " + message(e));
        }
    }

    /** The managers of the stores as loaded now, made once per loaded factory. */
    Managers managers() {
        reloadIfChanged();
        DefaultSslEngineFactory current = factory;
        Managers m = managers;
        if (m == null || m.of() != current) {
            m = new Managers(current, only(X509ExtendedKeyManager.class, keyManagers()),
                    only(X509ExtendedTrustManager.class, trustManagers()));
            managers = m;
        }
        return m;
    }

    record Managers(DefaultSslEngineFactory of, X509ExtendedKeyManager key, X509ExtendedTrustManager trust) {}

    private <T> T only(Class<T> type, Object[] managers) {
        for (Object m : managers) {
            if (type.isInstance(m)) {
                return type.cast(m);
            }
        }
        throw new ConfigException(listener + ": the JDK made no " + type.getSimpleName());
    }

    private void reloadIfChanged() {
        DefaultSslEngineFactory current = factory;
        if (!current.shouldBeRebuilt(configs)) {
            return;
        }
        synchronized (this) {
            if (factory != current) {
                return;
            }
            try {
                factory = build(configs);
                lastReloadFailure = null;
                LOGGER.info("Listener {}: key or trust store changed, reloaded for new connections", listener);
            } catch (RuntimeException e) {
                String failure = message(e);
                if (!failure.equals(lastReloadFailure)) {
                    LOGGER.warn("Listener {}: a key or trust store changed but does not load ({}); new connections "
                            + "keep the previous one", listener, failure);
                    lastReloadFailure = failure;
                }
            }
        }
    }

    /**
     * The principal of a TLS session as Kafka's default principal builder makes it: the client certificate's
     * distinguished name (RFC 2253) mapped by {@code ssl.principal.mapping.rules}, or {@code User:ANONYMOUS} when
     * the client sent no certificate.
     */
    public KafkaPrincipal principal(SSLSession session) {
        Principal peer;
        try {
            peer = session.getPeerPrincipal();
        } catch (SSLPeerUnverifiedException e) {
            return KafkaPrincipal.ANONYMOUS;
        }
        return principal(peer);
    }

    KafkaPrincipal principal(Principal peer) {
        return principal(principalMapper, peer);
    }

    /** {@code User:<name>}, the name being {@code peer}'s DN (RFC 2253) mapped by {@code mapper}. */
    static KafkaPrincipal principal(SslPrincipalMapper mapper, Principal peer) {
        if (!(peer instanceof X500Principal x500)) {
            return new KafkaPrincipal(KafkaPrincipal.USER_TYPE, peer.getName());
        }
        try {
            return new KafkaPrincipal(KafkaPrincipal.USER_TYPE, mapper.getName(x500.getName()));
        } catch (IOException e) {
            throw new IllegalStateException("ssl.principal.mapping.rules cannot map " + x500.getName(), e);
        }
    }
}
