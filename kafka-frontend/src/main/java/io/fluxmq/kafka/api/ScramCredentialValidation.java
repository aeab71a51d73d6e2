package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.ScramCredentialChange;
import io.fluxmq.raft.metadata.ScramCredentialRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialDeletion;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialUpsertion;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;

/**
 * The checks of an AlterUserScramCredentials request that need no metadata, with the rules, error codes and messages
 * of Kafka's {@code ScramControlManager}: a user altered twice in one request (any mechanisms, deletions and
 * upsertions alike) gets DUPLICATE_RESOURCE and none of its alterations is applied; an empty user name
 * UNACCEPTABLE_CREDENTIAL; an unknown mechanism UNSUPPORTED_SASL_MECHANISM; iterations below the mechanism's minimum
 * (4096) or above {@value #MAX_ITERATIONS} UNACCEPTABLE_CREDENTIAL. A valid upsertion is turned into the credential
 * kept in metadata: salt, stored key and server key derived from the salted password, and iterations. Whether a
 * deleted credential exists is checked later, against the metadata. Stateless.
 */
final class ScramCredentialValidation {
    /** Kafka's bound ({@code ScramControlManager.MAX_ITERATIONS}). */
    static final int MAX_ITERATIONS = 16384;
    private static final String TWICE = "A user credential cannot be altered twice in the same request";

    private ScramCredentialValidation() {
    }

    /**
     * What a request asks once checked: the valid changes, at most one per user, and the refused users with their
     * errors, both in request order.
     */
    record Plan(List<ScramCredentialChange> changes, Map<String, ApiError> errors) {
    }

    static Plan plan(AlterUserScramCredentialsRequestData request) {
        Map<String, ScramCredentialChange> valid = new LinkedHashMap<>();
        Map<String, ApiError> errors = new LinkedHashMap<>();
        for (ScramCredentialDeletion d : request.deletions()) {
            if (errors.containsKey(d.name())) {
                continue;
            }
            if (valid.remove(d.name()) != null) {
                errors.put(d.name(), new ApiError(Errors.DUPLICATE_RESOURCE, TWICE));
                continue;
            }
            ScramMechanism mechanism = ScramMechanism.fromType(d.mechanism());
            ApiError error = userAndMechanism(d.name(), mechanism);
            if (error.isFailure()) {
                errors.put(d.name(), error);
            } else {
                valid.put(d.name(), new ScramCredentialChange(d.name(), mechanism, null));
            }
        }
        for (ScramCredentialUpsertion u : request.upsertions()) {
            if (errors.containsKey(u.name())) {
                continue;
            }
            if (valid.remove(u.name()) != null) {
                errors.put(u.name(), new ApiError(Errors.DUPLICATE_RESOURCE, TWICE));
                continue;
            }
            ScramMechanism mechanism = ScramMechanism.fromType(u.mechanism());
            ApiError error = upsertion(u, mechanism);
            if (error.isFailure()) {
                errors.put(u.name(), error);
                continue;
            }
            try {
                valid.put(u.name(), new ScramCredentialChange(u.name(), mechanism, credential(u, mechanism)));
            } catch (Exception e) { // Kafka's ApiError.fromThrowable: e.g. an empty salted password
                errors.put(u.name(), ApiError.fromThrowable(e));
            }
        }
        return new Plan(List.copyOf(valid.values()), errors);
    }

    private static ApiError userAndMechanism(String user, ScramMechanism mechanism) {
        if (user.isEmpty()) {
            return new ApiError(Errors.UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
        }
        if (mechanism == ScramMechanism.UNKNOWN) {
            return new ApiError(Errors.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
        }
        return ApiError.NONE;
    }

    private static ApiError upsertion(ScramCredentialUpsertion u, ScramMechanism mechanism) {
        ApiError error = userAndMechanism(u.name(), mechanism);
        if (error.isFailure()) {
            return error;
        }
        if (u.iterations() < internal(mechanism).minIterations()) {
            return new ApiError(Errors.UNACCEPTABLE_CREDENTIAL, "Too few iterations");
        } else if (u.iterations() > MAX_ITERATIONS) {
            return new ApiError(Errors.UNACCEPTABLE_CREDENTIAL, "Too many iterations");
        }
        if (u.salt().length > ScramCredentialRecord.MAX_FIELD_BYTES) { // FluxMQ's bound; Kafka has none
            return new ApiError(Errors.UNACCEPTABLE_CREDENTIAL, "Salt longer than "
                    + ScramCredentialRecord.MAX_FIELD_BYTES + " bytes");
        }
        return ApiError.NONE;
    }

    /** As Kafka: the stored key and server key from the salted password; the password itself never reaches us. */
    private static ScramCredential credential(ScramCredentialUpsertion u, ScramMechanism mechanism) throws Exception {
        ScramFormatter formatter = new ScramFormatter(internal(mechanism));
        byte[] storedKey = formatter.storedKey(formatter.clientKey(u.saltedPassword()));
        byte[] serverKey = formatter.serverKey(u.saltedPassword());
        return new ScramCredential(u.salt().clone(), storedKey, serverKey, u.iterations());
    }

    private static org.apache.kafka.common.security.scram.internals.ScramMechanism internal(ScramMechanism m) {
        return org.apache.kafka.common.security.scram.internals.ScramMechanism.forMechanismName(m.mechanismName());
    }
}
