package io.fluxmq.raft.log;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Sparse offset index of one segment, file {@code <baseOffset>.index}. Each 8-byte big-endian entry is
 * {@code int relativeOffset, int position}: a batch whose base offset is {@code baseOffset + relativeOffset}
 * starts at byte {@code position} of the segment's {@code .log}. An entry is added when more than
 * {@code indexIntervalBytes} of log were written since the previous one, so lookups end in a short forward
 * scan of batch headers. Offsets and positions strictly increase.
 *
 * <p>Thread-safety: see {@link MappedIndex}; {@link #lookup} may run concurrently with the single writer.
 */
final class OffsetIndex extends MappedIndex {

    static final int ENTRY_SIZE = 8;

    OffsetIndex(Path file, long baseOffset) {
        super(file, baseOffset, ENTRY_SIZE);
    }

    /** Appends an entry for the batch with base offset {@code offset} at {@code position}. Writer only. */
    void append(long offset, int position) {
        int at = nextEntryPosition();
        ByteBuffer map = view().map();
        map.putInt(at, Math.toIntExact(offset - baseOffset));
        map.putInt(at + 4, position);
        publish(entries() + 1);
    }

    /** Position of the last indexed batch whose base offset is at most {@code targetOffset}, or 0. */
    int lookup(long targetOffset) {
        View v = view();
        int n = countAtMost(v.entries(), i -> offsetAt(v, i), targetOffset);
        return n == 0 ? 0 : v.map().getInt((n - 1) * ENTRY_SIZE + 4);
    }

    /** Drops the entries for batches at or after {@code offset}. Writer only. */
    void truncateTo(long offset) {
        View v = view();
        publish(countAtMost(v.entries(), i -> offsetAt(v, i), offset - 1));
    }

    /** Position of the last entry, or -1 when empty; used to sanity-check a loaded index. */
    int lastPosition() {
        View v = view();
        return v.entries() == 0 ? -1 : v.map().getInt((v.entries() - 1) * ENTRY_SIZE + 4);
    }

    private long offsetAt(View v, int entry) {
        return baseOffset + v.map().getInt(entry * ENTRY_SIZE);
    }
}
