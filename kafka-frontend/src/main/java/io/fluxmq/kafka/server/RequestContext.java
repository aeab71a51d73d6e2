package io.fluxmq.kafka.server;

import java.net.InetSocketAddress;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * What a handler knows about the request besides its body: header, the listener it arrived on, the client and who it
 * is, the request's size, and how to throttle its connection.
 *
 * @param listener     name of the listener the client connected to; Metadata answers with that listener's addresses
 * @param principal    the authenticated client: {@link KafkaPrincipal#ANONYMOUS} on PLAINTEXT listeners (and on SSL
 *                     ones without a client certificate), {@code User:<name>} after SASL, the mapped certificate name
 *                     on SSL listeners with client certificates
 * @param requestBytes the request's size on the wire (size prefix included), what Kafka charges to
 *                     {@code producer_byte_rate}
 * @param throttle     mutes the connection (stops reading it) for a time: Kafka's channel throttling of a client over
 *                     its quota
 */
public record RequestContext(RequestHeader header, String listener, InetSocketAddress clientAddress,
                             KafkaPrincipal principal, long requestBytes, Throttle throttle) {
    /** Mutes a connection; may be called on any thread. */
    @FunctionalInterface
    public interface Throttle {
        Throttle NONE = throttleTimeMs -> { };

        /** Stops reading the connection for {@code throttleTimeMs} (extends a mute in progress, never shortens it). */
        void mute(int throttleTimeMs);
    }

    /** A context of unknown size that cannot be throttled (tests). */
    public RequestContext(RequestHeader header, String listener, InetSocketAddress clientAddress,
                          KafkaPrincipal principal) {
        this(header, listener, clientAddress, principal, 0, Throttle.NONE);
    }

    public short version() {
        return header.apiVersion();
    }

    /** Mutes the connection for {@code throttleTimeMs}; see {@link Throttle#mute}. */
    public void throttle(int throttleTimeMs) {
        throttle.mute(throttleTimeMs);
    }
}
