package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;

import org.apache.kafka.common.record.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log of one partition: Kafka v2 record batches (magic 2) whose base offset and partition leader epoch were
 * stamped by the caller, stored byte for byte in a directory of {@link LogSegment}s named by base offset.
 * Reads follow Kafka fetch semantics; appends roll a new segment on size, age or a full index; recovery on
 * {@link #open} keeps the valid prefix of the last segment. The on-disk format is described in docs/storage.md.
 *
 * <p>Thread-safety: one writer thread calls {@link #append}, {@link #truncateTo}, {@link #deleteOldSegments} and
 * {@link #close} (they are synchronized). {@link #flush} may run on another thread at the same time: it takes the
 * log's lock only to read what was written since the last flush and forces it outside the lock, so appends do not
 * wait for the device. {@link #read}, {@link #offsetForTimestamp},
 * {@link #maxTimestamp}, the offset getters and {@link #segmentFiles} may run concurrently from any thread:
 * they read the volatile, immutable segment list and each segment's published state, and return views of the
 * mapped files rather than copies. Data removed by truncation may still show in a view taken just before.
 */
public final class SegmentLog implements java.io.Closeable {

    private static final Logger LOGGER = LoggerFactory.getLogger(SegmentLog.class);

    private final Path dir;
    /**
     * Replaced under the log's lock (segments rolled from now on take it); volatile for {@link #maxAppendBytes()},
     * which the partition leader reads without the lock.
     */
    private volatile SegmentLogConfig config;
    private final LongSupplier clockMs;
    /** Immutable, in offset order, never empty; the last one is the active segment. */
    private volatile List<LogSegment> segments;
    private volatile boolean closed;
    /** The log start agreed through Raft; may be above the first segment's base offset. */
    private volatile long startFloor;
    /** Writer-only: segment files were created or deleted since the directory was last synced. */
    private boolean directoryDirty;
    private final DataForcer forcer;
    /** Widened before an append larger than any since the log opened (writer); null where there is no boot id. */
    private final TornWriteMarker tornWrites;
    /** Serializes flushes, so each forces what the one before it left and marks it flushed in order. */
    private final Object flushLock = new Object();
    /**
     * Cleaner state (the cleaner thread only): offsets below this were cleaned against every key above them up to it
     * (Kafka's cleaner checkpoint; kept in memory, so after a restart the first clean covers the whole log once).
     */
    private volatile long firstDirtyOffset;
    /** Cleaner state: the earliest delete horizon of a retained tombstone batch, Long.MAX_VALUE when none. */
    private volatile long earliestDeleteHorizonMs = Long.MAX_VALUE;
    /**
     * How many times a truncation reached into a sealed segment and made it writable again (guarded by this). Such a
     * segment may be sealed again later with other content under the same identity, so a clean read before that must
     * not replace it ({@link #replaceSegments}).
     */
    private long reopenedSealedSegments;

    private SegmentLog(Path dir, SegmentLogConfig config, LongSupplier clockMs, List<LogSegment> segments,
                       DataForcer forcer, TornWriteMarker tornWrites) {
        this.forcer = forcer;
        this.tornWrites = tornWrites;
        this.dir = dir;
        this.config = config;
        this.clockMs = clockMs;
        this.segments = List.copyOf(segments);
    }

    /** Opens the log in {@code dir}, creating the directory if absent and recovering the last segment. */
    public static SegmentLog open(Path dir, SegmentLogConfig config, LongSupplier clockMs) throws IOException {
        return open(dir, config, clockMs, DataForcer.MSYNC);
    }

    /**
     * {@link #open(Path, SegmentLogConfig, LongSupplier)}, leaving the directory sync after files were created or
     * deleted to the first {@link #flush} when {@code deferDirectorySync}: for a caller that syncs the directory itself
     * right after (the multi-Raft engine writes the new replica's identity file durably next), so a new partition
     * costs one directory sync, not two.
     */
    public static SegmentLog open(Path dir, SegmentLogConfig config, LongSupplier clockMs, boolean deferDirectorySync)
        throws IOException {
        return open(dir, config, clockMs, DataForcer.MSYNC, deferDirectorySync);
    }

    /** {@link #open(Path, SegmentLogConfig, LongSupplier)} with the flush's force replaced (tests). */
    static SegmentLog open(Path dir, SegmentLogConfig config, LongSupplier clockMs, DataForcer forcer)
        throws IOException {
        return open(dir, config, clockMs, forcer, false);
    }

    private static SegmentLog open(Path dir, SegmentLogConfig config, LongSupplier clockMs, DataForcer forcer,
                                   boolean deferDirectorySync) throws IOException {
        Files.createDirectories(dir);
        Set<String> before = fileNames(dir);
        String bootId = TornWriteMarker.currentBootId();
        List<LogSegment> segments = SegmentRecovery.loadSegments(dir, config, clockMs.getAsLong(),
            TornWriteMarker.windowToSearch(dir, bootId));
        TornWriteMarker marker = TornWriteMarker.recovered(dir, bootId);
        // Only when recovery created or deleted a file (a new log's first segment, a missing index, a stray one): an
        // unchanged directory has nothing to make durable, and a restart of thousands of replicas would otherwise
        // wait on as many directory syncs, each one a journal commit of the file system.
        boolean changed = !fileNames(dir).equals(before);
        if (changed && !deferDirectorySync) {
            MappedFiles.syncDirectory(dir);
        }
        SegmentLog log = new SegmentLog(dir, config, clockMs, segments, forcer, marker);
        log.directoryDirty = changed && deferDirectorySync;
        LOGGER.info("Opened log {} with {} segments, offsets [{}, {})", dir, segments.size(),
            log.logStartOffset(), log.logEndOffset());
        return log;
    }

    /** The directory's file names but the torn-write marker's (never forced, so its creation needs no sync). */
    private static Set<String> fileNames(Path dir) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> !n.equals(TornWriteMarker.FILE_NAME))
                .collect(java.util.stream.Collectors.toSet());
        }
    }

    /**
     * The first offset readers may see: the base of the first segment, or a later offset the partition's Raft group
     * agreed on ({@link #advanceLogStart}), which may lie inside the first segment when this replica's segment
     * boundaries differ from the leader's.
     */
    public long logStartOffset() {
        return Math.max(startFloor, segments.get(0).baseOffset());
    }

    /**
     * Replaces the configuration (a topic config changed at runtime): segments created from now on take it whole, and
     * the active segment rolls by its size limit (if smaller than its own) and age limit at the next append. The
     * active segment keeps its index interval and file size.
     */
    public void configure(SegmentLogConfig next) {
        if (next.equals(config)) {
            return; // the usual case (every metadata change re-applies every topic's settings): no wait for the lock
        }
        synchronized (this) {
            if (!next.equals(config)) {
                LOGGER.info("Log {}: configuration {} (was {})", dir, next, config);
                config = next;
            }
        }
    }

    public SegmentLogConfig config() {
        return config;
    }

    /**
     * Moves the log start offset to {@code offset} (never backwards, never past the log end) and deletes the segments
     * that lie entirely below it, never the active one.
     *
     * @return the number of segments deleted
     */
    public int advanceLogStart(long offset) throws IOException {
        synchronized (flushLock) { // never while a flush is between reading its range and marking it flushed
            return advanceLogStartLocked(offset);
        }
    }

    private synchronized int advanceLogStartLocked(long offset) throws IOException {
        ensureOpen();
        if (offset <= logStartOffset()) {
            return 0;
        }
        if (offset > logEndOffset()) {
            throw new IllegalArgumentException("log start " + offset + " beyond the log end " + logEndOffset());
        }
        startFloor = offset;
        List<LogSegment> segs = segments;
        int deletable = 0;
        while (deletable < segs.size() - 1 && segs.get(deletable + 1).baseOffset() <= offset) {
            deletable++;
        }
        if (deletable > 0) {
            segments = List.copyOf(segs.subList(deletable, segs.size()));
            for (int i = 0; i < deletable; i++) {
                segs.get(i).delete();
            }
            directoryDirty = true;
        }
        LOGGER.info("Log {}: log start offset is now {} ({} segments deleted)", dir, offset, deletable);
        return deletable;
    }

    /**
     * Deletes every segment and starts the log empty at {@code offset}: for a replica whose whole log lies below the
     * log start of the snapshot it installs.
     */
    public void resetTo(long offset) throws IOException {
        synchronized (flushLock) { // never while a flush is between reading its range and marking it flushed
            resetToLocked(offset);
        }
    }

    private synchronized void resetToLocked(long offset) throws IOException {
        ensureOpen();
        if (offset <= logEndOffset()) {
            throw new IllegalArgumentException("reset to " + offset + " within the log (end " + logEndOffset() + ")");
        }
        List<LogSegment> segs = segments;
        // the new segment first: a crash before the old ones are gone leaves them below it, where the log start
        // recorded in the partition snapshot deletes them again at the next start
        LogSegment fresh = LogSegment.create(dir, offset, config);
        MappedFiles.syncDirectory(dir);
        segments = List.of(fresh);
        for (LogSegment segment : segs) {
            segment.delete();
        }
        startFloor = offset;
        directoryDirty = true;
        syncDirectoryIfDirty();
        LOGGER.info("Log {} reset to start empty at offset {}", dir, offset);
    }

    /** The most bytes a leader puts in one append: a segment's size ({@code segmentBytes}); followers take more. */
    public int maxAppendBytes() {
        return config.segmentBytes();
    }

    /** The offset the next appended batch must have as its base offset. */
    public long logEndOffset() {
        List<LogSegment> segs = segments;
        return segs.get(segs.size() - 1).nextOffset();
    }

    /**
     * Appends one or more complete v2 batches (buffer position..limit; the buffer itself is not modified). The first
     * batch's base offset must equal {@link #logEndOffset()} and the rest must follow contiguously; every batch must
     * pass its CRC. All batches land in one segment: the log rolls first when they would take the active segment
     * past its size, and batches larger than {@code segmentBytes} take a segment of their own, grown to hold them
     * (a follower must store what the leader committed under its own, possibly larger, setting of the moment).
     *
     * @throws IllegalArgumentException if the buffer is empty or a batch is incomplete, corrupt, not magic 2 or
     *                                  not contiguous
     */
    public void append(ByteBuffer batches) throws IOException {
        append(batches, true);
    }

    /**
     * {@link #append(ByteBuffer)}, skipping the CRC check when {@code verifyCrc} is false: for batches whose CRC the
     * caller checked on these very bytes (the partition leader validates every produced batch before it stamps and
     * replicates it; the fields it stamps lie outside the CRC). Every other check still runs.
     */
    public synchronized void append(ByteBuffer batches, boolean verifyCrc) throws IOException {
        ensureOpen();
        ByteBuffer in = batches.duplicate();
        long next = logEndOffset();
        for (int pos = in.position(); pos < in.limit(); pos += BatchHeader.size(in, pos)) {
            String problem = BatchHeader.problem(in, pos, in.limit(), next, verifyCrc);
            if (problem != null) {
                throw new IllegalArgumentException("Cannot append batch at buffer position " + pos + ": " + problem);
            }
            next = BatchHeader.lastOffset(in, pos) + 1;
        }
        int bytes = in.remaining();
        if (bytes == 0) {
            throw new IllegalArgumentException("No batches to append");
        }
        appendChecked(in, next - 1, -1, 0);
    }

    /**
     * {@link #append(ByteBuffer)} for batches copied from another replica's log (catch-up from the leader), which may
     * be compacted: a batch may start above the log end offset (the cleaner removed the offsets in between), never
     * below it. Every other check runs.
     */
    public synchronized void appendCopied(ByteBuffer batches) throws IOException {
        ensureOpen();
        ByteBuffer in = batches.duplicate();
        long next = logEndOffset();
        for (int pos = in.position(); pos < in.limit(); pos += BatchHeader.size(in, pos)) {
            String problem = BatchHeader.problem(in, pos, in.limit(), next, true, true);
            if (problem != null) {
                throw new IllegalArgumentException("Cannot append batch at buffer position " + pos + ": " + problem);
            }
            next = BatchHeader.lastOffset(in, pos) + 1;
        }
        if (in.remaining() == 0) {
            throw new IllegalArgumentException("No batches to append");
        }
        appendChecked(in, next - 1, -1, 0);
    }

    /**
     * Appends one complete v2 batch (buffer position..limit, nothing else) as the next batch of the log, stamped on
     * the way: its copy in the segment gets {@link #logEndOffset()} as its base offset and {@code leaderEpoch} as its
     * partition leader epoch, whatever the buffer holds there (neither field is under the batch CRC); the buffer
     * itself is not modified. For a Raft log whose entries are batches: the entry's position and term decide these
     * fields, not the proposer. Every other check of {@link #append(ByteBuffer, boolean)} runs.
     *
     * @throws IllegalArgumentException if the buffer does not hold exactly one valid batch
     */
    public synchronized void appendStamped(ByteBuffer batch, int leaderEpoch, boolean verifyCrc) throws IOException {
        ensureOpen();
        ByteBuffer in = batch.duplicate();
        int pos = in.position();
        String problem = in.remaining() < BatchHeader.OVERHEAD
            ? "only " + in.remaining() + " bytes, less than a batch header"
            : BatchHeader.problem(in, pos, in.limit(), BatchHeader.baseOffset(in, pos), verifyCrc);
        if (problem == null && BatchHeader.size(in, pos) != in.remaining()) {
            problem = "the buffer holds " + in.remaining() + " bytes, the batch " + BatchHeader.size(in, pos);
        }
        if (problem != null) {
            throw new IllegalArgumentException("Cannot append batch: " + problem);
        }
        long base = logEndOffset();
        appendChecked(in, base + BatchHeader.lastOffset(in, pos) - BatchHeader.baseOffset(in, pos), base,
            leaderEpoch);
    }

    /** Rolls if needed and appends validated batches ending at {@code lastOffset}; see LogSegment#append. */
    private void appendChecked(ByteBuffer in, long lastOffset, long stampBaseOffset, int stampEpoch)
        throws IOException {
        long nowMs = clockMs.getAsLong();
        LogSegment active = active();
        String reason = active.rollReason(in.remaining(), lastOffset, nowMs, config);
        if (reason != null) {
            active = roll(active, reason);
        }
        if (lastOffset - active.baseOffset() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Batches span more than 2^31 offsets");
        }
        if (tornWrites != null) {
            tornWrites.beforeAppend(in.remaining());
        }
        active.append(in, nowMs, stampBaseOffset, stampEpoch);
    }

    /**
     * Allocates disk blocks for appending {@code bytes} more to the active segment when they fit in it, so that a full
     * disk fails here, before anything is written (see {@link LogSegment#reserve}). When they would not fit, the
     * log rolls to a new segment first, as the append would.
     */
    public synchronized void reserve(int bytes) throws IOException {
        ensureOpen();
        LogSegment active = active();
        if (active.size() > 0 && (long) active.size() + bytes > config.segmentBytes()) {
            active = roll(active, "size");
        }
        active.reserve(active.size() + (long) bytes, bytes / BatchHeader.OVERHEAD + 1);
    }

    /**
     * Fetches batches from the one containing {@code startOffset} onward, from one segment only: only batches whose
     * last offset is below {@code maxOffsetExclusive}, at most {@code maxBytes} in total except that, if
     * {@code minOneBatch}, the first batch is returned whole even when larger. The result is a read-only view of
     * the mapped segment; it is {@link MemoryRecords#EMPTY} when nothing qualifies.
     *
     * @throws OffsetOutOfRangeException if {@code startOffset} is below the log start or above the log end offset
     */
    public MemoryRecords read(long startOffset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        List<LogSegment> segs = segments;
        long start = Math.max(startFloor, segs.get(0).baseOffset());
        long end = segs.get(segs.size() - 1).nextOffset();
        if (startOffset < start || startOffset > end) {
            throw new OffsetOutOfRangeException(startOffset, start, end);
        }
        if (startOffset == end || startOffset >= maxOffsetExclusive) {
            return MemoryRecords.EMPTY;
        }
        for (int i = floorSegment(segs, startOffset); i < segs.size(); i++) {
            MemoryRecords records = segs.get(i).read(startOffset, maxBytes, maxOffsetExclusive, minOneBatch);
            if (records != null) {
                return records;
            }
        }
        return MemoryRecords.EMPTY;
    }

    /**
     * Base offset of the batch that holds {@code offset}, or -1 when no batch does (the offset is below the first
     * segment or at or past the log end). With the log start inside a batch (DeleteRecords) the answer for the start
     * is below it. An offset-index lookup and a scan of at most an index interval of batch headers; any thread.
     */
    public long batchBaseContaining(long offset) {
        List<LogSegment> segs = segments;
        if (offset < segs.get(0).baseOffset() || offset >= segs.get(segs.size() - 1).nextOffset()) {
            return -1;
        }
        return segs.get(floorSegment(segs, offset)).queries().batchBaseContaining(offset);
    }

    /**
     * Removes every batch with base offset at least {@code offset}, which must be a batch boundary or the log end
     * offset. Truncating into an older segment deletes the later ones and makes it the active segment again.
     */
    public void truncateTo(long offset) throws IOException {
        synchronized (flushLock) { // never while a flush is between reading its range and marking it flushed
            truncateToLocked(offset);
        }
    }

    private synchronized void truncateToLocked(long offset) throws IOException {
        ensureOpen();
        List<LogSegment> segs = segments;
        if (offset == logEndOffset()) {
            return;
        }
        if (offset < logStartOffset() || offset > logEndOffset()) {
            throw new IllegalArgumentException("Truncation offset " + offset + " is outside the log range ["
                + logStartOffset() + ", " + logEndOffset() + "]");
        }
        int keep = floorSegment(segs, offset);
        LogSegment target = segs.get(keep);
        int position = target.positionOf(offset);
        if (position < 0) {
            throw new IllegalArgumentException("Truncation offset " + offset + " is not a batch boundary");
        }
        segments = List.copyOf(segs.subList(0, keep + 1));
        if (!target.isWritable()) {
            reopenedSealedSegments++;
        }
        for (int i = segs.size() - 1; i > keep; i--) {
            segs.get(i).delete();
        }
        directoryDirty |= keep < segs.size() - 1;
        target.truncateTo(offset, position, clockMs.getAsLong(), forcer);
        LOGGER.info("Truncated log {} to offset {}, deleting {} later segments", dir, offset, segs.size() - 1 - keep);
    }

    /** The earliest record with timestamp at least {@code timestampMs} among offsets below the limit. */
    public Optional<TimestampAndOffset> offsetForTimestamp(long timestampMs, long maxOffsetExclusive) {
        for (LogSegment segment : segments) {
            if (segment.baseOffset() >= maxOffsetExclusive) {
                break;
            }
            TimestampAndOffset found = segment.queries().firstAtOrAfter(timestampMs, maxOffsetExclusive);
            if (found != null) {
                return Optional.of(found);
            }
        }
        return Optional.empty();
    }

    /** The record with the largest timestamp (the earliest such) among offsets below the limit. */
    public Optional<TimestampAndOffset> maxTimestamp(long maxOffsetExclusive) {
        TimestampAndOffset best = null;
        for (LogSegment segment : segments) {
            if (segment.baseOffset() >= maxOffsetExclusive) {
                break;
            }
            TimestampAndOffset candidate = segment.queries().largestBelow(maxOffsetExclusive);
            if (candidate != null && (best == null || candidate.timestamp() > best.timestamp())) {
                best = candidate;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * Forces what was appended to the active segment since the last flush (sealed segments were forced when sealed;
     * the active segment's indexes are rebuilt from its data on recovery and need no force), and the directory if
     * segment files were created or deleted since. On return every batch appended before the call is on disk. Appends
     * proceed while the force runs.
     */
    public void flush() throws IOException {
        synchronized (flushLock) {
            LogSegment.DirtyRange range;
            boolean syncDirectory;
            synchronized (this) {
                ensureOpen();
                range = active().dirtyRange();
                syncDirectory = directoryDirty;
                directoryDirty = false;
            }
            try {
                if (!range.isEmpty()) {
                    forcer.force(range.data(), range.from(), range.to() - range.from());
                }
                if (syncDirectory) {
                    MappedFiles.syncDirectory(dir);
                }
            } catch (IOException | RuntimeException e) {
                synchronized (this) {
                    directoryDirty |= syncDirectory;
                }
                throw e;
            }
            synchronized (this) {
                range.segment().flushed(range);
            }
        }
    }

    /** As {@link #flush}, doing nothing once the log is closed (closing forced what it held). */
    public void flushIfOpen() throws IOException {
        synchronized (flushLock) {
            if (!closed) {
                flush();
            }
        }
    }

    /** Bytes of batch data in every segment (what {@code retention.bytes} limits); safe from any thread. */
    public long sizeInBytes() {
        long bytes = 0;
        for (LogSegment segment : segments) {
            bytes += segment.size();
        }
        return bytes;
    }

    /**
     * Seals the active segment and starts a new one at {@code baseOffset} (at least the log end offset; a compacted
     * log's next segment may start past its last batch), unless the active segment is empty: a replica copying a
     * leader's segments starts a segment where the leader's next one starts.
     */
    public synchronized void rollIfNotEmpty(long baseOffset, String reason) throws IOException {
        ensureOpen();
        LogSegment active = active();
        if (baseOffset < active.nextOffset()) {
            throw new IllegalArgumentException("a new segment cannot start at " + baseOffset + ", below the log end "
                + active.nextOffset());
        }
        if (active.size() > 0) {
            roll(active, reason, baseOffset);
        }
    }

    /** The base offset of the segment holding {@code offset} (the first segment's for an offset below it). */
    public long segmentBaseOf(long offset) {
        List<LogSegment> segs = segments;
        return segs.get(floorSegment(segs, offset)).baseOffset();
    }

    /** The base offset of every segment, oldest first. */
    public long[] segmentBaseOffsets() {
        List<LogSegment> segs = segments;
        long[] bases = new long[segs.size()];
        for (int i = 0; i < bases.length; i++) {
            bases[i] = segs.get(i).baseOffset();
        }
        return bases;
    }

    /** How many segments the log has (at least one); safe from any thread. */
    public int segmentCount() {
        return segments.size();
    }

    /** Every file of the log ({@code .log}, {@code .index}, {@code .timeindex} per segment) in offset order. */
    public List<Path> segmentFiles() {
        List<Path> files = new ArrayList<>();
        for (LogSegment segment : segments) {
            files.addAll(segment.files());
        }
        return files;
    }

    /**
     * Deletes the oldest segments, never the active one, that lie entirely below {@code belowOffset} and either are
     * older than {@code retentionMs} (by largest timestamp, or file modification time when none) or keep the log
     * above {@code retentionBytes}. Either limit may be -1 for unlimited. Advances the log start offset.
     *
     * @return the number of segments deleted
     */
    public int deleteOldSegments(long retentionMs, long retentionBytes, long belowOffset)
        throws IOException {
        synchronized (flushLock) { // never while a flush is between reading its range and marking it flushed
            return deleteOldSegmentsLocked(retentionMs, retentionBytes, belowOffset);
        }
    }

    private synchronized int deleteOldSegmentsLocked(long retentionMs, long retentionBytes, long belowOffset)
        throws IOException {
        ensureOpen();
        return advanceLogStart(retentionPoint(retentionMs, retentionBytes, belowOffset));
    }

    /**
     * Where {@link #deleteOldSegments} would move the log start: the base offset of the first segment it would keep,
     * or the current log start when it would delete nothing. Deletes nothing.
     */
    public long retentionPoint(long retentionMs, long retentionBytes, long belowOffset) throws IOException {
        List<LogSegment> segs = segments;
        long remainingBytes = 0;
        for (LogSegment segment : segs) {
            remainingBytes += segment.size();
        }
        long nowMs = clockMs.getAsLong();
        int deletable = 0;
        while (deletable < segs.size() - 1 && segs.get(deletable + 1).baseOffset() <= belowOffset) {
            LogSegment segment = segs.get(deletable);
            boolean expired = retentionMs >= 0 && nowMs - segment.largestTimestampOrMtime() > retentionMs;
            boolean oversize = retentionBytes >= 0 && remainingBytes - segment.size() >= retentionBytes;
            if (!expired && !oversize) {
                break;
            }
            remainingBytes -= segment.size();
            deletable++;
        }
        return Math.max(logStartOffset(), segs.get(deletable).baseOffset());
    }

    /** The segments, oldest first, the last one active; for the cleaner. */
    List<LogSegment> segments() {
        return segments;
    }

    Path dir() {
        return dir;
    }

    long firstDirtyOffset() {
        return firstDirtyOffset;
    }

    void cleaned(long firstDirty, long earliestDeleteHorizon) {
        firstDirtyOffset = firstDirty;
        earliestDeleteHorizonMs = earliestDeleteHorizon;
    }

    long earliestDeleteHorizonMs() {
        return earliestDeleteHorizonMs;
    }

    /** For the cleaner, before it reads segments: see {@link #replaceSegments}. */
    synchronized long reopenedSealedSegments() {
        return reopenedSealedSegments;
    }

    /**
     * Installs the cleaned copy {@code cleaned} (a forced, complete file of batches) in place of {@code group}, a run of
     * sealed segments: renames it to {@code <base>.swap} and syncs the directory (from here a crash completes the
     * swap on open, {@link SegmentRecovery#settleCleaning}), deletes the old segments' files, renames the swap file to
     * the first segment's {@code .log} name and syncs the directory again. Readers holding views of the old segments
     * keep reading them (their maps outlive the files). When the group is no longer a run of sealed segments of this
     * log (retention or a reset replaced them meanwhile), or a truncation reopened a sealed segment since the cleaner
     * read them ({@code reopenedSealed} is {@link #reopenedSealedSegments()} as it was then: the segment may have been
     * sealed again with other content), nothing is installed and the file is deleted.
     *
     * @return whether the cleaned segment was installed
     */
    boolean replaceSegments(List<LogSegment> group, Path cleaned, long reopenedSealed, LogCleaner.Faults faults)
        throws IOException {
        synchronized (flushLock) { // never while a flush is between reading its range and marking it flushed
            return replaceSegmentsLocked(group, cleaned, reopenedSealed, faults);
        }
    }

    private synchronized boolean replaceSegmentsLocked(List<LogSegment> group, Path cleaned, long reopenedSealed,
                                                       LogCleaner.Faults faults) throws IOException {
        ensureOpen();
        List<LogSegment> segs = segments;
        int first = -1;
        for (int i = 0; i < segs.size(); i++) {
            if (segs.get(i) == group.get(0)) {
                first = i;
            }
        }
        boolean intact = first >= 0 && first + group.size() < segs.size()
            && reopenedSealed == reopenedSealedSegments;
        for (int k = 0; intact && k < group.size(); k++) {
            intact = segs.get(first + k) == group.get(k) && !group.get(k).isWritable();
        }
        if (!intact) {
            Files.deleteIfExists(cleaned);
            return false;
        }
        long base = group.get(0).baseOffset();
        Path swap = dir.resolve(LogSegment.fileName(base, LogCleaner.SWAP_SUFFIX));
        Files.move(cleaned, swap, StandardCopyOption.ATOMIC_MOVE);
        faults.at(LogCleaner.Step.SWAP_RENAMED);
        MappedFiles.syncDirectory(dir);
        faults.at(LogCleaner.Step.SWAP_DURABLE);
        for (LogSegment old : group) {
            old.delete();
            faults.at(LogCleaner.Step.OLD_SEGMENT_DELETED);
        }
        Files.move(swap, dir.resolve(LogSegment.fileName(base, LogSegment.LOG_SUFFIX)),
            StandardCopyOption.ATOMIC_MOVE);
        faults.at(LogCleaner.Step.SWAP_INSTALLED);
        MappedFiles.syncDirectory(dir);
        LogSegment fresh = LogSegment.loadSealed(dir, base, config, true);
        List<LogSegment> next = new ArrayList<>(segs.subList(0, first));
        next.add(fresh);
        next.addAll(segs.subList(first + group.size(), segs.size()));
        segments = List.copyOf(next);
        return true;
    }

    /** Seals the active segment (trimming its files) and rejects further writes. */
    @Override
    public void close() throws IOException {
        synchronized (flushLock) { // never while a flush is between reading its range and marking it flushed
            closeLocked();
        }
    }

    private synchronized void closeLocked() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        active().seal();
        syncDirectoryIfDirty();
    }

    private void syncDirectoryIfDirty() throws IOException {
        if (directoryDirty) {
            MappedFiles.syncDirectory(dir);
            directoryDirty = false;
        }
    }

    private LogSegment roll(LogSegment active, String reason) throws IOException {
        return roll(active, reason, active.nextOffset());
    }

    private LogSegment roll(LogSegment active, String reason, long baseOffset) throws IOException {
        active.seal();
        LogSegment next = LogSegment.create(dir, baseOffset, config);
        List<LogSegment> segs = new ArrayList<>(segments);
        segs.add(next);
        segments = List.copyOf(segs);
        directoryDirty = true;
        LOGGER.info("Rolled segment {} of log {} ({}); new segment starts at offset {}", active.baseOffset(), dir,
            reason, next.baseOffset());
        return next;
    }

    private LogSegment active() {
        List<LogSegment> segs = segments;
        return segs.get(segs.size() - 1);
    }

    /** Index of the last segment whose base offset is at most {@code offset} (0 if none). */
    private static int floorSegment(List<LogSegment> segs, long offset) {
        int lo = 0;
        int hi = segs.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (segs.get(mid).baseOffset() <= offset) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("Log " + dir + " is closed");
        }
    }
}
