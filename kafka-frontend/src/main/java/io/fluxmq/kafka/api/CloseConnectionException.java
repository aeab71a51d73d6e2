package io.fluxmq.kafka.api;

/**
 * A handler's way to say "answer nothing and close this connection", as Kafka does for an {@code acks=0} produce that
 * failed: the client sees the disconnect, refreshes its metadata and finds the partition's leader. Not an error of
 * the node, so it carries no stack trace and is logged as one INFO line.
 */
public final class CloseConnectionException extends RuntimeException {
    public CloseConnectionException(String message) {
        super(message, null, false, false);
    }
}
