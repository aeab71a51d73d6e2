package io.fluxmq.raft.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntToLongFunction;

/**
 * A file of fixed-size entries, memory-mapped in full, holding a sparse index of one segment. Subclasses define
 * the entry layout; entries are sorted by offset (and, in the time index, by timestamp).
 *
 * <p>Life cycle: a <em>writable</em> index (the active segment's) holds up to {@code maxIndexBytes} rounded down to
 * a whole entry. Its file grows with its entries: blocks are allocated ahead in chunks ({@link #allocateAhead}) and
 * the file is mapped READ_WRITE as far as they reach, remapped larger when they grow; the bytes after the last entry
 * are meaningless. It is not sized to {@code maxIndexBytes} up front: on ext4 a file whose size is large gets its
 * blocks allocated with a per-file preallocation of several MiB, and with tens of thousands of such files open (two
 * indexes per partition replica, 10,000 replicas on each of three nodes on one disk) those preallocations took the
 * free space and forcing a new segment failed with "No space left on device" while the disk was mostly empty
 * (docs/performance.md, 10,000 partitions). When the segment is sealed, the file is trimmed to its entries and
 * mapped READ_ONLY. A writable index is never trusted after a crash: the active segment's indexes are rebuilt from its
 * log on open.
 *
 * <p>Thread-safety: one writer thread (the log's) appends, truncates and seals. Readers may search at any time
 * without locking: the map and the entry count are published together in one volatile {@link View}, entries
 * are written before the count that exposes them, and maps are never unmapped explicitly, so a reader that
 * holds an old view keeps reading valid memory. The file is only shrunk below bytes that no view exposes.
 */
abstract class MappedIndex {

    /** One consistent snapshot: the current map and how many of its entries are valid. */
    protected record View(MappedByteBuffer map, int entries) {
    }

    protected final long baseOffset;
    private final Path file;
    private final int entrySize;
    private volatile View view;
    private boolean writable;
    /** Bytes of the writable file known to be backed by disk blocks (see {@link MappedFiles#allocate}). Writer. */
    private long allocatedBytes;
    /** The most bytes the entries may take: the writable capacity, or a read-only file's size. Writer. */
    private long limitBytes;
    /** The first allocation ahead of the entries; each next one is twice the last, up to the largest. */
    static final long FIRST_ALLOCATION_CHUNK = 4L << 10;
    static final long MAX_ALLOCATION_CHUNK = 64L << 10;
    /** How far the next allocation reaches ahead (sized to the traffic, as the segment's). Writer. */
    private long allocationChunk = FIRST_ALLOCATION_CHUNK;

    MappedIndex(Path file, long baseOffset, int entrySize) {
        this.file = file;
        this.baseOffset = baseOffset;
        this.entrySize = entrySize;
    }

    /** True when the file is absent or its size is not a whole number of entries. */
    static boolean isMalformed(Path file, int entrySize) throws IOException {
        return !Files.isRegularFile(file) || Files.size(file) % entrySize != 0;
    }

    /** Discards any content and maps a fresh, empty, writable file that may grow to {@code maxIndexBytes}. */
    void createWritable(int maxIndexBytes) throws IOException {
        view = new View(MappedFiles.mapWritable(file, 0, true), 0);
        writable = true;
        allocatedBytes = 0;
        limitBytes = capacity(maxIndexBytes);
    }

    /** Maps an existing, well-formed file read-only; every entry in it is taken as valid. */
    void loadReadOnly() throws IOException {
        MappedByteBuffer map = MappedFiles.mapReadOnly(file);
        view = new View(map, map.capacity() / entrySize);
        writable = false;
        limitBytes = map.capacity();
    }

    /** Turns a sealed index back into a writable one that keeps its entries (after truncating into its segment). */
    void reopenWritable(int maxIndexBytes) throws IOException {
        View v = view;
        long bytes = (long) v.entries() * entrySize; // the sealed file's size
        view = new View(MappedFiles.mapWritable(file, bytes, false), v.entries());
        writable = true;
        allocatedBytes = bytes;
        limitBytes = Math.max(capacity(maxIndexBytes), bytes);
    }

    /**
     * Makes sure disk blocks back the next {@code entries} entry slots (a chunk ahead, doubling from 4 KiB to 64 KiB,
     * at most the capacity), so appending them cannot fault on a full disk, and that the map reaches them. Writer.
     */
    void allocateAhead(int entries) throws IOException {
        View v = view;
        long needed = Math.min(limitBytes, (long) (v.entries() + entries) * entrySize);
        if (needed > allocatedBytes) {
            long to = Math.min(limitBytes, Math.max(needed, allocatedBytes + allocationChunk));
            MappedFiles.allocate(file, allocatedBytes, to);
            allocatedBytes = to;
            allocationChunk = Math.min(MAX_ALLOCATION_CHUNK, allocationChunk * 2);
        }
        if (allocatedBytes > v.map().capacity()) {
            // readers holding the old, shorter map keep reading valid memory: both map the same pages
            view = new View(MappedFiles.mapWritable(file, allocatedBytes, false), v.entries());
        }
    }

    /** Forces the entries to disk, trims the file to them and remaps it read-only. */
    void seal() throws IOException {
        View v = view;
        if (writable) {
            v.map().force();
        }
        view = new View(MappedFiles.trimAndMapReadOnly(file, (long) v.entries() * entrySize), v.entries());
        writable = false;
        limitBytes = view.map().capacity();
    }

    void delete() throws IOException {
        Files.deleteIfExists(file);
    }

    Path file() {
        return file;
    }

    int entries() {
        return view.entries();
    }

    boolean isFull() {
        return (long) (view.entries() + 1) * entrySize > limitBytes;
    }

    protected View view() {
        return view;
    }

    /**
     * Reserves the next entry slot for the writer, allocating and mapping it if no {@link #allocateAhead} did (a
     * rebuild); the caller fills it, then calls {@link #publish}.
     */
    protected int nextEntryPosition() {
        if (!writable || isFull()) {
            throw new IllegalStateException("index " + file + " is not writable or full");
        }
        int at = view.entries() * entrySize;
        if (at + entrySize > view.map().capacity()) {
            try {
                allocateAhead(1);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return at;
    }

    protected void publish(int entries) {
        view = new View(view.map(), entries);
    }

    /** The number of leading entries whose key is at most {@code bound}; keys must be non-decreasing. */
    protected static int countAtMost(int entries, IntToLongFunction keyOfEntry, long bound) {
        int lo = 0;
        int hi = entries;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (keyOfEntry.applyAsLong(mid) <= bound) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private int capacity(int maxIndexBytes) {
        return maxIndexBytes - maxIndexBytes % entrySize;
    }
}
