package io.fluxmq.kafka.broker;

import java.util.Objects;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.common.security.scram.ScramCredential;

/**
 * One validated change to a user's SCRAM credentials (AlterUserScramCredentials): the credential for
 * {@code mechanism} becomes {@code credential} (salt, stored key, server key and iterations, derived from the salted
 * password the client sent; never the password), or with {@code credential == null} is deleted.
 */
public record ScramCredentialChange(String user, ScramMechanism mechanism, ScramCredential credential) {
    public ScramCredentialChange {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(mechanism, "mechanism");
    }

    public boolean deletion() {
        return credential == null;
    }
}
