package io.fluxmq.raft.engine;

import io.fluxmq.raft.log.SegmentLog;
import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.RaftLog;
import io.fluxmq.raftcore.Snapshot;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import org.apache.kafka.common.record.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A partition's segment log as its Raft log (docs/adr/0003, step 2): one entry is one Kafka v2 record batch, stored
 * once, with the batch's base offset as the entry's position, its offset span as the entry's count and its partition
 * leader epoch as the entry's term; leader changes and voter sets are control batches ({@link EntryBatches}).
 *
 * <p><b>Who stamps what.</b> {@code RaftGroup.propose(data, count, nowMs)} appends
 * {@code Entry.data(endOffset, count, term, data)} with the proposer's bytes as they are (through
 * {@code RaftEngine.propose} the proposer cannot know the offset: it is taken on the group's loop). {@link #append}
 * stores the batch with the entry's base offset and
 * term written into the segment's copy ({@link SegmentLog#appendStamped}); the proposer's buffer is not touched and
 * need not be stamped (neither field is under the batch CRC). The record count is under the CRC: the entry's count
 * must equal the batch's offset span. Every batch's CRC is checked on append (a follower's entries came over the
 * network; the leader's own are checked once more, a cost to remove when the replica layer checked them already).
 *
 * <p><b>Term queries</b> come from a {@link LeaderEpochCache} (term → first offset) rebuilt on open by one scan of the
 * batch headers from the log start, and kept up to date by append, truncation, compaction and reset; entry
 * boundaries inside a term come from the segment's offset index and a scan of at most an index interval
 * ({@link SegmentLog#batchBaseContaining}). Configuration entries are kept apart (found by the same scan).
 *
 * <p><b>Log start.</b> {@link #startOffset()} is the segment log's start. It moves by {@link #compact} (retention)
 * and {@link #reset} (a snapshot installed from the leader), never otherwise: the {@link Snapshot} the log starts
 * from (offset, term before it, voters, the owner's state) is first written durably to {@code raft-snapshot}
 * ({@link LogStartSnapshot}), then segments are deleted or replaced. On open, a start inside the segments at an entry
 * boundary is restored; a start past their end or not at a boundary (a crash in the middle of a reset) empties the
 * log to start there. A log whose first segment starts above 0 without that file, a snapshot below the first segment,
 * or a corrupt file fail the open: the term before the start would be a guess. Calling
 * {@code segmentLog().advanceLogStart} directly would bypass the snapshot; do not.
 *
 * <p><b>Durability.</b> Appends and truncations write the mapped segments; {@link #force} makes them durable
 * ({@link SegmentLog#flush}: the active segment's new bytes and the directory after a roll or deletion; sealed
 * segments were forced when sealed). On open the recovered tail is forced before anything else, since
 * {@code RaftGroup} counts everything in the log it starts from as durable.
 *
 * <p><b>Views.</b> A DATA entry read from the log is a read-only view of the mapped segment, valid as long as the log
 * is not truncated below its end: truncation zeroes the removed bytes. A transport that encodes messages after the loop
 * pass that built them must copy; a zeroed batch fails the receiver's checks rather than being stored.
 *
 * <p>Not thread-safe: the thread driving the group (its event loop). Other threads may read
 * {@link #segmentLog()} concurrently (Kafka fetches), as {@link SegmentLog} allows, and the log cleaner may swap in
 * compacted copies of committed sealed segments ({@code EnginePartition.compact}): it keeps every batch with its
 * offsets and term, so the term cache, the configuration entries and entry boundaries stay true, and entry views
 * taken before a swap stay readable.
 */
public final class SegmentRaftLog implements RaftLog, Closeable {

    private static final Logger LOGGER = LoggerFactory.getLogger(SegmentRaftLog.class);

    private final Path dir;
    private final SegmentLog segments;
    private final LeaderEpochCache epochs = new LeaderEpochCache();
    private final TreeMap<Long, Entry> configs = new TreeMap<>();
    /** What the log starts from; its term is the term of the entry before {@link #startOffset()}. */
    private Snapshot snapshot = Snapshot.NONE;
    /** Everything below is on disk, unless {@link #truncatedSinceForce}. */
    private long forcedEnd;
    /** A truncation removed segments whose deletion is not yet durable in the directory, or re-appends may follow. */
    private boolean truncatedSinceForce;
    /** The node's write-ahead log once {@link #attachWal} was called, else null (this log is forced on its own). */
    private WriteAheadLog wal;
    private long groupId;
    /** With a write-ahead log: below this offset what the log holds is in the write-ahead log or on disk. */
    private long loggedEnd;
    /** With a write-ahead log: the lowest truncation below {@link #loggedEnd} not yet recorded there, else -1. */
    private long unloggedTruncation = -1;

    private SegmentRaftLog(Path dir, SegmentLog segments) {
        this.dir = dir;
        this.segments = segments;
    }

    /** Opens (or creates) the log in {@code dir}: recovers the segments, rebuilds the term cache, forces the tail. */
    public static SegmentRaftLog open(Path dir, SegmentLogConfig config, LongSupplier clockMs) throws IOException {
        return open(dir, SegmentLog.open(dir, config, clockMs));
    }

    /** As {@link #open(Path, SegmentLogConfig, LongSupplier)}; see {@link SegmentLog#open(Path, SegmentLogConfig,
     * LongSupplier, boolean)} for {@code deferDirectorySync}. */
    public static SegmentRaftLog open(Path dir, SegmentLogConfig config, LongSupplier clockMs,
                                      boolean deferDirectorySync) throws IOException {
        return open(dir, SegmentLog.open(dir, config, clockMs, deferDirectorySync));
    }

    /** Over a segment log just opened on {@code dir} (tests give one whose forces they record); closes it on failure. */
    static SegmentRaftLog open(Path dir, SegmentLog segments) throws IOException {
        try {
            SegmentRaftLog log = new SegmentRaftLog(dir, segments);
            log.recover();
            return log;
        } catch (IOException | RuntimeException e) {
            segments.close();
            throw e;
        }
    }

    private void recover() throws IOException {
        long first = segments.logStartOffset();
        Snapshot start = LogStartSnapshot.read(dir);
        if (start == null) {
            if (first != 0) {
                throw new IOException("Raft log " + dir + " starts at offset " + first + " without "
                    + LogStartSnapshot.FILE + ": the term before its start is unknown");
            }
        } else {
            long offset = start.offset();
            long end = segments.logEndOffset();
            if (offset < first) {
                throw new IOException("Raft log " + dir + ": " + LogStartSnapshot.FILE + " says the log starts at "
                    + offset + " but the segments start at " + first);
            }
            if (offset > end || (offset < end && segments.batchBaseContaining(offset) != offset)) {
                // A reset was cut short: what the segments hold is older than the snapshot or diverged from it.
                LOGGER.warn("Raft log {}: segments [{}, {}) do not start at the snapshot's offset {}; emptying the log",
                    dir, first, end, offset);
                if (end > first) {
                    segments.truncateTo(first);
                }
                if (offset > first) {
                    segments.resetTo(offset);
                }
            } else {
                segments.advanceLogStart(offset);
            }
            snapshot = start;
        }
        scan();
        segments.flush();
        forcedEnd = endOffset();
        LOGGER.info("Raft log {}: offsets [{}, {}), {} terms, {} configuration entries, starts from {}", dir,
            startOffset(), endOffset(), epochs.size(), configs.size(), snapshot);
    }

    /** Reads every batch header from the start once: terms, configuration entries, boundaries checked. */
    private void scan() throws IOException {
        long next = startOffset();
        long end = endOffset();
        while (next < end) {
            ByteBuffer buf = segments.read(next, Integer.MAX_VALUE, Long.MAX_VALUE, true).buffer();
            if (!buf.hasRemaining()) {
                throw new IOException("Raft log " + dir + ": no batch at offset " + next + " below the end " + end);
            }
            for (int pos = buf.position(); pos < buf.limit(); ) {
                int size = EntryBatches.size(buf, pos, buf.limit());
                long base = size < 0 ? -1 : EntryBatches.baseOffset(buf, pos);
                if (base != next) {
                    throw new IOException("Raft log " + dir + ": expected a batch at offset " + next + ", found "
                        + (size < 0 ? "none" : "one at " + base) + " (the start must be an entry boundary)");
                }
                long term = EntryBatches.partitionLeaderEpoch(buf, pos);
                if (term < 1) {
                    throw new IOException("Raft log " + dir + ": batch at " + base + " has leader epoch " + term
                        + ", not a Raft term");
                }
                try {
                    epochs.assign(term, base);
                } catch (IllegalArgumentException e) {
                    throw new IOException("Raft log " + dir + ": terms decrease at offset " + base, e);
                }
                if (EntryBatches.isControl(buf, pos) && EntryBatches.kind(buf, pos, size) == Entry.Kind.CONFIG) {
                    configs.put(base, EntryBatches.toEntry(buf, pos, size));
                }
                next = base + EntryBatches.offsetCount(buf, pos);
                pos += size;
            }
        }
    }

    /** The segment log underneath, for Kafka reads (fetch, offsets by time) from any thread. Do not write to it. */
    public SegmentLog segmentLog() {
        return segments;
    }

    @Override
    public long startOffset() {
        return segments.logStartOffset();
    }

    @Override
    public long startTerm() {
        return snapshot.term();
    }

    @Override
    public Snapshot snapshot() {
        return snapshot;
    }

    @Override
    public long endOffset() {
        return segments.logEndOffset();
    }

    @Override
    public long lastTerm() {
        return endOffset() == startOffset() ? snapshot.term() : epochs.lastTerm();
    }

    @Override
    public long termOfEntryEndingAt(long lastOffset) {
        long start = startOffset();
        long end = endOffset();
        if (lastOffset == start - 1) {
            return snapshot.term();
        }
        if (lastOffset < start || lastOffset >= end) {
            return -1;
        }
        long next = lastOffset + 1;
        if (next != end && !epochs.isTermStart(next) && segments.batchBaseContaining(next) != next) {
            return -1;
        }
        return epochs.termAt(lastOffset);
    }

    @Override
    public long endOffsetForTerm(long term) {
        return Math.max(startOffset(), epochs.startOfTermAfter(term, endOffset()));
    }

    @Override
    public long floorBoundary(long offset) {
        long start = startOffset();
        long end = endOffset();
        if (offset >= end) {
            return end;
        }
        if (offset <= start || epochs.isTermStart(offset)) {
            return Math.max(offset, start);
        }
        long base = segments.batchBaseContaining(offset);
        if (base < start) {
            throw new IllegalStateException("Raft log " + dir + ": no batch holds offset " + offset + " in ["
                + start + ", " + end + ")");
        }
        return base;
    }

    @Override
    public List<Entry> read(long fromOffset, int maxBytes) {
        long end = endOffset();
        if (fromOffset == end) {
            return List.of();
        }
        if (fromOffset < startOffset() || fromOffset > end) {
            throw new IllegalArgumentException(fromOffset + " is outside " + this);
        }
        List<Entry> read = new ArrayList<>();
        long bytes = 0;
        long next = fromOffset;
        while (next < end) {
            int ask = (int) Math.max(0, Math.min(Integer.MAX_VALUE, (long) maxBytes - bytes));
            MemoryRecords view = segments.read(next, ask, Long.MAX_VALUE, true);
            ByteBuffer buf = view.buffer();
            if (!buf.hasRemaining()) {
                throw new IllegalStateException("Raft log " + dir + ": no batch at " + next + " below the end " + end);
            }
            for (int pos = buf.position(); pos < buf.limit(); ) {
                int size = EntryBatches.size(buf, pos, buf.limit());
                Entry entry = EntryBatches.toEntry(buf, pos, size);
                if (entry.baseOffset() != next) {
                    throw new IllegalArgumentException(fromOffset + " is not the start of an entry in " + this);
                }
                if (!read.isEmpty() && bytes + entry.sizeInBytes() > maxBytes) {
                    return read;
                }
                read.add(entry);
                bytes += entry.sizeInBytes();
                next = entry.endOffset();
                pos += size;
            }
        }
        return read;
    }

    @Override
    public void append(Entry entry) {
        append(entry, true);
    }

    /** The leader's own proposals: their batch's CRC was checked before it was proposed ({@code EnginePartition}). */
    @Override
    public void appendProposed(Entry entry) {
        append(entry, false);
    }

    private void append(Entry entry, boolean verifyCrc) {
        if (entry.baseOffset() != endOffset()) {
            throw new IllegalArgumentException("append of " + entry + " at the end " + endOffset());
        }
        if (entry.term() < lastTerm()) {
            throw new IllegalArgumentException("append of " + entry + " after term " + lastTerm());
        }
        int epoch = EntryBatches.epoch(entry.term());
        try {
            if (entry.kind() == Entry.Kind.DATA) {
                ByteBuffer batch = entry.data();
                int size = EntryBatches.size(batch, batch.position(), batch.limit());
                if (size != batch.remaining()) {
                    throw new IllegalArgumentException(entry + " is not one record batch (" + batch.remaining()
                        + " bytes, batch " + size + ")");
                }
                if (EntryBatches.offsetCount(batch, batch.position()) != entry.count()) {
                    throw new IllegalArgumentException(entry + " holds a batch of "
                        + EntryBatches.offsetCount(batch, batch.position()) + " offsets");
                }
                if (EntryBatches.isControl(batch, batch.position())
                    && EntryBatches.kind(batch, batch.position(), size) != Entry.Kind.DATA) {
                    throw new IllegalArgumentException(entry + " is a control batch of the type Raft's own entries use");
                }
                segments.appendStamped(batch, epoch, verifyCrc);
            } else {
                segments.append(EntryBatches.controlBatch(entry), false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Raft log " + dir + ": append of " + entry, e);
        }
        epochs.assign(entry.term(), entry.baseOffset());
        if (entry.kind() == Entry.Kind.CONFIG) {
            configs.put(entry.baseOffset(), entry);
        }
    }

    @Override
    public void truncateTo(long endOffset) {
        long end = endOffset();
        if (endOffset < startOffset() || floorBoundary(endOffset) != Math.min(endOffset, end)) {
            throw new IllegalArgumentException("truncation to " + endOffset + " is not at an entry boundary of "
                + this);
        }
        if (endOffset >= end) {
            return;
        }
        try {
            segments.truncateTo(endOffset);
        } catch (IOException e) {
            throw new UncheckedIOException("Raft log " + dir + ": truncation to " + endOffset, e);
        }
        epochs.truncateFromEnd(endOffset);
        configs.tailMap(endOffset, true).clear();
        forcedEnd = Math.min(forcedEnd, endOffset);
        truncatedSinceForce = true;
        if (endOffset < loggedEnd) {
            loggedEnd = endOffset;
            unloggedTruncation = unloggedTruncation < 0 ? endOffset : Math.min(unloggedTruncation, endOffset);
        }
    }

    @Override
    public List<Entry> configEntries() {
        return List.copyOf(configs.values());
    }

    /** Whether {@link #force} would have to touch the disk for {@code endOffset}. */
    public boolean needsForce(long endOffset) {
        return endOffset > forcedEnd || truncatedSinceForce;
    }

    /**
     * Makes the log durable at least below {@code endOffset} (a {@code Ready}'s persist end): does nothing when that
     * is already on disk, else forces everything appended so far and, after a roll or a truncation, the directory.
     */
    public void force(long endOffset) throws IOException {
        if (!needsForce(endOffset)) {
            return;
        }
        long end = endOffset();
        segments.flush();
        forcedEnd = end;
        truncatedSinceForce = false;
    }

    /**
     * Drops the entries below {@code next.offset()} (retention): forces the log up to there, writes the snapshot
     * durably, then deletes the segments wholly below it (the segment holding the start stays, read from the start).
     */
    @Override
    public void compact(Snapshot next) {
        long offset = next.offset();
        if (offset <= startOffset()) {
            return;
        }
        if (offset > endOffset() || floorBoundary(offset) != offset) {
            throw new IllegalArgumentException("compaction to " + offset + " is not at an entry boundary of " + this);
        }
        if (termOfEntryEndingAt(offset - 1) != next.term()) {
            throw new IllegalArgumentException(next + " does not match the entry ending before it in " + this);
        }
        try {
            force(offset);
            LogStartSnapshot.write(dir, next);
            segments.advanceLogStart(offset);
        } catch (IOException e) {
            throw new UncheckedIOException("Raft log " + dir + ": compaction to " + offset, e);
        }
        epochs.truncateFromStart(offset, endOffset());
        configs.headMap(offset, false).clear();
        snapshot = next;
    }

    /**
     * Replaces the whole log by an empty one starting at {@code next.offset()} (a snapshot from the leader): the
     * snapshot is written durably first, then the segments are emptied and a new one starts at the offset.
     */
    @Override
    public void reset(Snapshot next) {
        long offset = next.offset();
        if (offset < startOffset()) {
            throw new IllegalArgumentException("reset to " + next + " below the start of " + this);
        }
        try {
            if (wal != null) { // first: once the snapshot is written, no record before this may apply to the log
                WriteAheadLog.Batch reset = new WriteAheadLog.Batch();
                reset.add(WriteAheadLog.RESET, groupId, offset, null, segments);
                wal.submitSync(reset);
            }
            LogStartSnapshot.write(dir, next);
            if (endOffset() > startOffset()) {
                segments.truncateTo(startOffset());
            }
            if (offset > startOffset()) {
                segments.resetTo(offset);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Raft log " + dir + ": reset to " + next, e);
        }
        epochs.truncateFromEnd(Long.MIN_VALUE);
        configs.clear();
        snapshot = next;
        forcedEnd = offset;
        truncatedSinceForce = true;
        loggedEnd = offset;
        unloggedTruncation = -1;
    }

    /**
     * From now on this log's changes are made durable through the node's write-ahead log ({@link #logTo}) instead of
     * forces of its own; what it holds now must be on disk (it was just opened, and replayed).
     */
    public void attachWal(WriteAheadLog wal, long groupId) {
        this.wal = wal;
        this.groupId = groupId;
        this.loggedEnd = endOffset();
        this.unloggedTruncation = -1;
    }

    /** With a write-ahead log: whether {@link #logTo} has anything to record for {@code endOffset}. */
    public boolean needsLogging(long endOffset) {
        return endOffset > loggedEnd || unloggedTruncation >= 0;
    }

    /**
     * Adds to {@code batch} what the write-ahead log lacks of this log below {@code endOffset} (an entry boundary at
     * or below the end): a truncation, then the stored batches from where the last records ended, copied.
     */
    public void logTo(WriteAheadLog.Batch batch, long endOffset) {
        if (unloggedTruncation >= 0) {
            batch.add(WriteAheadLog.TRUNCATE, groupId, unloggedTruncation, null, segments);
            unloggedTruncation = -1;
        }
        long end = Math.min(endOffset, endOffset());
        long next = loggedEnd;
        while (next < end) {
            ByteBuffer buf = segments.read(next, Integer.MAX_VALUE, end, true).buffer();
            if (!buf.hasRemaining()) {
                throw new IllegalStateException("Raft log " + dir + ": no batch at " + next + " below " + end);
            }
            long from = next;
            for (int pos = buf.position(); pos < buf.limit(); ) {
                int size = EntryBatches.size(buf, pos, buf.limit());
                next = EntryBatches.baseOffset(buf, pos) + EntryBatches.offsetCount(buf, pos);
                pos += size;
            }
            batch.add(WriteAheadLog.APPEND, groupId, from, buf, segments);
        }
        loggedEnd = Math.max(loggedEnd, end);
    }

    /**
     * Applies one record of the write-ahead log on opening (before {@link #attachWal}), so the log holds at least
     * what the record says it held: batches it lacks or holds differently are written again (what follows a
     * differing batch is cut first), truncations and resets it missed are done. Returns 1 if the log changed.
     *
     * @throws IOException when the record cannot apply: an append past the log's end, or inside one of its batches
     */
    int replay(WriteAheadLog.Record record) throws IOException {
        long start = startOffset();
        switch (record.type()) {
            case WriteAheadLog.TRUNCATE -> {
                long to = record.offset();
                if (to < start || to >= endOffset()) {
                    return 0;
                }
                if (floorBoundary(to) != to) {
                    throw new IOException("Raft log " + dir + ": the write-ahead log truncates it to " + to
                        + ", inside a batch of " + this);
                }
                truncateTo(to);
                return 1;
            }
            case WriteAheadLog.RESET -> {
                if (start != record.offset() || endOffset() == start) {
                    return 0; // the reset did not reach the log start snapshot, or the log is already empty
                }
                truncateTo(start);
                return 1;
            }
            case WriteAheadLog.APPEND -> {
                return replayAppend(record.payload());
            }
            default -> throw new IOException("Raft log " + dir + ": unexpected write-ahead record " + record.type());
        }
    }

    private int replayAppend(ByteBuffer batches) throws IOException {
        int changed = 0;
        for (int pos = batches.position(); pos < batches.limit(); ) {
            int size = EntryBatches.size(batches, pos, batches.limit());
            if (size < 0) {
                throw new IOException("Raft log " + dir + ": a bad batch in a write-ahead record at " + pos);
            }
            long base = EntryBatches.baseOffset(batches, pos);
            long next = base + EntryBatches.offsetCount(batches, pos);
            ByteBuffer batch = batches.slice(pos, size);
            pos += size;
            if (next <= startOffset()) {
                continue;
            }
            long end = endOffset();
            if (base < end) {
                if (floorBoundary(base) != base) {
                    throw new IOException("Raft log " + dir + ": a write-ahead record's batch at " + base
                        + " starts inside a batch of " + this);
                }
                ByteBuffer held = segments.read(base, 1, Long.MAX_VALUE, true).buffer();
                int heldSize = EntryBatches.size(held, held.position(), held.limit());
                if (heldSize == size && held.slice(held.position(), heldSize).equals(batch)) {
                    continue;
                }
                truncateTo(base);
                end = base;
            }
            if (base > end) {
                throw new IOException("Raft log " + dir + ": a write-ahead record's batch at " + base
                    + " lies past the log's end " + end + " (records or segments are missing)");
            }
            append(EntryBatches.toEntry(batch, 0, size));
            changed = 1;
        }
        return changed;
    }

    @Override
    public void close() throws IOException {
        segments.close();
    }

    @Override
    public String toString() {
        return "SegmentRaftLog[" + dir + " " + startOffset() + ".." + endOffset() + ", " + epochs + "]";
    }
}
