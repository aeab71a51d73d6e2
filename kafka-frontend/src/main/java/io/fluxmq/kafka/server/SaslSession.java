package io.fluxmq.kafka.server;

import io.fluxmq.kafka.security.SaslMechanisms;
import io.fluxmq.kafka.security.ScramCredentials;
import java.util.concurrent.TimeUnit;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * The authenticated session of a SASL connection whose mechanism has a session lifetime
 * ({@code connections.max.reauth.ms} &gt; 0, KIP-368), as Kafka's {@code KafkaChannel} and
 * {@code SaslServerAuthenticator} keep it on the broker. The session expires {@link #lifetimeMs} after each
 * (re-)authentication completed. A SaslHandshake on the authenticated connection begins a re-authentication (at most
 * one per second, else it is served as an ordinary request, which answers ILLEGAL_SASL_STATE); until it completes only
 * SaslAuthenticate is accepted. It must use the same mechanism and end with the same principal, else it fails with
 * SASL_AUTHENTICATION_FAILED and the connection closes; a refused credential (deleted, or its password changed) fails
 * the same way. Any other request after the session expired closes the connection without an answer. Time is passed
 * in (nanoTime); confined to the channel's event loop.
 */
final class SaslSession {
    private static final long MIN_REAUTH_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** What the connection does with a request. */
    sealed interface Verdict {
        /** Not the session's business: dispatch it as usual. */
        record Serve() implements Verdict {}

        /** Answer with {@code body}, then close the connection if {@code thenClose}. */
        record Answer(ApiMessage body, boolean thenClose) implements Verdict {}

        /** Close the connection without an answer. */
        record Close(String reason) implements Verdict {}
    }

    private static final Verdict SERVE = new Verdict.Serve();

    private final SaslMechanisms mechanisms;
    private final ScramCredentials credentials;
    private final String mechanism;
    private final KafkaPrincipal principal;
    private final long lifetimeMs;
    private long expiresAtNanos;
    private long lastReauthenticationNanos;
    private boolean reauthenticationStarted;
    /** Non-null while a re-authentication is under way. */
    private SaslServer server;
    /** Set when a re-authentication asked for another mechanism: its SaslAuthenticate fails with this. */
    private String badMechanism;

    SaslSession(SaslMechanisms mechanisms, ScramCredentials credentials, String mechanism, KafkaPrincipal principal,
                long lifetimeMs, long authenticatedNanos) {
        this.mechanisms = mechanisms;
        this.credentials = credentials;
        this.mechanism = mechanism;
        this.principal = principal;
        this.lifetimeMs = lifetimeMs;
        this.expiresAtNanos = authenticatedNanos + TimeUnit.MILLISECONDS.toNanos(lifetimeMs);
    }

    KafkaPrincipal principal() {
        return principal;
    }

    boolean expired(long nowNanos) {
        return nowNanos - expiresAtNanos > 0;
    }

    /** Decides what happens to {@code request}, read at {@code nowNanos}. */
    Verdict onRequest(KafkaRequest request, long nowNanos) {
        if (server != null || badMechanism != null) {
            if (request.apiKey() != ApiKeys.SASL_AUTHENTICATE) {
                return new Verdict.Close("unexpected " + request.apiKey() + " during SASL re-authentication");
            }
            return authenticate((SaslAuthenticateRequestData) request.body(), nowNanos);
        }
        if (request.apiKey() == ApiKeys.SASL_HANDSHAKE && (!reauthenticationStarted
                || nowNanos - lastReauthenticationNanos >= MIN_REAUTH_INTERVAL_NANOS)) {
            return handshake((SaslHandshakeRequestData) request.body(), request.version(), nowNanos);
        }
        if (expired(nowNanos)) {
            return new Verdict.Close("its SASL session expired (connections.max.reauth.ms=" + lifetimeMs
                    + ") without re-authentication");
        }
        return SERVE;
    }

    private Verdict handshake(SaslHandshakeRequestData request, short version, long nowNanos) {
        if (version < 1) {
            return new Verdict.Close("re-authentication needs SaslHandshake v1 or later");
        }
        reauthenticationStarted = true;
        lastReauthenticationNanos = nowNanos;
        SaslHandshakeResponseData response = new SaslHandshakeResponseData().setMechanisms(mechanisms.enabled());
        SaslServer fresh = mechanisms.newServer(request.mechanism(), credentials);
        if (fresh == null) {
            return new Verdict.Answer(response.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code()), true);
        }
        if (!request.mechanism().equals(mechanism)) {
            dispose(fresh);
            badMechanism = String.format("SASL mechanism '%s' requested by client is not supported for "
                    + "re-authentication of mechanism '%s'", request.mechanism(), mechanism);
        } else {
            server = fresh;
        }
        return new Verdict.Answer(response.setErrorCode(Errors.NONE.code()), false);
    }

    private Verdict authenticate(SaslAuthenticateRequestData request, long nowNanos) {
        if (badMechanism != null) {
            String message = badMechanism;
            badMechanism = null;
            return refused(message);
        }
        byte[] challenge;
        KafkaPrincipal who;
        try {
            challenge = server.evaluateResponse(request.authBytes());
            if (!server.isComplete()) {
                return new Verdict.Answer(new SaslAuthenticateResponseData().setErrorCode(Errors.NONE.code())
                        .setAuthBytes(challenge == null ? new byte[0] : challenge), false);
            }
            who = new KafkaPrincipal(KafkaPrincipal.USER_TYPE, server.getAuthorizationID());
        } catch (SaslAuthenticationException e) {
            return refused(e.getMessage());
        } catch (SaslException e) {
            return refused("Authentication failed during re-authentication due to invalid credentials with SASL "
                    + "mechanism " + mechanism);
        }
        dispose(server);
        server = null;
        if (!who.equals(principal)) {
            return refused(String.format("Cannot change principals during re-authentication from %s.%s: %s.%s",
                    principal.getPrincipalType(), principal.getName(), who.getPrincipalType(), who.getName()));
        }
        expiresAtNanos = nowNanos + TimeUnit.MILLISECONDS.toNanos(lifetimeMs);
        return new Verdict.Answer(new SaslAuthenticateResponseData().setErrorCode(Errors.NONE.code())
                .setAuthBytes(challenge == null ? new byte[0] : challenge).setSessionLifetimeMs(lifetimeMs), false);
    }

    private Verdict refused(String message) {
        dispose(server);
        server = null;
        return new Verdict.Answer(new SaslAuthenticateResponseData()
                .setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code()).setErrorMessage(message)
                .setAuthBytes(new byte[0]), true);
    }

    /** The connection closed: releases a re-authentication under way. */
    void close() {
        dispose(server);
        server = null;
    }

    private static void dispose(SaslServer server) {
        if (server != null) {
            try {
                server.dispose();
            } catch (SaslException ignored) {
                // nothing held
            }
        }
    }
}
