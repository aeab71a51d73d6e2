package io.fluxmq.kafka.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.junit.jupiter.api.Test;

/**
 * SCRAM users from cluster metadata ({@link ScramCredentials}) and from the node setting: metadata wins for a user it
 * has, the node setting serves the others, a change in metadata is used by the next authentication, and a SCRAM
 * mechanism needs no node-setting users at all.
 */
class SaslMechanismsScramTest {
    private static final String SHA512 = "SCRAM-SHA-512";
    private final Map<String, ScramCredential> metadata = new HashMap<>(); // user → SHA-512 credential
    private final ScramCredentials lookup = (mechanism, user) -> mechanism.equals(SHA512) ? metadata.get(user) : null;

    private static SaslMechanisms mechanisms(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(settings);
        all.put("sasl.enabled.mechanisms", "SCRAM-SHA-256,SCRAM-SHA-512");
        return ListenerSecurity.of("SASL_PLAINTEXT", SecurityProtocol.SASL_PLAINTEXT, all).sasl();
    }

    private static ScramCredential credential(String password, int iterations) throws Exception {
        return new ScramFormatter(ScramMechanism.SCRAM_SHA_512).generateCredential(password, iterations);
    }

    private boolean login(SaslMechanisms mechanisms, String mechanism, String user, String password) throws Exception {
        return ScramExchange.authenticates(mechanisms.newServer(mechanism, lookup), mechanism, user, password);
    }

    @Test
    void metadataWinsOverTheNodeSettingAndChangesApplyToTheNextLogin() throws Exception {
        SaslMechanisms m = mechanisms(Map.of("listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required user_bob=\"bob-node\";"));
        assertThat(login(m, SHA512, "bob", "bob-node")).as("node-setting user").isTrue();
        assertThat(login(m, SHA512, "alice", "alice-meta")).as("nobody has alice yet").isFalse();

        metadata.put("alice", credential("alice-meta", 8192));
        metadata.put("bob", credential("bob-meta", 4096));
        assertThat(login(m, SHA512, "alice", "alice-meta")).isTrue();
        assertThat(login(m, SHA512, "alice", "wrong")).isFalse();
        assertThat(login(m, SHA512, "bob", "bob-meta")).as("metadata wins").isTrue();
        assertThat(login(m, SHA512, "bob", "bob-node")).as("the node setting's password no longer").isFalse();

        metadata.remove("alice");
        metadata.remove("bob");
        assertThat(login(m, SHA512, "alice", "alice-meta")).as("deleted").isFalse();
        assertThat(login(m, SHA512, "bob", "bob-node")).as("the node setting again").isTrue();
    }

    @Test
    void aScramMechanismNeedsNoNodeSettingUsers() throws Exception {
        SaslMechanisms m = mechanisms(Map.of("listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"));
        metadata.put("alice", credential("alice-meta", 4096));
        assertThat(login(m, SHA512, "alice", "alice-meta")).isTrue();
        assertThat(login(m, "SCRAM-SHA-256", "alice", "alice-meta"))
                .as("a credential is per mechanism").isFalse();
    }
}
