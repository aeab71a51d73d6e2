package io.fluxmq.kafka.server;

import java.net.InetSocketAddress;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * What a handler knows about the request besides its body: header, the listener it arrived on, the client and who
 * it is.
 *
 * @param listener name of the listener the client connected to; Metadata answers with that listener's addresses
 * @param principal who sent the request, as authorization sees it; {@link KafkaPrincipal#ANONYMOUS} on PLAINTEXT
 *                  connections
 */
public record RequestContext(RequestHeader header, String listener, InetSocketAddress clientAddress,
                             KafkaPrincipal principal) {
    public short version() {
        return header.apiVersion();
    }
}
