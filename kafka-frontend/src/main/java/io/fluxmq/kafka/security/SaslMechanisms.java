package io.fluxmq.kafka.security;

import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.security.plain.internals.PlainSaslServer;
import org.apache.kafka.common.security.plain.internals.PlainServerCallbackHandler;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.ScramCredentialCallback;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslServer;

/**
 * The SASL mechanisms of one listener and their users, served by kafka-clients' own SASL servers
 * ({@link PlainSaslServer}, {@link ScramSaslServer}). PLAIN users come from the node setting
 * {@code listener.name.<listener>.plain.sasl.jaas.config} in Kafka's JAAS format:
 * {@code org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";} (as in Kafka).
 * SCRAM users come from cluster metadata, as in Kafka ({@link ScramCredentials}, managed with
 * AlterUserScramCredentials), and, a FluxMQ addition, from the same {@code user_<name>="<password>"} entries with
 * {@code ScramLoginModule} in {@code listener.name.<listener>.scram-sha-512.sasl.jaas.config} (optional for SCRAM),
 * whose passwords are salted at start-up ({@value #SCRAM_ITERATIONS} iterations, a random salt per user) and only the
 * salted credentials kept. A user with a credential in metadata for the mechanism authenticates with that one only:
 * metadata wins over the node setting. Immutable and thread-safe; each authentication gets its own
 * {@link SaslServer}.
 */
public final class SaslMechanisms {
    static final int SCRAM_ITERATIONS = 4096;

    private final List<String> enabled;
    private final Map<String, List<AppConfigurationEntry>> plainEntries;
    private final Map<String, Map<String, ScramCredential>> scramCredentials;
    private final Map<String, Long> maxReauthMs;

    private SaslMechanisms(List<String> enabled, Map<String, List<AppConfigurationEntry>> plainEntries,
                           Map<String, Map<String, ScramCredential>> scramCredentials, Map<String, Long> maxReauthMs) {
        this.enabled = List.copyOf(enabled);
        this.plainEntries = plainEntries;
        this.scramCredentials = scramCredentials;
        this.maxReauthMs = maxReauthMs;
    }

    /**
     * {@code listenerMaxReauthMs}: the listener's {@code connections.max.reauth.ms}, which a mechanism's
     * {@code listener.name.<listener>.<mechanism>.connections.max.reauth.ms} overrides.
     */
    static SaslMechanisms create(String listener, List<String> mechanisms, Map<String, String> settings,
                                 long listenerMaxReauthMs) {
        if (mechanisms.isEmpty()) {
            throw new ConfigException("listener " + listener + " is a SASL listener but "
                    + SecurityConfigs.SASL_ENABLED_MECHANISMS + " is empty");
        }
        Map<String, List<AppConfigurationEntry>> plain = new HashMap<>();
        Map<String, Map<String, ScramCredential>> scram = new HashMap<>();
        for (String mechanism : mechanisms) {
            if (mechanism.equals(PlainSaslServer.PLAIN_MECHANISM)) {
                plain.put(mechanism, jaasEntries(listener, mechanism, settings));
            } else {
                // SCRAM users normally live in cluster metadata; node-setting users are optional
                String jaas = settings.get(SecurityConfigs.jaasKey(listener, mechanism));
                scram.put(mechanism, jaas == null || jaas.isBlank() ? Map.of()
                        : salted(ScramMechanism.forMechanismName(mechanism), jaasEntries(listener, mechanism, settings)));
            }
        }
        Map<String, Long> reauth = new HashMap<>();
        for (String mechanism : mechanisms) {
            reauth.put(mechanism, maxReauthMs(listener, mechanism, settings, listenerMaxReauthMs));
        }
        return new SaslMechanisms(mechanisms, Map.copyOf(plain), Map.copyOf(scram), Map.copyOf(reauth));
    }

    private static long maxReauthMs(String listener, String mechanism, Map<String, String> settings,
                                    long listenerMaxReauthMs) {
        String key = SecurityConfigs.reauthKey(listener, mechanism);
        String value = settings.get(key);
        if (value == null || value.isBlank()) {
            return listenerMaxReauthMs;
        }
        try {
            long ms = Long.parseLong(value.trim());
            if (ms >= 0) {
                return ms;
            }
        } catch (NumberFormatException ignored) {
            // refused below
        }
        throw new ConfigException(key, value, "must be a number of milliseconds >= 0 (0: no re-authentication)");
    }

    private static List<AppConfigurationEntry> jaasEntries(String listener, String mechanism,
                                                           Map<String, String> settings) {
        String key = SecurityConfigs.jaasKey(listener, mechanism);
        String value = settings.get(key);
        if (value == null || value.isBlank()) {
            throw new ConfigException("listener " + listener + " enables SASL mechanism " + mechanism + " but " + key
                    + " is not set (e.g. org.apache.kafka.common.security.plain.PlainLoginModule required "
                    + "user_alice=\"alice-secret\";)");
        }
        try {
            // Kafka hands this the listener's settings with the listener prefix stripped
            String unprefixed = mechanism.toLowerCase(Locale.ROOT) + ".sasl.jaas.config";
            return JaasContext.loadServerContext(new ListenerName(listener), mechanism,
                    Map.of(unprefixed, new Password(value))).configurationEntries();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, "(hidden)", e.getMessage());
        }
    }

    /** Salts each {@code user_<name>} password of {@code entries}. */
    private static Map<String, ScramCredential> salted(ScramMechanism mechanism, List<AppConfigurationEntry> entries) {
        Map<String, ScramCredential> out = new LinkedHashMap<>();
        try {
            ScramFormatter formatter = new ScramFormatter(mechanism);
            for (AppConfigurationEntry entry : entries) {
                for (Map.Entry<String, ?> option : entry.getOptions().entrySet()) {
                    if (option.getKey().startsWith("user_")) {
                        out.put(option.getKey().substring("user_".length()),
                                formatter.generateCredential(String.valueOf(option.getValue()), SCRAM_ITERATIONS));
                    }
                }
            }
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(mechanism.hashAlgorithm() + " is missing from this JVM", e);
        }
        return Map.copyOf(out);
    }

    /**
     * The session lifetime of a connection authenticated with {@code mechanism} ({@code connections.max.reauth.ms});
     * 0: none, the session never expires and re-authentication is off.
     */
    public long maxReauthMs(String mechanism) {
        return maxReauthMs.getOrDefault(mechanism, 0L);
    }

    /** The enabled mechanisms, in the order of {@code sasl.enabled.mechanisms}. */
    public List<String> enabled() {
        return enabled;
    }

    /** A new server for one authentication with {@code mechanism}, or null if it is not enabled. */
    public SaslServer newServer(String mechanism) {
        return newServer(mechanism, ScramCredentials.NONE);
    }

    /**
     * A new server for one authentication with {@code mechanism}, or null if it is not enabled; SCRAM looks the user
     * up in {@code cluster} (cluster metadata) first, then among the node setting's users.
     */
    public SaslServer newServer(String mechanism, ScramCredentials cluster) {
        if (mechanism.equals(PlainSaslServer.PLAIN_MECHANISM) && plainEntries.containsKey(mechanism)) {
            PlainServerCallbackHandler handler = new PlainServerCallbackHandler();
            handler.configure(Map.of(), mechanism, plainEntries.get(mechanism));
            return new PlainSaslServer(handler);
        }
        Map<String, ScramCredential> users = scramCredentials.get(mechanism);
        if (users == null) {
            return null;
        }
        try {
            return new ScramSaslServer(ScramMechanism.forMechanismName(mechanism), Map.of(),
                    callbacks -> lookUp(mechanism, cluster, users, callbacks));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void lookUp(String mechanism, ScramCredentials cluster, Map<String, ScramCredential> users,
                               Callback[] callbacks) throws UnsupportedCallbackException {
        String user = null;
        for (Callback callback : callbacks) {
            if (callback instanceof NameCallback name) {
                user = name.getDefaultName();
            } else if (callback instanceof ScramCredentialCallback credential) {
                ScramCredential found = user == null ? null : cluster.credential(mechanism, user);
                credential.scramCredential(found != null || user == null ? found : users.get(user));
            } else {
                throw new UnsupportedCallbackException(callback); // delegation tokens: not supported
            }
        }
    }
}
