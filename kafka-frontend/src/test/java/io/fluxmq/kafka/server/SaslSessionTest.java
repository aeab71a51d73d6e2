package io.fluxmq.kafka.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.security.ListenerSecurity;
import io.fluxmq.kafka.security.SaslMechanisms;
import io.fluxmq.kafka.security.ScramCredentials;
import io.fluxmq.kafka.security.SecurityConfigs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.Test;

/**
 * Re-authentication and session expiry (KIP-368) of a SASL_PLAINTEXT connection authenticated as bob with PLAIN and
 * {@code connections.max.reauth.ms=2000}, with explicit time; and how the setting is read, as in Kafka.
 */
class SaslSessionTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final KafkaPrincipal BOB = new KafkaPrincipal(KafkaPrincipal.USER_TYPE, "bob");

    private static Map<String, String> settings(String... extra) {
        Map<String, String> settings = new HashMap<>(Map.of("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256",
                "listener.name.sasl_plaintext.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required user_bob=\"bob-secret\" "
                        + "user_alice=\"alice-secret\";"));
        for (int i = 0; i < extra.length; i += 2) {
            settings.put(extra[i], extra[i + 1]);
        }
        return settings;
    }

    private static SaslMechanisms mechanisms(String... extra) {
        return ListenerSecurity.of("SASL_PLAINTEXT", SecurityProtocol.SASL_PLAINTEXT, settings(extra)).sasl();
    }

    private final SaslMechanisms mechanisms = mechanisms("connections.max.reauth.ms", "2000");
    private final SaslSession session = new SaslSession(mechanisms, ScramCredentials.NONE, "PLAIN", BOB,
            mechanisms.maxReauthMs("PLAIN"), 0);

    private static KafkaRequest request(ApiKeys key, int version, ApiMessage body) {
        return new KafkaRequest(new RequestHeader(key, (short) version, "client", 7), body, ByteBuffer.allocate(0));
    }

    private static KafkaRequest metadata() {
        return request(ApiKeys.METADATA, 12, new MetadataRequestData());
    }

    private static KafkaRequest handshake(String mechanism) {
        return request(ApiKeys.SASL_HANDSHAKE, 1, new SaslHandshakeRequestData().setMechanism(mechanism));
    }

    private static KafkaRequest plain(String user, String password) {
        byte[] token = ("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8);
        return request(ApiKeys.SASL_AUTHENTICATE, 2, new SaslAuthenticateRequestData().setAuthBytes(token));
    }

    private static SaslSession.Verdict.Answer answer(SaslSession.Verdict verdict) {
        assertThat(verdict).isInstanceOf(SaslSession.Verdict.Answer.class);
        return (SaslSession.Verdict.Answer) verdict;
    }

    @Test
    void theLifetimeIsReadAsKafkaDoesMechanismOverListenerOverUnprefixed() {
        assertThat(mechanisms().maxReauthMs("PLAIN")).as("default: off").isZero();
        assertThat(mechanisms.maxReauthMs("PLAIN")).isEqualTo(2000);
        SaslMechanisms prefixed = mechanisms("connections.max.reauth.ms", "2000",
                "listener.name.sasl_plaintext.connections.max.reauth.ms", "3000",
                "listener.name.sasl_plaintext.scram-sha-256.connections.max.reauth.ms", "4000");
        assertThat(prefixed.maxReauthMs("PLAIN")).isEqualTo(3000);
        assertThat(prefixed.maxReauthMs("SCRAM-SHA-256")).isEqualTo(4000);
        assertThat(SecurityConfigs.isSecurityKey("listener.name.sasl_ssl.scram-sha-512.connections.max.reauth.ms"))
                .isTrue();
        assertThat(SecurityConfigs.isSecurityKey("connections.max.reauth.ms")).isTrue();
        assertThatThrownBy(() -> mechanisms("listener.name.sasl_plaintext.plain.connections.max.reauth.ms", "-1"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("plain.connections.max.reauth.ms");
        assertThatThrownBy(() -> mechanisms("connections.max.reauth.ms", "soon"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("connections.max.reauth.ms");
    }

    @Test
    void reauthenticatingAsTheSamePrincipalRenewsTheSession() {
        assertThat(session.onRequest(metadata(), SECOND)).isInstanceOf(SaslSession.Verdict.Serve.class);
        SaslSession.Verdict.Answer handshake = answer(session.onRequest(handshake("PLAIN"), SECOND));
        assertThat(((SaslHandshakeResponseData) handshake.body()).errorCode()).isZero();
        assertThat(handshake.thenClose()).isFalse();
        SaslSession.Verdict.Answer done = answer(session.onRequest(plain("bob", "bob-secret"), SECOND));
        SaslAuthenticateResponseData response = (SaslAuthenticateResponseData) done.body();
        assertThat(response.errorCode()).isZero();
        assertThat(response.sessionLifetimeMs()).isEqualTo(2000);
        assertThat(done.thenClose()).isFalse();

        assertThat(session.onRequest(metadata(), 3 * SECOND - 1)).as("renewed at 1 s: valid until 3 s")
                .isInstanceOf(SaslSession.Verdict.Serve.class);
        assertThat(session.onRequest(metadata(), 3 * SECOND + 1)).isInstanceOf(SaslSession.Verdict.Close.class);
    }

    @Test
    void anExpiredSessionClosesOnItsNextRequestButMayStillReauthenticate() {
        assertThat(session.onRequest(metadata(), 2 * SECOND)).isInstanceOf(SaslSession.Verdict.Serve.class);
        assertThat(session.onRequest(metadata(), 2 * SECOND + 1)).isInstanceOf(SaslSession.Verdict.Close.class);

        SaslSession late = new SaslSession(mechanisms, ScramCredentials.NONE, "PLAIN", BOB, 2000, 0);
        answer(late.onRequest(handshake("PLAIN"), 5 * SECOND));
        assertThat(((SaslAuthenticateResponseData) answer(late.onRequest(plain("bob", "bob-secret"), 5 * SECOND))
                .body()).errorCode()).isZero();
        assertThat(late.onRequest(metadata(), 6 * SECOND)).isInstanceOf(SaslSession.Verdict.Serve.class);
    }

    @Test
    void anotherPrincipalOrAWrongPasswordFailsAndCloses() {
        answer(session.onRequest(handshake("PLAIN"), SECOND));
        SaslSession.Verdict.Answer alice = answer(session.onRequest(plain("alice", "alice-secret"), SECOND));
        assertThat(alice.thenClose()).isTrue();
        assertThat(((SaslAuthenticateResponseData) alice.body()).errorCode())
                .isEqualTo(Errors.SASL_AUTHENTICATION_FAILED.code());
        assertThat(((SaslAuthenticateResponseData) alice.body()).errorMessage())
                .isEqualTo("Cannot change principals during re-authentication from User.bob: User.alice");

        SaslSession other = new SaslSession(mechanisms, ScramCredentials.NONE, "PLAIN", BOB, 2000, 0);
        answer(other.onRequest(handshake("PLAIN"), SECOND));
        SaslSession.Verdict.Answer wrong = answer(other.onRequest(plain("bob", "not-bobs"), SECOND));
        assertThat(wrong.thenClose()).isTrue();
        assertThat(((SaslAuthenticateResponseData) wrong.body()).errorCode())
                .isEqualTo(Errors.SASL_AUTHENTICATION_FAILED.code());
    }

    @Test
    void onlySaslAuthenticateIsAcceptedDuringReauthenticationAndTheMechanismMayNotChange() {
        answer(session.onRequest(handshake("PLAIN"), SECOND));
        assertThat(session.onRequest(metadata(), SECOND)).isInstanceOf(SaslSession.Verdict.Close.class);

        SaslSession switching = new SaslSession(mechanisms, ScramCredentials.NONE, "PLAIN", BOB, 2000, 0);
        assertThat(((SaslHandshakeResponseData) answer(switching.onRequest(handshake("SCRAM-SHA-256"), SECOND))
                .body()).errorCode()).as("as Kafka: the handshake passes, the exchange fails").isZero();
        SaslSession.Verdict.Answer refused = answer(switching.onRequest(plain("bob", "bob-secret"), SECOND));
        assertThat(refused.thenClose()).isTrue();
        assertThat(((SaslAuthenticateResponseData) refused.body()).errorMessage()).isEqualTo("SASL mechanism "
                + "'SCRAM-SHA-256' requested by client is not supported for re-authentication of mechanism 'PLAIN'");
    }

    @Test
    void aSecondReauthenticationWithinASecondIsServedAsAnOrdinaryRequest() {
        answer(session.onRequest(handshake("PLAIN"), SECOND));
        answer(session.onRequest(plain("bob", "bob-secret"), SECOND));
        assertThat(session.onRequest(handshake("PLAIN"), SECOND + SECOND / 2))
                .as("the registry answers ILLEGAL_SASL_STATE, as Kafka's KafkaApis")
                .isInstanceOf(SaslSession.Verdict.Serve.class);
        assertThat(session.onRequest(handshake("PLAIN"), 2 * SECOND)).isInstanceOf(SaslSession.Verdict.Answer.class);
    }
}
