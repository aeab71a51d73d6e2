package io.fluxmq.kafka.server;

import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Pipeline event: the connection's client is now {@code principal} (from its TLS certificate or a completed SASL
 * authentication). {@link ConnectionHandler} puts it in the {@link RequestContext} of every later request.
 */
record Authenticated(KafkaPrincipal principal) {
}
