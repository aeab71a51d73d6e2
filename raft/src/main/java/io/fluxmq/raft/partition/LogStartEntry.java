package io.fluxmq.raft.partition;

import java.nio.ByteBuffer;

/**
 * A partition Raft log entry that moves the log start offset (retention on the leader, and DeleteRecords). It
 * carries no record batch. Every replica applies it in log order: it deletes its segments below the offset and
 * records the offset in its snapshots, so all replicas agree on the log start and a follower behind it catches up by
 * snapshot instead of asking for batches that are gone.
 *
 * <p>Layout (big endian, {@value #SIZE} bytes): {@code version:int8 (=2) | logStartOffset:int64}. The first byte tells
 * it apart from an {@link EntryHeader} (versions 1 and 3).
 */
public record LogStartEntry(long logStartOffset) {
    static final byte VERSION = 2;
    static final int SIZE = 1 + 8;

    ByteBuffer toBuffer() {
        return ByteBuffer.allocate(SIZE).put(VERSION).putLong(logStartOffset).flip();
    }

    /** Whether Raft log data holds a log start entry rather than a batch header. */
    static boolean is(ByteBuffer logData) {
        return logData.remaining() > 0 && logData.get(logData.position()) == VERSION;
    }

    static LogStartEntry parse(ByteBuffer buffer) {
        if (buffer.remaining() < SIZE || buffer.get() != VERSION) {
            throw new IllegalArgumentException("not a log start entry");
        }
        return new LogStartEntry(buffer.getLong());
    }
}
