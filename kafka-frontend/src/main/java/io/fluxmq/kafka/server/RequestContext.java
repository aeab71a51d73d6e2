package io.fluxmq.kafka.server;

import java.net.InetSocketAddress;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * What a handler knows about the request besides its body: header, the listener it arrived on and the client.
 *
 * @param listener name of the listener the client connected to; Metadata answers with that listener's addresses
 */
public record RequestContext(RequestHeader header, String listener, InetSocketAddress clientAddress) {
    public short version() {
        return header.apiVersion();
    }
}
