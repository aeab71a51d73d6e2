package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.broker.ScramCredentialChange;
import io.fluxmq.kafka.security.SaslMechanisms;
import io.fluxmq.kafka.security.ScramExchange;
import io.fluxmq.kafka.security.ListenerSecurity;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialDeletion;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialUpsertion;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.junit.jupiter.api.Test;

/** The request checks of AlterUserScramCredentials, with Kafka's codes and messages, and the derived credential. */
class ScramCredentialValidationTest {
    private static final byte[] SALT = "some-salt".getBytes(StandardCharsets.UTF_8);

    private static ScramCredentialUpsertion upsert(String user, ScramMechanism mechanism, int iterations)
            throws Exception {
        byte[] salted = mechanism == ScramMechanism.UNKNOWN ? new byte[] {1}
                : new ScramFormatter(org.apache.kafka.common.security.scram.internals.ScramMechanism.forMechanismName(
                        mechanism.mechanismName())).saltedPassword(user + "-secret", SALT, iterations);
        return new ScramCredentialUpsertion().setName(user).setMechanism(mechanism.type()).setIterations(iterations)
                .setSalt(SALT).setSaltedPassword(salted);
    }

    private static ScramCredentialDeletion delete(String user, ScramMechanism mechanism) {
        return new ScramCredentialDeletion().setName(user).setMechanism(mechanism.type());
    }

    private static ScramCredentialValidation.Plan plan(List<ScramCredentialDeletion> deletions,
                                                      List<ScramCredentialUpsertion> upsertions) {
        return ScramCredentialValidation.plan(new AlterUserScramCredentialsRequestData().setDeletions(deletions)
                .setUpsertions(upsertions));
    }

    private static void assertRefused(ScramCredentialValidation.Plan plan, String user, Errors error,
                                      String message) {
        ApiError e = plan.errors().get(user);
        assertThat(e).as("error of %s", user).isNotNull();
        assertThat(e.error()).isEqualTo(error);
        assertThat(e.message()).isEqualTo(message);
        assertThat(plan.changes()).noneMatch(c -> c.user().equals(user));
    }

    @Test
    void iterationsAreBoundedAsKafkaBoundsThem() throws Exception {
        ScramCredentialValidation.Plan p = plan(List.of(), List.of(upsert("low", ScramMechanism.SCRAM_SHA_512, 4095),
                upsert("min", ScramMechanism.SCRAM_SHA_256, 4096), upsert("max", ScramMechanism.SCRAM_SHA_512, 16384),
                upsert("high", ScramMechanism.SCRAM_SHA_256, 16385)));
        assertRefused(p, "low", Errors.UNACCEPTABLE_CREDENTIAL, "Too few iterations");
        assertRefused(p, "high", Errors.UNACCEPTABLE_CREDENTIAL, "Too many iterations");
        assertThat(p.changes()).extracting(ScramCredentialChange::user).containsExactly("min", "max");
        assertThat(p.errors()).containsOnlyKeys("low", "high");
    }

    @Test
    void unknownMechanismsAndEmptyNamesAreRefused() throws Exception {
        ScramCredentialUpsertion unknownType = upsert("u1", ScramMechanism.SCRAM_SHA_256, 4096).setMechanism((byte) 9);
        ScramCredentialValidation.Plan p = plan(List.of(delete("d1", ScramMechanism.UNKNOWN),
                delete("", ScramMechanism.SCRAM_SHA_256)), List.of(unknownType,
                upsert("", ScramMechanism.SCRAM_SHA_512, 4096)));
        assertRefused(p, "d1", Errors.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
        assertRefused(p, "u1", Errors.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
        assertRefused(p, "", Errors.UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
        assertThat(p.changes()).isEmpty();
    }

    @Test
    void aUserAlteredTwiceInOneRequestIsADuplicateWhateverTheMechanisms() throws Exception {
        ScramCredentialValidation.Plan p = plan(
                List.of(delete("twice-deleted", ScramMechanism.SCRAM_SHA_256),
                        delete("twice-deleted", ScramMechanism.SCRAM_SHA_512),
                        delete("deleted-and-upserted", ScramMechanism.SCRAM_SHA_256),
                        delete("kept", ScramMechanism.SCRAM_SHA_512)),
                List.of(upsert("deleted-and-upserted", ScramMechanism.SCRAM_SHA_512, 4096),
                        upsert("thrice", ScramMechanism.SCRAM_SHA_256, 4096),
                        upsert("thrice", ScramMechanism.SCRAM_SHA_512, 4096),
                        upsert("thrice", ScramMechanism.SCRAM_SHA_512, 8192),
                        upsert("alice", ScramMechanism.SCRAM_SHA_512, 8192)));
        String twice = "A user credential cannot be altered twice in the same request";
        assertRefused(p, "twice-deleted", Errors.DUPLICATE_RESOURCE, twice);
        assertRefused(p, "deleted-and-upserted", Errors.DUPLICATE_RESOURCE, twice);
        assertRefused(p, "thrice", Errors.DUPLICATE_RESOURCE, twice);
        assertThat(p.errors()).hasSize(3);
        assertThat(p.changes()).extracting(ScramCredentialChange::user).containsExactly("kept", "alice");
        assertThat(p.changes().get(0).deletion()).isTrue();
        assertThat(p.changes().get(1).deletion()).isFalse();
    }

    @Test
    void theDerivedCredentialAuthenticatesThePasswordAndKeepsNoSecretOfIt() throws Exception {
        ScramCredentialValidation.Plan p = plan(List.of(), List.of(upsert("alice", ScramMechanism.SCRAM_SHA_512,
                8192)));
        ScramCredentialChange change = p.changes().get(0);
        assertThat(change.mechanism()).isEqualTo(ScramMechanism.SCRAM_SHA_512);
        assertThat(change.credential().iterations()).isEqualTo(8192);
        assertThat(change.credential().salt()).isEqualTo(SALT);
        SaslMechanisms sasl = ListenerSecurity.of("SASL_PLAINTEXT", SecurityProtocol.SASL_PLAINTEXT,
                Map.of("sasl.enabled.mechanisms", "SCRAM-SHA-512")).sasl();
        assertThat(ScramExchange.authenticates(sasl.newServer("SCRAM-SHA-512", (m, u) -> change.credential()),
                "SCRAM-SHA-512", "alice", "alice-secret")).isTrue();
        assertThat(ScramExchange.authenticates(sasl.newServer("SCRAM-SHA-512", (m, u) -> change.credential()),
                "SCRAM-SHA-512", "alice", "alice-wrong")).isFalse();
    }

    @Test
    void anOversizedSaltIsRefused() throws Exception {
        ScramCredentialUpsertion u = upsert("alice", ScramMechanism.SCRAM_SHA_256, 4096).setSalt(new byte[1025]);
        assertRefused(plan(List.of(), List.of(u)), "alice", Errors.UNACCEPTABLE_CREDENTIAL,
                "Salt longer than 1024 bytes");
    }
}
