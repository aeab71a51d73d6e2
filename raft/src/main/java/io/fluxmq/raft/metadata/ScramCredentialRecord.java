package io.fluxmq.raft.metadata;

import java.util.Arrays;
import java.util.Objects;
import org.apache.kafka.clients.admin.ScramMechanism;

/**
 * One user's SCRAM credential for one mechanism, as Kafka's metadata keeps it ({@code UserScramCredentialRecord}):
 * the salt, the stored key and server key derived from the salted password, and the iteration count. The password
 * and the salted password are never part of it. The arrays are copied in; callers must not modify those they read.
 */
public record ScramCredentialRecord(String user, ScramMechanism mechanism, byte[] salt, byte[] storedKey,
                                    byte[] serverKey, int iterations) {
    /**
     * Bound on the salt and keys (the keys are a hash long: 32 or 64 bytes), so a corrupt entry cannot make a reader
     * allocate without limit. Kafka has no bound on the salt; FluxMQ refuses a longer one.
     */
    public static final int MAX_FIELD_BYTES = 1024;

    /** A user and mechanism: what a credential is found by, and what a deletion names. */
    public record Key(String user, ScramMechanism mechanism) {
        public Key {
            Objects.requireNonNull(user, "user");
            if (mechanism == null || mechanism == ScramMechanism.UNKNOWN) {
                throw new IllegalArgumentException("a SCRAM credential needs a known mechanism, not " + mechanism);
            }
        }
    }

    public ScramCredentialRecord {
        new Key(user, mechanism); // validates
        if (salt.length > MAX_FIELD_BYTES || storedKey.length > MAX_FIELD_BYTES || serverKey.length > MAX_FIELD_BYTES) {
            throw new IllegalArgumentException("SCRAM salt or key longer than " + MAX_FIELD_BYTES + " bytes");
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    public Key key() {
        return new Key(user, mechanism);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramCredentialRecord r && user.equals(r.user) && mechanism == r.mechanism
                && Arrays.equals(salt, r.salt) && Arrays.equals(storedKey, r.storedKey)
                && Arrays.equals(serverKey, r.serverKey) && iterations == r.iterations;
    }

    @Override
    public int hashCode() {
        return Objects.hash(user, mechanism, Arrays.hashCode(salt), Arrays.hashCode(storedKey),
                Arrays.hashCode(serverKey), iterations);
    }

    /** Without the secrets, so log lines and test failures cannot leak them. */
    @Override
    public String toString() {
        return "ScramCredentialRecord(user=" + user + ", mechanism=" + mechanism.mechanismName() + ", iterations="
                + iterations + ")";
    }
}
