package io.fluxmq.kafka.security;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.security.auth.SecurityProtocol;

/**
 * How one Kafka listener secures its connections: its security protocol, the TLS engines of an SSL or SASL_SSL
 * listener and the SASL mechanisms of a SASL_PLAINTEXT or SASL_SSL one. Immutable; {@link SslEngines} reloads its
 * key and trust stores by itself.
 *
 * @param handshakeTimeoutMs bound on a TLS handshake ({@value SecurityConfigs#HANDSHAKE_TIMEOUT_MS})
 */
public record ListenerSecurity(SecurityProtocol protocol, SslEngines ssl, SaslMechanisms sasl,
                               long handshakeTimeoutMs) {
    /** No TLS, no authentication: every client is {@code User:ANONYMOUS}. */
    public static final ListenerSecurity PLAINTEXT = new ListenerSecurity(SecurityProtocol.PLAINTEXT, null, null,
            SecurityConfigs.HANDSHAKE_TIMEOUT_MS_DEFAULT);

    public ListenerSecurity {
        boolean needsTls = protocol == SecurityProtocol.SSL || protocol == SecurityProtocol.SASL_SSL;
        boolean needsSasl = protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL;
        if (needsTls != (ssl != null) || needsSasl != (sasl != null)) {
            throw new IllegalArgumentException(protocol + " needs " + (needsTls ? "TLS engines " : "no TLS ")
                    + (needsSasl ? "and SASL mechanisms" : "and no SASL"));
        }
    }

    /**
     * The security of listener {@code listener} with {@code protocol}, from the node's settings (Kafka's keys, see
     * {@link SecurityConfigs}; {@code listener.name.<listener>.} overrides, where an empty value unsets). Loads the key and trust stores and
     * salts the SCRAM passwords now, so a bad setting fails at start-up with a {@link ConfigException} naming it.
     */
    public static ListenerSecurity of(String listener, SecurityProtocol protocol, Map<String, String> settings) {
        if (protocol == SecurityProtocol.PLAINTEXT) {
            return PLAINTEXT;
        }
        String prefix = SecurityConfigs.listenerPrefix(listener);
        Map<String, Object> effective = new HashMap<>();
        for (String key : SecurityConfigs.DEF.names()) {
            String value = settings.getOrDefault(prefix + key, settings.get(key));
            if (value != null && !value.isEmpty()) { // empty: unset (so a listener can drop a password)
                effective.put(key, value);
            }
        }
        AbstractConfig config = new AbstractConfig(SecurityConfigs.DEF, effective, false);
        SslEngines ssl = protocol == SecurityProtocol.SSL || protocol == SecurityProtocol.SASL_SSL
                ? SslEngines.create(listener, config.values()) : null;
        SaslMechanisms sasl = protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL
                ? SaslMechanisms.create(listener, config.getList(SecurityConfigs.SASL_ENABLED_MECHANISMS), settings,
                        config.getLong(SecurityConfigs.CONNECTIONS_MAX_REAUTH_MS))
                : null;
        return new ListenerSecurity(protocol, ssl, sasl, config.getLong(SecurityConfigs.HANDSHAKE_TIMEOUT_MS));
    }

    public boolean tls() {
        return ssl != null;
    }
}
