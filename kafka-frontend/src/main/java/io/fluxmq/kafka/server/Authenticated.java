package io.fluxmq.kafka.server;

import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Pipeline event: the connection's client is now {@code principal} (from its TLS certificate or a completed SASL
 * authentication). {@link ConnectionHandler} puts it in the {@link RequestContext} of every later request and, when
 * the SASL mechanism has a session lifetime, hands every later request to {@code session} first (re-authentication,
 * expiry); {@code session} is null otherwise.
 */
record Authenticated(KafkaPrincipal principal, SaslSession session) {
    Authenticated(KafkaPrincipal principal) {
        this(principal, null);
    }
}
