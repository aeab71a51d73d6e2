package io.fluxmq.raft.engine;

import io.netty.buffer.ByteBuf;

/**
 * Variable-length integers as in protobuf: seven bits a byte, least significant group first, the high bit set on every
 * byte but the last; signed values zigzag-encoded first so small negative numbers (-1 for "none") stay one byte.
 * Readers refuse a value that runs past the buffer or past the longest encoding with {@link CorruptFrameException}.
 */
final class Varints {

    private Varints() {
    }

    static void writeLong(ByteBuf out, long value) {
        long zigzag = (value << 1) ^ (value >> 63);
        while ((zigzag & ~0x7FL) != 0) {
            out.writeByte((int) ((zigzag & 0x7F) | 0x80));
            zigzag >>>= 7;
        }
        out.writeByte((int) zigzag);
    }

    static long readLong(ByteBuf in) {
        long zigzag = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!in.isReadable()) {
                throw new CorruptFrameException("truncated variable-length integer");
            }
            int b = in.readByte();
            if (shift == 63 && (b & 0x7E) != 0) {
                throw new CorruptFrameException("variable-length integer beyond 64 bits");
            }
            zigzag |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return (zigzag >>> 1) ^ -(zigzag & 1);
            }
        }
        throw new CorruptFrameException("variable-length integer longer than 10 bytes");
    }

    static void writeInt(ByteBuf out, int value) {
        writeLong(out, value);
    }

    static int readInt(ByteBuf in) {
        long value = readLong(in);
        if (value != (int) value) {
            throw new CorruptFrameException("integer out of range: " + value);
        }
        return (int) value;
    }

    /** A count or length: not negative and at most {@code limit} (what is left of the frame bounds every count). */
    static int readCount(ByteBuf in, int limit, String what) {
        long value = readLong(in);
        if (value < 0 || value > limit) {
            throw new CorruptFrameException(what + " " + value + " with " + limit + " bytes left in the frame");
        }
        return (int) value;
    }

    /** The most bytes {@link #writeLong} takes. */
    static final int MAX_BYTES = 10;
}
