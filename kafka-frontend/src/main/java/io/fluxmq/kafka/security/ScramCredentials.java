package io.fluxmq.kafka.security;

import org.apache.kafka.common.security.scram.ScramCredential;

/**
 * Where SCRAM authentication finds the credentials kept in cluster metadata (Kafka's {@code CredentialCache}); the
 * node adapts its metadata to it. Asked once per authentication, so a credential added, replaced or deleted there is
 * used by the next connection that authenticates. Implementations are thread-safe and do not block.
 */
@FunctionalInterface
public interface ScramCredentials {
    /** No credentials: only the node setting's SCRAM users can authenticate. */
    ScramCredentials NONE = (mechanism, user) -> null;

    /** The credential of {@code user} for {@code mechanism} ("SCRAM-SHA-512"), or null when there is none. */
    ScramCredential credential(String mechanism, String user);
}
