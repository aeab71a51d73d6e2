package io.fluxmq.kafka.broker;

import org.apache.kafka.common.protocol.Errors;

/** A failed administrative operation, carrying the Kafka error to return. */
public final class AdminException extends RuntimeException {
    private final Errors error;

    public AdminException(Errors error, String message) {
        super(message);
        this.error = error;
    }

    public Errors error() {
        return error;
    }
}
