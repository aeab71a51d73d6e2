package io.fluxmq.raft.log;

import java.nio.ByteBuffer;
import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the valid prefix of the last segment after an unclean shutdown. The segment's {@code .log} was
 * pre-sized and memory-mapped, so after a crash it holds whole batches, possibly a torn or corrupt one, and then
 * zeros (or whatever the OS wrote back). Batches are checked in order from position 0; the first one that is
 * shorter than its header, declares a length below the batch overhead or beyond the file, has magic other
 * than 2, does not continue the offsets (the first must start at the segment's base offset) or fails its CRC
 * ends the valid prefix. Everything after it up to the last non-zero byte is zeroed so that a later crash cannot
 * bring it back, and one warning reports how many bytes were dropped.
 *
 * <p>Stateless; called by the writer while opening the log, before any reader exists.
 */
final class SegmentRecovery {

    private static final Logger LOGGER = LoggerFactory.getLogger(SegmentRecovery.class);
    private static final byte[] ZEROS = new byte[64 * 1024];

    private SegmentRecovery() {
    }

    /**
     * Validates {@code data[0, length)} and zeroes what follows the valid prefix.
     *
     * @return the size of the valid prefix, a batch boundary
     */
    static int recover(ByteBuffer data, int length, long baseOffset, Path file) {
        int pos = 0;
        long expectedOffset = baseOffset;
        String problem = null;
        while (pos < length) {
            problem = BatchHeader.problem(data, pos, length, expectedOffset, true);
            if (problem != null) {
                break;
            }
            expectedOffset = BatchHeader.lastOffset(data, pos) + 1;
            pos += BatchHeader.size(data, pos);
        }
        int end = endOfNonZero(data, pos, length);
        if (end > pos) {
            zero(data, pos, end);
            LOGGER.warn("Recovered segment {}: dropped {} bytes after the last valid batch (position {}, next offset {}): {}",
                file, end - pos, pos, expectedOffset, problem);
        }
        return pos;
    }

    /** Writes zeros over {@code data[from, to)}. */
    static void zero(ByteBuffer data, int from, int to) {
        for (int pos = from; pos < to; pos += ZEROS.length) {
            data.put(pos, ZEROS, 0, Math.min(ZEROS.length, to - pos));
        }
    }

    /** One past the last non-zero byte in {@code data[from, to)}, or {@code from} if all are zero. */
    private static int endOfNonZero(ByteBuffer data, int from, int to) {
        int end = to;
        while (end - Long.BYTES >= from && data.getLong(end - Long.BYTES) == 0) {
            end -= Long.BYTES;
        }
        while (end > from && data.get(end - 1) == 0) {
            end--;
        }
        return end;
    }
}
