package io.fluxmq.kafka.security;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslClient;

/** A whole SCRAM exchange between kafka-clients' own SCRAM client and a server, in memory. */
public final class ScramExchange {
    private ScramExchange() {
    }

    /**
     * Whether {@code user} with {@code password} authenticates to {@code server} (a fresh one per call); false when
     * either side refuses (callers also assert a success, so a broken exchange cannot pass as a refusal).
     */
    public static boolean authenticates(SaslServer server, String mechanism, String user, String password)
            throws Exception {
        ScramSaslClient client = new ScramSaslClient(ScramMechanism.forMechanismName(mechanism), callbacks -> {
            for (Callback c : callbacks) {
                if (c instanceof NameCallback name) {
                    name.setName(user);
                } else if (c instanceof PasswordCallback pw) {
                    pw.setPassword(password.toCharArray());
                } else {
                    throw new UnsupportedCallbackException(c);
                }
            }
        });
        try {
            byte[] serverFirst = server.evaluateResponse(client.evaluateChallenge(new byte[0]));
            byte[] serverFinal = server.evaluateResponse(client.evaluateChallenge(serverFirst));
            client.evaluateChallenge(serverFinal);
            return server.isComplete() && client.isComplete()
                    && user.equals(server.getAuthorizationID());
        } catch (SaslException | SaslAuthenticationException e) {
            return false; // what the server throws for an unknown user ("Invalid user credentials") or a wrong password
        }
    }
}
