package io.fluxmq.raft.partition;

/** A failed partition operation; {@link #error()} says why. */
public final class PartitionException extends RuntimeException {
    private final PartitionError error;

    public PartitionException(PartitionError error, String message) {
        super(message);
        this.error = error;
    }

    public PartitionException(PartitionError error, String message, Throwable cause) {
        super(message, cause);
        this.error = error;
    }

    public PartitionError error() {
        return error;
    }
}
