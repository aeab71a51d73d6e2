package io.fluxmq.raft.engine;

/**
 * A frame from a peer that does not decode: truncated, a length or count larger than the frame, an unknown message
 * type or flag, trailing bytes, or values a Raft message cannot hold. The connection it came on is closed; the node
 * keeps serving the others.
 */
public final class CorruptFrameException extends RuntimeException {

    public CorruptFrameException(String message) {
        super(message);
    }

    public CorruptFrameException(String message, Throwable cause) {
        super(message, cause);
    }
}
