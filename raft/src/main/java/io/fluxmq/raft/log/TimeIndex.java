package io.fluxmq.raft.log;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Sparse time index of one segment, file {@code <baseOffset>.timeindex}. Each 12-byte big-endian entry is
 * {@code long timestamp, int relativeOffset}: the largest batch max-timestamp seen so far in the segment and the
 * base offset of the first batch that carried it. Entries are written at the offset index's interval, only when
 * the timestamp grew, plus once when the segment is sealed; so both columns strictly increase, and every batch
 * up to an entry's offset has a max timestamp no greater than the entry's.
 *
 * <p>Thread-safety: see {@link MappedIndex}; {@link #lookup} may run concurrently with the single writer.
 */
final class TimeIndex extends MappedIndex {

    static final int ENTRY_SIZE = 12;

    TimeIndex(Path file, long baseOffset) {
        super(file, baseOffset, ENTRY_SIZE);
    }

    /** Appends {@code (timestamp, offset)} if the timestamp is larger than the last entry's and there is room. */
    void maybeAppend(long timestamp, long offset) {
        if (isFull() || timestamp <= lastTimestamp()) {
            return;
        }
        int at = nextEntryPosition();
        ByteBuffer map = view().map();
        map.putLong(at, timestamp);
        map.putInt(at + 8, Math.toIntExact(offset - baseOffset));
        publish(entries() + 1);
    }

    /**
     * The offset of the last entry whose timestamp is below {@code timestamp}, or the segment base offset:
     * no record with a timestamp at least {@code timestamp} lies in a batch before the returned offset.
     */
    long lookup(long timestamp) {
        if (timestamp == Long.MIN_VALUE) {
            return baseOffset;
        }
        View v = view();
        int n = countAtMost(v.entries(), i -> v.map().getLong(i * ENTRY_SIZE), timestamp - 1);
        return n == 0 ? baseOffset : offsetAt(v, n - 1);
    }

    /** Drops the entries whose offset is at or after {@code offset}. Writer only. */
    void truncateTo(long offset) {
        View v = view();
        publish(countAtMost(v.entries(), i -> offsetAt(v, i), offset - 1));
    }

    /** Timestamp of the last entry, or {@link Long#MIN_VALUE} when empty. */
    long lastTimestamp() {
        View v = view();
        return v.entries() == 0 ? Long.MIN_VALUE : v.map().getLong((v.entries() - 1) * ENTRY_SIZE);
    }

    /** Offset of the last entry, or -1 when empty. */
    long lastOffset() {
        View v = view();
        return v.entries() == 0 ? -1 : offsetAt(v, v.entries() - 1);
    }

    private long offsetAt(View v, int entry) {
        return baseOffset + v.map().getInt(entry * ENTRY_SIZE + 8);
    }
}
