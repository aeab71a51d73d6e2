package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery on open. {@link #loadSegments} lists the directory: index files whose {@code .log} is missing are
 * deleted, older segments are opened sealed (their indexes rebuilt if missing or malformed), and the last one is
 * recovered. {@link #recover} finds the valid prefix of the last segment after an unclean shutdown. The segment's {@code .log} was
 * pre-sized and memory-mapped, so after a crash it holds whole batches, possibly a torn or corrupt one, and then
 * zeros (or whatever the OS wrote back). Batches are checked in order from position 0; the first one that is
 * shorter than its header, declares a length below the batch overhead or beyond the file, has magic other
 * than 2, goes back in the offsets (the first must start at or after the segment's base offset; a compacted log has
 * gaps, as Kafka's do) or fails its CRC ends the valid prefix. Everything after it up to the last non-zero byte is zeroed so that a later crash cannot
 * bring it back, and one warning reports how many bytes were dropped.
 *
 * <p>Before that, a clean the {@link LogCleaner} left unfinished is settled ({@link #settleCleaning}): a
 * {@code .cleaned} file is deleted (the old segments are intact), a {@code .swap} file is installed (it replaces
 * every segment whose base offset lies in its offset range).
 *
 * <p>Stateless; called while opening the log, before any reader exists.
 */
final class SegmentRecovery {

    private static final Logger LOGGER = LoggerFactory.getLogger(SegmentRecovery.class);
    private static final byte[] ZEROS = new byte[64 * 1024];
    private static final Pattern SEGMENT_FILE = Pattern.compile("(\\d{20})(\\.log|\\.index|\\.timeindex)");
    private static final Pattern CLEANING_FILE = Pattern.compile("(\\d{20})(\\.cleaned|\\.swap)");

    private SegmentRecovery() {
    }

    /**
     * Opens every segment of {@code dir} in offset order, searching {@code tornWriteWindow} bytes past the active
     * segment's valid prefix ({@link TornWriteMarker}); an empty directory gets one empty segment at 0.
     */
    static List<LogSegment> loadSegments(Path dir, SegmentLogConfig config, long nowMs, int tornWriteWindow)
        throws IOException {
        settleCleaning(dir);
        TreeSet<Long> bases = new TreeSet<>();
        List<Path> indexFiles = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Matcher m = SEGMENT_FILE.matcher(file.getFileName().toString());
                if (m.matches() && m.group(2).equals(LogSegment.LOG_SUFFIX)) {
                    bases.add(Long.parseLong(m.group(1)));
                } else if (m.matches()) {
                    indexFiles.add(file);
                }
            }
        }
        for (Path index : indexFiles) {
            if (!bases.contains(Long.parseLong(index.getFileName().toString().substring(0, 20)))) {
                LOGGER.warn("Deleting index file {} that has no log file", index);
                Files.delete(index);
            }
        }
        List<LogSegment> segments = new ArrayList<>();
        for (long base : bases) {
            segments.add(base == bases.last() ? LogSegment.recoverActive(dir, base, config, nowMs, tornWriteWindow)
                : LogSegment.loadSealed(dir, base, config));
        }
        if (segments.isEmpty()) {
            segments.add(LogSegment.create(dir, 0, config));
        }
        return segments;
    }

    /**
     * Finishes or rolls back a clean interrupted by a crash. The cleaner writes {@code <base>.cleaned}, forces it,
     * renames it to {@code <base>.swap} and syncs the directory (the commit point), deletes the old segments' files and
     * renames the swap file to {@code <base>.log}. So a {@code .cleaned} file is an unfinished clean: deleted. A
     * {@code .swap} file is a finished one: the segments whose base offset lies in {@code [base, next offset of the
     * swap file)} are deleted (the cleaner keeps the last batch of what it rewrites, so that range is exactly the
     * replaced segments) and the swap file becomes {@code <base>.log}; its indexes are rebuilt when it is loaded.
     */
    static void settleCleaning(Path dir) throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(f -> CLEANING_FILE.matcher(f.getFileName().toString()).matches()).forEach(found::add);
        }
        for (Path file : found) {
            String name = file.getFileName().toString();
            long base = Long.parseLong(name.substring(0, 20));
            if (name.endsWith(LogCleaner.CLEANED_SUFFIX)) {
                LOGGER.warn("Deleting {}: a clean that did not finish (the segments it would replace are intact)", file);
                Files.delete(file);
                continue;
            }
            long next = nextOffsetOf(file, base);
            List<Long> replaced = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Matcher m = SEGMENT_FILE.matcher(f.getFileName().toString());
                    if (m.matches() && Long.parseLong(m.group(1)) >= base && Long.parseLong(m.group(1)) < next
                        && m.group(2).equals(LogSegment.LOG_SUFFIX)) {
                        replaced.add(Long.parseLong(m.group(1)));
                    }
                }
            }
            for (long old : replaced) {
                Files.deleteIfExists(dir.resolve(LogSegment.fileName(old, LogSegment.TIME_INDEX_SUFFIX)));
                Files.deleteIfExists(dir.resolve(LogSegment.fileName(old, LogSegment.INDEX_SUFFIX)));
                Files.deleteIfExists(dir.resolve(LogSegment.fileName(old, LogSegment.LOG_SUFFIX)));
            }
            Files.deleteIfExists(dir.resolve(LogSegment.fileName(base, LogSegment.TIME_INDEX_SUFFIX)));
            Files.deleteIfExists(dir.resolve(LogSegment.fileName(base, LogSegment.INDEX_SUFFIX)));
            Files.move(file, dir.resolve(LogSegment.fileName(base, LogSegment.LOG_SUFFIX)),
                StandardCopyOption.ATOMIC_MOVE);
            LOGGER.warn("Completed the interrupted clean of {}: replaced the segments at offsets {}", file, replaced);
        }
    }

    /** The offset after the last batch of a cleaned segment file (its batches were checked when it was written). */
    private static long nextOffsetOf(Path file, long base) throws IOException {
        ByteBuffer data = MappedFiles.mapReadOnly(file);
        int size = data.capacity();
        long next = base;
        for (int pos = 0; pos >= 0 && pos < size; pos = SegmentQueries.nextBatch(data, pos, size)) {
            next = BatchHeader.lastOffset(data, pos) + 1;
        }
        return next;
    }

    /**
     * Validates {@code data[0, length)} and zeroes what follows the valid prefix.
     *
     * @return the size of the valid prefix, a batch boundary
     */
    static int recover(ByteBuffer data, int length, long baseOffset, Path file) {
        try {
            return recover(data, null, length, baseOffset, file, TORN_WRITE_WINDOW);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // not reached: no channel is read
        }
    }

    /**
     * {@link #recover(ByteBuffer, int, long, Path)} searching {@code window} bytes past the valid prefix, on a segment
     * mapped from {@code channel} (null: only the image, for tests): the window, and a batch header that starts on a
     * page no earlier batch touched, are read with {@code pread}, not through the map. A page fault on a hole of the
     * sparse file makes the kernel read around it (as much as the device's {@code read_ahead_kb}, 8 MiB on this
     * project's machines), allocating and zeroing page cache for all of it: 3,000 crashed logs took 29.7 s to open
     * (4 threads) with a 64 KiB window read through the map, 3.6 s with {@code pread}.
     */
    static int recover(ByteBuffer data, FileChannel channel, int length, long baseOffset, Path file, int window)
        throws IOException {
        int pos = 0;
        long expectedOffset = baseOffset;
        String problem = null;
        while (pos < length) {
            if (channel != null && startsOnAnUntouchedPage(pos) && zerosAt(channel, pos, length)) {
                problem = "zeros";
                break;
            }
            problem = BatchHeader.problem(data, pos, length, expectedOffset, true, true);
            if (problem != null) {
                break;
            }
            expectedOffset = BatchHeader.lastOffset(data, pos) + 1;
            pos += BatchHeader.size(data, pos);
        }
        // Appends are sequential and one append is at most one entry, so a torn write lies right after the last good
        // batch; scanning a bounded window keeps start-up fast on a pre-sized, mostly empty segment.
        int to = (int) Math.min(length, (long) pos + window);
        int end = channel == null ? endOfNonZero(data, pos, to) : endOfNonZero(channel, pos, to);
        if (end > pos) {
            zero(data, pos, end);
            LOGGER.warn("Recovered segment {}: dropped {} bytes after the last valid batch (position {}, next offset {}): {}",
                file, end - pos, pos, expectedOffset, problem);
        }
        return pos;
    }

    /**
     * How far past the last valid batch recovery looks for (and zeroes) torn bytes after a power cut: unsynced pages
     * may have reached the disk in any order, up to this far. Without one, the largest append suffices
     * ({@link TornWriteMarker}).
     */
    static final int TORN_WRITE_WINDOW = 16 << 20;

    /** Writes zeros over {@code data[from, to)}. */
    static void zero(ByteBuffer data, int from, int to) {
        for (int pos = from; pos < to; pos += ZEROS.length) {
            data.put(pos, ZEROS, 0, Math.min(ZEROS.length, to - pos));
        }
    }

    /**
     * Writes zeros over {@code data[from, to)}, the last block first: a truncation that a crash interrupts leaves the
     * log's old batches from {@code from} up to where zeroing reached, a valid log (the old one, shorter), and zeros
     * after them; zeroing forward would leave zeros at {@code from} and old batches behind them, which a torn-write
     * search bounded by one append ({@link TornWriteMarker}) might not reach, and which later appends could line up
     * with again.
     */
    static void zeroBackwards(ByteBuffer data, int from, int to) {
        for (int end = to; end > from; end -= ZEROS.length) {
            int start = Math.max(from, end - ZEROS.length);
            data.put(start, ZEROS, 0, end - start);
        }
    }

    private static final int PAGE = 4096;

    /** Whether a batch header at {@code pos} reaches a page that holds no byte before {@code pos}. */
    private static boolean startsOnAnUntouchedPage(int pos) {
        return pos == 0 || (pos - 1) / PAGE != (pos + BatchHeader.OVERHEAD - 1) / PAGE;
    }

    /** Whether the batch header's worth of bytes at {@code pos} (fewer at the end of the file) are all zeros. */
    private static boolean zerosAt(FileChannel channel, int pos, int length) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(Math.min(BatchHeader.OVERHEAD, length - pos));
        readFully(channel, header, pos);
        return header.flip().mismatch(ZERO_BLOCK.slice(0, header.remaining())) < 0;
    }

    /** Reads until {@code buffer} is full; bytes past the end of the file read as zeros. */
    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                java.util.Arrays.fill(buffer.array(), buffer.arrayOffset() + buffer.position(),
                    buffer.arrayOffset() + buffer.limit(), (byte) 0);
                buffer.position(buffer.limit());
            }
        }
    }

    /** {@link #endOfNonZero(ByteBuffer, int, int)} reading the file with {@code pread} (see the recover above). */
    static int endOfNonZero(FileChannel channel, int from, int to) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(ZERO_BLOCK.capacity());
        ByteBuffer last = ByteBuffer.allocate(ZERO_BLOCK.capacity());
        int lastBlock = -1;
        for (int start = from; start < to; start += block.capacity()) {
            int length = Math.min(block.capacity(), to - start);
            block.clear().limit(length);
            readFully(channel, block, start);
            if (block.flip().mismatch(ZERO_BLOCK.slice(0, length)) >= 0) {
                lastBlock = start;
                ByteBuffer swap = last;
                last = block;
                block = swap;
            }
        }
        if (lastBlock < 0) {
            return from;
        }
        int end = last.limit();
        while (end > 0 && last.get(end - 1) == 0) {
            end--;
        }
        return lastBlock + end;
    }

    /** 64 KiB of zeros, never written: the torn-write window is compared with it a block at a time. */
    private static final ByteBuffer ZERO_BLOCK = ByteBuffer.allocateDirect(64 << 10).asReadOnlyBuffer();

    /**
     * One past the last non-zero byte in {@code data[from, to)}, or {@code from} if all are zero. The window is read
     * forward a block at a time with {@link ByteBuffer#mismatch} against zeros (a vectorised comparison), then only
     * the last block holding a non-zero byte is searched backwards: every replica's active segment is searched like
     * this at start-up after a crash, and reading the 16 MiB window a word at a time from its end took 0.3 to 0.6 s
     * per replica (3,000 replicas: minutes).
     */
    static int endOfNonZero(ByteBuffer data, int from, int to) {
        int lastBlock = -1;
        for (int block = from; block < to; block += ZERO_BLOCK.capacity()) {
            int length = Math.min(ZERO_BLOCK.capacity(), to - block);
            if (data.slice(block, length).mismatch(ZERO_BLOCK.slice(0, length)) >= 0) {
                lastBlock = block;
            }
        }
        if (lastBlock < 0) {
            return from;
        }
        int end = Math.min(to, lastBlock + ZERO_BLOCK.capacity());
        while (end - Long.BYTES >= lastBlock && data.getLong(end - Long.BYTES) == 0) {
            end -= Long.BYTES;
        }
        while (end > lastBlock && data.get(end - 1) == 0) {
            end--;
        }
        return end;
    }
}
