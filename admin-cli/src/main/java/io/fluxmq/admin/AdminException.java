package io.fluxmq.admin;

/**
 * A command that could not do its work, with the exit code it ends with and a message that says what failed and
 * what to try. {@link FluxmqAdmin} prints the message and exits with the code.
 */
final class AdminException extends RuntimeException {
    /** The request reached the cluster and failed (or a check found a problem). */
    static final int FAILED = 1;
    /** Bad usage: an option or argument is missing or malformed. */
    static final int USAGE = 2;
    /** No node of the cluster answered. */
    static final int UNREACHABLE = 3;

    private final int exitCode;

    AdminException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    static AdminException failed(String message) {
        return new AdminException(FAILED, message);
    }

    static AdminException usage(String message) {
        return new AdminException(USAGE, message);
    }

    static AdminException unreachable(String message) {
        return new AdminException(UNREACHABLE, message);
    }

    int exitCode() {
        return exitCode;
    }
}
