package io.fluxmq.kafka.security;

import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.internals.BrokerSecurityConfigs;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;

/**
 * The TLS and SASL settings of a Kafka listener, with Kafka's names, types, defaults and validation (Kafka's own
 * {@link ConfigDef}: a bad value fails with "Invalid value ... for configuration ..."). Every key may also be given
 * for one listener as {@code listener.name.<listener>.<key>} (listener name in lower case), which wins over the
 * unprefixed key, as in Kafka. SASL users come from {@code listener.name.<listener>.<mechanism>.sasl.jaas.config}
 * ({@link #jaasKey}).
 */
public final class SecurityConfigs {
    public static final String SSL_CLIENT_AUTH = BrokerSecurityConfigs.SSL_CLIENT_AUTH_CONFIG;
    public static final String PRINCIPAL_MAPPING_RULES = BrokerSecurityConfigs.SSL_PRINCIPAL_MAPPING_RULES_CONFIG;
    public static final String SASL_ENABLED_MECHANISMS = BrokerSecurityConfigs.SASL_ENABLED_MECHANISMS_CONFIG;
    /**
     * Kafka's {@code connections.max.reauth.ms} (KIP-368): a SASL session's lifetime, 0 (the default) for none. Also
     * per listener and mechanism, {@code listener.name.<listener>.<mechanism>.connections.max.reauth.ms} (see
     * {@link #reauthKey}), which wins over the listener's and the unprefixed value, as in Kafka.
     */
    public static final String CONNECTIONS_MAX_REAUTH_MS = BrokerSecurityConfigs.CONNECTIONS_MAX_REAUTH_MS_CONFIG;
    /** FluxMQ's bound on a TLS handshake (Kafka has none; its idle timer closes a stalled one eventually). */
    public static final String HANDSHAKE_TIMEOUT_MS = "ssl.handshake.timeout.ms";
    public static final long HANDSHAKE_TIMEOUT_MS_DEFAULT = 10_000;
    /** The SASL mechanisms FluxMQ serves. */
    public static final List<String> MECHANISMS = List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");
    public static final String SASL_ENABLED_MECHANISMS_DEFAULT = "PLAIN";
    /** Prefix of per-listener overrides: {@code listener.name.}. */
    public static final String LISTENER_PREFIX = "listener.name.";

    /** Every listener security key, its type, default and validator. */
    public static final ConfigDef DEF = def();

    private SecurityConfigs() {
    }

    private static ConfigDef def() {
        ConfigDef def = new ConfigDef();
        SslConfigs.addClientSslSupport(def);
        def.define(SSL_CLIENT_AUTH, ConfigDef.Type.STRING, BrokerSecurityConfigs.SSL_CLIENT_AUTH_DEFAULT,
                ConfigDef.ValidString.in("none", "requested", "required"), ConfigDef.Importance.MEDIUM,
                BrokerSecurityConfigs.SSL_CLIENT_AUTH_DOC);
        def.define(PRINCIPAL_MAPPING_RULES, ConfigDef.Type.STRING,
                BrokerSecurityConfigs.DEFAULT_SSL_PRINCIPAL_MAPPING_RULES, SecurityConfigs::validRules,
                ConfigDef.Importance.LOW, BrokerSecurityConfigs.SSL_PRINCIPAL_MAPPING_RULES_DOC);
        def.define(SASL_ENABLED_MECHANISMS, ConfigDef.Type.LIST, SASL_ENABLED_MECHANISMS_DEFAULT,
                ConfigDef.ValidList.in(MECHANISMS.toArray(String[]::new)), ConfigDef.Importance.MEDIUM,
                "SASL mechanisms a SASL_PLAINTEXT or SASL_SSL listener offers: " + MECHANISMS);
        def.define(CONNECTIONS_MAX_REAUTH_MS, ConfigDef.Type.LONG,
                BrokerSecurityConfigs.DEFAULT_CONNECTIONS_MAX_REAUTH_MS, ConfigDef.Range.atLeast(0),
                ConfigDef.Importance.MEDIUM, BrokerSecurityConfigs.CONNECTIONS_MAX_REAUTH_MS_DOC);
        def.define(HANDSHAKE_TIMEOUT_MS, ConfigDef.Type.LONG, HANDSHAKE_TIMEOUT_MS_DEFAULT,
                ConfigDef.Range.atLeast(1), ConfigDef.Importance.LOW,
                "A TLS handshake not done within this many milliseconds closes the connection.");
        return def;
    }

    private static void validRules(String name, Object value) {
        try {
            SslPrincipalMapper.fromRules((String) value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(name, value, e.getMessage());
        }
    }

    /** {@code listener.name.<listener lower case>.} */
    public static String listenerPrefix(String listener) {
        return new ListenerName(listener.toUpperCase(Locale.ROOT)).configPrefix();
    }

    /** {@code listener.name.<listener>.<mechanism>.sasl.jaas.config}, both in lower case, as in Kafka. */
    public static String jaasKey(String listener, String mechanism) {
        return new ListenerName(listener.toUpperCase(Locale.ROOT)).saslMechanismConfigPrefix(mechanism)
                + "sasl.jaas.config";
    }

    /** {@code listener.name.<listener>.<mechanism>.connections.max.reauth.ms}, both in lower case, as in Kafka. */
    public static String reauthKey(String listener, String mechanism) {
        return new ListenerName(listener.toUpperCase(Locale.ROOT)).saslMechanismConfigPrefix(mechanism)
                + CONNECTIONS_MAX_REAUTH_MS;
    }

    /**
     * Whether {@code key} is a listener security setting: a key of {@link #DEF}, or one prefixed with
     * {@code listener.name.<name>.} (a {@link #DEF} key, {@code <mechanism>.sasl.jaas.config} or
     * {@code <mechanism>.connections.max.reauth.ms}).
     */
    public static boolean isSecurityKey(String key) {
        if (DEF.names().contains(key)) {
            return true;
        }
        if (!key.startsWith(LISTENER_PREFIX)) {
            return false;
        }
        String rest = key.substring(LISTENER_PREFIX.length());
        int dot = rest.indexOf('.');
        if (dot <= 0) {
            return false;
        }
        String tail = rest.substring(dot + 1);
        if (DEF.names().contains(tail)) {
            return true;
        }
        return MECHANISMS.stream().anyMatch(m -> tail.equals(m.toLowerCase(Locale.ROOT) + ".sasl.jaas.config")
                || tail.equals(m.toLowerCase(Locale.ROOT) + "." + CONNECTIONS_MAX_REAUTH_MS));
    }
}
