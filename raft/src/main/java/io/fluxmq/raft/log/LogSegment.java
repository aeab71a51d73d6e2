package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.kafka.common.record.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One segment of a {@link SegmentLog}: the file {@code <baseOffset>.log} (20-digit zero-padded base offset)
 * holding concatenated Kafka v2 record batches, and its {@link OffsetIndex} and {@link TimeIndex}.
 *
 * <p>The active segment's {@code .log} is pre-sized (sparse) to {@code segmentBytes} and mapped READ_WRITE for readers;
 * appends are written through the segment's open file channel ({@code pwrite}, one copy into the page cache, which the
 * map sees), not through the map: a full disk then fails the write with an IOException instead of a fault on a mapped
 * page, with no need to write zeros ahead of the data, and pages dirtied by writes are not mapped writable, so
 * flushing them does not write-protect page-table entries on every core. Bytes past {@link #size()} are zeros, or
 * the torn remains of a write a full disk cut short (recovery drops them). Sealing (on roll or close) forces the
 * data, trims the file to its size, closes the channel and remaps the file READ_ONLY. Truncating into a sealed
 * segment makes it writable again.
 *
 * <p>Flushing forces only what was written since the last flush ({@link #dirtyRange}, {@link #flushed}); the active
 * segment's indexes are never forced, since recovery rebuilds them from the data (sealing forces them).
 *
 * <p>Thread-safety: one writer thread calls the mutating methods (append, truncate, seal, delete) and the flush
 * bookkeeping ({@link #dirtyRange}, {@link #flushed}) under the log's lock; the force itself runs outside it.
 * Readers ({@link #read}, {@link #queries()}, the getters) run concurrently and lock-free: they read the
 * volatile {@link State} once and touch only {@code data[0, size)}. Maps are never unmapped explicitly, and a
 * file is only shrunk below the size every published state already exposes, so slices handed out stay valid.
 */
final class LogSegment {

    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String TIME_INDEX_SUFFIX = ".timeindex";
    private static final Logger LOGGER = LoggerFactory.getLogger(LogSegment.class);

    /**
     * What readers see, replaced as a whole: the map, the valid byte count, the next offset, and the largest
     * batch max-timestamp with the position of the first batch carrying it (-1 when empty).
     */
    record State(MappedByteBuffer data, int size, long nextOffset, long maxTimestamp, int maxTimestampPosition) {
    }

    private final long baseOffset;
    private final Path logFile;
    private final SegmentLogConfig config;
    private final OffsetIndex offsetIndex;
    private final TimeIndex timeIndex;
    private volatile State state;

    // Writer-only state.
    private boolean writable;
    /** Open while the segment is writable (one descriptor per active segment, as Kafka holds one per segment). */
    private FileChannel channel;
    /** Scratch for the stamped header of {@link #append(ByteBuffer, long, long, int)}. */
    private final ByteBuffer stampedHeader = ByteBuffer.allocateDirect(BatchHeader.STAMPED_HEADER_BYTES);
    private int bytesSinceLastIndexEntry;
    private long firstAppendMs = -1;
    private long runningMaxTimestamp = Long.MIN_VALUE;
    /** Bytes of the data file known to be backed by disk blocks (see {@link MappedFiles#allocate}). */
    private long allocatedBytes;
    private int runningMaxPosition = -1;
    /** Length of the data prefix known to be forced to disk. Writer. */
    private int flushedSize;
    /** Bumped by every truncation, so a flush that started before one cannot mark bytes written after it. Writer. */
    private long truncations;

    /**
     * Bytes {@code [from, to)} of {@code data} were written since the last flush. {@code truncations} tells
     * {@link #flushed} whether a truncation came in between.
     */
    record DirtyRange(LogSegment segment, MappedByteBuffer data, int from, int to, long truncations) {
        boolean isEmpty() {
            return to <= from;
        }
    }

    private LogSegment(Path dir, long baseOffset, SegmentLogConfig config) {
        this.baseOffset = baseOffset;
        this.config = config;
        this.logFile = dir.resolve(fileName(baseOffset, LOG_SUFFIX));
        this.offsetIndex = new OffsetIndex(dir.resolve(fileName(baseOffset, INDEX_SUFFIX)), baseOffset);
        this.timeIndex = new TimeIndex(dir.resolve(fileName(baseOffset, TIME_INDEX_SUFFIX)), baseOffset);
    }

    static String fileName(long baseOffset, String suffix) {
        return String.format("%020d%s", baseOffset, suffix);
    }

    /** Creates a new, empty, writable segment, replacing any files of that name. */
    static LogSegment create(Path dir, long baseOffset, SegmentLogConfig config) throws IOException {
        LogSegment seg = new LogSegment(dir, baseOffset, config);
        seg.channel = MappedFiles.openWritable(seg.logFile, true);
        MappedByteBuffer data = MappedFiles.mapWritable(seg.channel, config.segmentBytes());
        seg.offsetIndex.createWritable(config.maxIndexBytes());
        seg.timeIndex.createWritable(config.maxIndexBytes());
        seg.writable = true;
        seg.publish(data, 0, baseOffset);
        return seg;
    }

    /** Opens the last segment writable: keeps its valid prefix (see {@link SegmentRecovery}), rebuilds its indexes. */
    static LogSegment recoverActive(Path dir, long baseOffset, SegmentLogConfig config, long nowMs, int tornWriteWindow)
        throws IOException {
        LogSegment seg = new LogSegment(dir, baseOffset, config);
        int length = MappedFiles.segmentFileSize(seg.logFile);
        seg.channel = MappedFiles.openWritable(seg.logFile, false);
        MappedByteBuffer data = MappedFiles.mapWritable(seg.channel, Math.max(length, config.segmentBytes()));
        int size = SegmentRecovery.recover(data, seg.channel, length, baseOffset, seg.logFile, tornWriteWindow);
        seg.offsetIndex.createWritable(config.maxIndexBytes());
        seg.timeIndex.createWritable(config.maxIndexBytes());
        seg.writable = true;
        if (size > config.indexIntervalBytes()) {
            // the rebuild below writes entries through the maps: allocate them with pwrite first, since a fault on a
            // hole of the sparse index makes the kernel read around it (SegmentRecovery#recover)
            int entries = maxIndexEntries(size, config);
            seg.offsetIndex.allocateAhead(entries);
            seg.timeIndex.allocateAhead(entries);
        }
        long next = seg.indexBatches(data, 0, size, baseOffset);
        seg.publish(data, size, next);
        seg.firstAppendMs = seg.estimateFirstAppendMs(nowMs);
        seg.allocatedBytes = size;
        seg.flushedSize = 0; // what was recovered may have come from the page cache of a crashed process
        return seg;
    }

    /**
     * The most index entries {@code size} bytes of batches can get: one per {@code index.interval.bytes}, and at most
     * one per batch (a batch takes at least {@link BatchHeader#OVERHEAD} bytes).
     */
    private static int maxIndexEntries(int size, SegmentLogConfig config) {
        return size / Math.max(BatchHeader.OVERHEAD, config.indexIntervalBytes()) + 1;
    }

    /** Opens an older, sealed segment read-only; its indexes are rebuilt if missing or malformed. */
    static LogSegment loadSealed(Path dir, long baseOffset, SegmentLogConfig config) throws IOException {
        return loadSealed(dir, baseOffset, config, false);
    }

    /**
     * {@link #loadSealed(Path, long, SegmentLogConfig)}; {@code fresh} for a segment the cleaner just installed, whose
     * indexes are expected to be missing (built here without a warning).
     */
    static LogSegment loadSealed(Path dir, long baseOffset, SegmentLogConfig config, boolean fresh)
        throws IOException {
        LogSegment seg = new LogSegment(dir, baseOffset, config);
        int size = MappedFiles.segmentFileSize(seg.logFile);
        MappedByteBuffer data = MappedFiles.mapReadOnly(seg.logFile);
        boolean rebuild = MappedIndex.isMalformed(seg.offsetIndex.file(), OffsetIndex.ENTRY_SIZE)
            || MappedIndex.isMalformed(seg.timeIndex.file(), TimeIndex.ENTRY_SIZE);
        if (!rebuild) {
            seg.offsetIndex.loadReadOnly();
            seg.timeIndex.loadReadOnly();
            rebuild = seg.offsetIndex.lastPosition() >= size;
        }
        if (rebuild) {
            if (!fresh) {
                LOGGER.warn("Rebuilding missing or malformed indexes of segment {}", seg.logFile);
            }
            seg.offsetIndex.createWritable(config.maxIndexBytes());
            seg.timeIndex.createWritable(config.maxIndexBytes());
            int entries = maxIndexEntries(size, config) + 1; // and the final time-index entry
            seg.offsetIndex.allocateAhead(entries);
            seg.timeIndex.allocateAhead(entries);
            long next = seg.indexBatches(data, 0, size, baseOffset);
            seg.sealIndexes(data);
            seg.publish(data, size, next);
        } else {
            seg.publish(data, size, seg.scanTail(data, size));
        }
        return seg;
    }

    long baseOffset() {
        return baseOffset;
    }

    long nextOffset() {
        return state.nextOffset();
    }

    int size() {
        return state.size();
    }

    /** A read-only view of the segment's batches, {@code [0, size)}; any thread. */
    ByteBuffer batches() {
        State s = state;
        return s.data().duplicate().slice(0, s.size()).asReadOnlyBuffer();
    }

    /** Whether appends may go here (the active segment, or one truncation reopened). */
    boolean isWritable() {
        return writable;
    }

    /** Readers' entry point for timestamp queries over this segment's current state. */
    SegmentQueries queries() {
        return new SegmentQueries(state, offsetIndex, timeIndex);
    }

    /** See {@link SegmentLog#read}; {@code null} when no batch of this segment ends at or after startOffset. */
    MemoryRecords read(long startOffset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        return queries().read(startOffset, maxBytes, maxOffsetExclusive, minOneBatch);
    }

    /** Largest max-timestamp in this segment, or the file's modification time when it has none. */
    long largestTimestampOrMtime() throws IOException {
        long ts = state.maxTimestamp();
        return ts >= 0 ? ts : Files.getLastModifiedTime(logFile).toMillis();
    }

    List<Path> files() {
        return List.of(logFile, offsetIndex.file(), timeIndex.file());
    }

    /**
     * Why the next append of {@code bytes} ending at {@code lastOffset} needs a new segment, or null. The size limit is
     * the smaller of this segment's own and the log's {@code current} one, the age limit the current one (they differ
     * after a topic config change). Writer.
     */
    String rollReason(int bytes, long lastOffset, long nowMs, SegmentLogConfig current) {
        State s = state;
        if (s.size() == 0) {
            return null;
        } else if ((long) s.size() + bytes > Math.min(config.segmentBytes(), current.segmentBytes())) {
            return "size";
        } else if (nowMs - firstAppendMs > current.segmentMs()) {
            return "age";
        } else if (offsetIndex.isFull() || timeIndex.isFull()) {
            return "index full";
        } else if (lastOffset - baseOffset > Integer.MAX_VALUE) {
            return "relative offset overflow";
        }
        return null;
    }

    /**
     * Writes already validated, contiguous batches (position..limit of {@code batches}) at the end. A full disk fails
     * here with an IOException (the index entries' blocks are allocated first, the data's by the write itself) and
     * leaves the segment's valid content as it was. Writer.
     */
    void append(ByteBuffer batches, long nowMs) throws IOException {
        append(batches, nowMs, -1, 0);
    }

    /**
     * {@link #append(ByteBuffer, long)}; when {@code stampBaseOffset >= 0} the buffer holds one batch, and its copy in
     * the segment gets that base offset and {@code stampEpoch} as its partition leader epoch. Writer.
     */
    void append(ByteBuffer batches, long nowMs, long stampBaseOffset, int stampEpoch) throws IOException {
        int len = batches.remaining();
        long end = state.size() + (long) len;
        if (end > state.data().capacity()) {
            growTo(end);
        }
        offsetIndex.allocateAhead(len / BatchHeader.OVERHEAD + 1);
        timeIndex.allocateAhead(len / BatchHeader.OVERHEAD + 1);
        State s = state; // after growTo, which may have mapped the file larger
        write(batches, s.size(), stampBaseOffset, stampEpoch);
        allocatedBytes = Math.max(allocatedBytes, end);
        long next = indexBatches(s.data(), s.size(), s.size() + len, s.nextOffset());
        if (firstAppendMs < 0) {
            firstAppendMs = nowMs;
        }
        publish(s.data(), s.size() + len, next);
    }

    /**
     * Writes {@code batches} (position..limit, untouched) at {@code at} through the channel; with {@code stampBaseOffset
     * >= 0} the one batch's header is written with that base offset and {@code stampEpoch}. A failure (a full disk)
     * may leave part of the bytes behind {@code at}: nothing reads them, the next append overwrites them, recovery
     * drops them. Writer.
     */
    private void write(ByteBuffer batches, int at, long stampBaseOffset, int stampEpoch) throws IOException {
        ByteBuffer body = batches.duplicate();
        long pos = at;
        if (stampBaseOffset >= 0) {
            ByteBuffer head = stampedHeader.clear();
            head.put(0, body, body.position(), BatchHeader.STAMPED_HEADER_BYTES);
            BatchHeader.stamp(head, 0, stampBaseOffset, stampEpoch);
            body.position(body.position() + BatchHeader.STAMPED_HEADER_BYTES);
            while (head.hasRemaining()) {
                pos += channel.write(head, pos);
            }
        }
        while (body.hasRemaining()) {
            pos += channel.write(body, pos);
        }
    }

    /** The first allocation ahead of a segment's appends; each next one is twice the last, up to the largest. */
    static final long FIRST_ALLOCATION_CHUNK = 16L << 10;
    static final long MAX_ALLOCATION_CHUNK = 4L << 20;
    /** How far the next allocation reaches ahead: sized to the traffic, so thousands of quiet partitions write KiB of
     * zeros each, not MiB (3,000 new partitions at 4 MiB each wrote 12 GiB of zeros per node). Writer. */
    private long allocationChunk = FIRST_ALLOCATION_CHUNK;

    /**
     * For a caller that must know before an append that it will not fail for want of disk (the Ratis engine applies
     * committed entries): makes sure disk blocks back the data file up to {@code end} (allocating ahead by a chunk that doubles with each
     * allocation from {@value #FIRST_ALLOCATION_CHUNK} to {@value #MAX_ALLOCATION_CHUNK} bytes, at most to the mapped
     * capacity) and the indexes for {@code maxBatches} more entries. Writer.
     */
    void reserve(long end, int maxBatches) throws IOException {
        if (end > state.data().capacity()) {
            growTo(end);
        }
        if (end > allocatedBytes) {
            long to = Math.min(state.data().capacity(), Math.max(end, allocatedBytes + allocationChunk));
            MappedFiles.allocate(logFile, allocatedBytes, to);
            allocatedBytes = to;
            allocationChunk = Math.min(MAX_ALLOCATION_CHUNK, allocationChunk * 2);
        }
        offsetIndex.allocateAhead(maxBatches);
        timeIndex.allocateAhead(maxBatches);
    }

    /**
     * Maps the data file larger, to {@code end} bytes: an append bigger than the room left in the map, which only
     * happens for batches larger than {@code segmentBytes} (a follower applies whatever the leader committed, under
     * whatever segment size the leader had then; Kafka's segments likewise take a batch larger than
     * {@code segment.bytes} whole). The old map stays valid for readers holding slices of it. Writer.
     */
    private void growTo(long end) throws IOException {
        if (end > Integer.MAX_VALUE) {
            throw new IOException("segment " + logFile + " cannot grow past 2 GiB (" + end + " bytes)");
        }
        State s = state;
        MappedByteBuffer data = MappedFiles.mapWritable(channel, end);
        publish(data, s.size(), s.nextOffset());
        LOGGER.info("Segment {} grew to {} bytes for a batch larger than its segment size", logFile, end);
    }

    /** Position of the batch whose base offset is {@code offset}, the size if it is the next offset, else -1. */
    int positionOf(long offset) {
        return queries().positionOf(offset);
    }

    /**
     * Removes the batches from {@code position} (where {@code offset} starts) onward, zeroes them and forces the data,
     * zeros included, through {@code forcer}. Writer.
     */
    void truncateTo(long offset, int position, long nowMs, DataForcer forcer) throws IOException {
        if (!writable) {
            reopenWritable();
        }
        State s = state;
        offsetIndex.truncateTo(offset);
        timeIndex.truncateTo(offset);
        scanTail(s.data(), position);
        publish(s.data(), position, offset);
        SegmentRecovery.zeroBackwards(s.data(), position, s.size());
        bytesSinceLastIndexEntry = 0;
        firstAppendMs = estimateFirstAppendMs(nowMs);
        truncations++;
        forcer.force(s.data(), 0, s.size());
        flushedSize = position;
    }

    /** What a flush must force now: the data written since the last flush (nothing for a sealed segment). Writer. */
    DirtyRange dirtyRange() {
        State s = state;
        int from = writable ? Math.min(flushedSize, s.size()) : s.size();
        return new DirtyRange(this, s.data(), from, s.size(), truncations);
    }

    /** Records that {@code range} was forced, unless a truncation came in between (it forced on its own). Writer. */
    void flushed(DirtyRange range) {
        if (range.truncations() == truncations && range.to() > flushedSize) {
            flushedSize = range.to();
        }
    }

    /** Adds the final time-index entry, forces everything, trims the files and remaps them read-only. Writer. */
    void seal() throws IOException {
        if (!writable) {
            return;
        }
        State s = state;
        s.data().force(0, s.size());
        MappedByteBuffer data = MappedFiles.trimAndMapReadOnly(logFile, s.size());
        sealIndexes(s.data());
        closeChannel();
        writable = false;
        publish(data, s.size(), s.nextOffset());
    }

    /** Deletes the files; indexes first so that a crash never leaves indexes without their log. Writer. */
    void delete() throws IOException {
        closeChannel();
        timeIndex.delete();
        offsetIndex.delete();
        Files.deleteIfExists(logFile);
    }

    private void reopenWritable() throws IOException {
        State s = state;
        channel = MappedFiles.openWritable(logFile, false);
        MappedByteBuffer data = MappedFiles.mapWritable(channel, Math.max(s.size(), config.segmentBytes()));
        offsetIndex.reopenWritable(config.maxIndexBytes());
        timeIndex.reopenWritable(config.maxIndexBytes());
        writable = true;
        allocatedBytes = s.size();
        publish(data, s.size(), s.nextOffset());
    }

    private void closeChannel() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }

    private void sealIndexes(MappedByteBuffer data) throws IOException {
        if (runningMaxPosition >= 0) {
            timeIndex.maybeAppend(runningMaxTimestamp, BatchHeader.baseOffset(data, runningMaxPosition));
        }
        offsetIndex.seal();
        timeIndex.seal();
    }

    /**
     * Adds index entries for the batches in {@code data[from, to)} and tracks the running max timestamp, exactly as
     * appends do; used by append, recovery and rebuilds. Returns the offset after the last batch.
     */
    private long indexBatches(MappedByteBuffer data, int from, int to, long nextOffset) {
        long next = nextOffset;
        int pos = from;
        while (pos < to) {
            int end = SegmentQueries.nextBatch(data, pos, to);
            if (end < 0) {
                LOGGER.error("Segment {} has no readable batch at position {}; indexing stops there", logFile, pos);
                break;
            }
            long batchMax = BatchHeader.maxTimestamp(data, pos);
            if (batchMax > runningMaxTimestamp) {
                runningMaxTimestamp = batchMax;
                runningMaxPosition = pos;
            }
            if (bytesSinceLastIndexEntry > config.indexIntervalBytes()) {
                if (!offsetIndex.isFull()) {
                    offsetIndex.append(BatchHeader.baseOffset(data, pos), pos);
                }
                timeIndex.maybeAppend(runningMaxTimestamp, BatchHeader.baseOffset(data, runningMaxPosition));
                bytesSinceLastIndexEntry = 0;
            }
            bytesSinceLastIndexEntry += end - pos;
            next = BatchHeader.lastOffset(data, pos) + 1;
            pos = end;
        }
        return next;
    }

    /**
     * Recomputes the running max timestamp of {@code data[0, size)} from the last time-index entry onward (no
     * earlier batch can beat it) and returns the offset after the last batch. Indexes must match the data.
     */
    private long scanTail(MappedByteBuffer data, int size) {
        long lastIndexed = timeIndex.lastOffset();
        int from = lastIndexed >= 0 ? offsetIndex.lookup(lastIndexed) : 0;
        if (from >= size) {
            from = 0;
        }
        runningMaxTimestamp = Long.MIN_VALUE;
        runningMaxPosition = -1;
        long next = from == 0 ? baseOffset : BatchHeader.baseOffset(data, from);
        for (int pos = from; pos >= 0 && pos < size; pos = SegmentQueries.nextBatch(data, pos, size)) {
            long batchMax = BatchHeader.maxTimestamp(data, pos);
            if (batchMax > runningMaxTimestamp) {
                runningMaxTimestamp = batchMax;
                runningMaxPosition = pos;
            }
            next = BatchHeader.lastOffset(data, pos) + 1;
        }
        return next;
    }

    private void publish(MappedByteBuffer data, int size, long nextOffset) {
        state = new State(data, size, nextOffset, runningMaxTimestamp, runningMaxPosition);
    }

    private long estimateFirstAppendMs(long nowMs) {
        State s = state;
        if (s.size() == 0) {
            return -1;
        }
        long firstBatchTs = BatchHeader.maxTimestamp(s.data(), 0);
        return firstBatchTs >= 0 ? Math.min(firstBatchTs, nowMs) : nowMs;
    }
}
