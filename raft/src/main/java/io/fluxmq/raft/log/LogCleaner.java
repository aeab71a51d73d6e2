package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecords.RecordFilter.BatchRetention;
import org.apache.kafka.common.record.MemoryRecords.RecordFilter.BatchRetentionResult;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.CloseableIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Log compaction of one {@link SegmentLog}, as Kafka's log cleaner does it: keeps the latest record of every key, and
 * a tombstone (null value) only until its delete horizon.
 *
 * <p>A pass ({@link #clean}): the cleanable part of the log is its sealed segments that lie entirely below
 * {@code cleanableBelow} (the caller's bound: committed, and on the Ratis engine purged from the Raft log) and whose
 * newest record is older than {@code min.compaction.lag.ms}; never the active segment. Of that part, the segments from
 * the first dirty offset on (not cleaned yet) are dirty. When dirty bytes / cleanable bytes reach
 * {@code min.cleanable.dirty.ratio} (or a retained tombstone's delete horizon has passed), the pass maps every key of
 * the dirty segments to its latest offset ({@link OffsetMap}, stopping at a segment boundary when the map's budget is
 * used up), then rewrites the log from its start to the end of the mapped segments, in groups of consecutive segments
 * of at most {@code segment.bytes} together, each into one new segment named by the group's first base offset:
 * <ul>
 *   <li>a record is kept if no later offset of the mapped part holds its key, and it is not a tombstone past the
 *       delete horizon of its batch; a record without a key is dropped (Kafka refuses them on compacted topics);</li>
 *   <li>batches keep their base offset, last offset delta, producer fields and partition leader epoch; a batch that
 *       loses records is rewritten with the survivors at their offsets (kafka-clients' {@code MemoryRecords.filterTo},
 *       which is what Kafka's cleaner uses); a batch that loses all its records disappears
 *       ({@link EmptyBatches#DROP}), except the last batch of a group, which stays as an empty batch so that the
 *       group's offset range, and so every segment's next offset, is unchanged; or every such batch stays as an empty
 *       batch ({@link EmptyBatches#KEEP}, the multi-Raft engine: each batch is a Raft entry, and the Raft log keeps
 *       every entry's offset range and term);</li>
 *   <li>a batch with a tombstone gets its delete horizon (now + {@code delete.retention.ms}) on the first pass that
 *       sees it (filterTo stamps it in the batch, KIP-534), so tombstones are dropped by a later pass;</li>
 *   <li>transactional batches and control batches (transaction markers) are kept whole and their records stay out of
 *       the key map: FluxMQ's cleaner does not resolve which transactions aborted (docs/storage.md).</li>
 * </ul>
 * A group whose bytes do not change is not rewritten. A rewritten group goes to {@code <base>.cleaned}, is forced,
 * and is installed by {@link SegmentLog#replaceSegments} (crash-safe swap, settled on open by
 * {@link SegmentRecovery#settleCleaning}). Reads and appends go on meanwhile; the swap takes the log's lock only to
 * rename and delete files and rebuild the new segment's indexes.
 *
 * <p>Time is the injected clock, so replicas clean at different moments and a tombstone's horizon differs by replica:
 * replicas agree on every key's latest value, and may differ, as Kafka's do, in which superseded records and tombstones
 * are still there.
 *
 * <p>Thread-safety: one cleaner thread per node calls {@link #clean}, never two at once on the same log.
 */
public final class LogCleaner {

    static final String CLEANED_SUFFIX = ".cleaned";
    static final String SWAP_SUFFIX = ".swap";
    private static final Logger LOGGER = LoggerFactory.getLogger(LogCleaner.class);

    /** What becomes of a batch that loses all its records. */
    public enum EmptyBatches {
        /** It goes, except the last batch of a rewritten group; the log gets offset gaps (the ratis engine). */
        DROP,
        /**
         * It stays as an empty batch (a 61-byte header with its base and last offset, partition leader epoch, producer
         * id, epoch and base sequence): every batch keeps its offset range, so a log whose batches are Raft entries
         * stays contiguous (the multi-Raft engine).
         */
        KEEP
    }

    /** Points of the swap where a test makes the "power" fail. */
    public enum Step { CLEANED_WRITTEN, SWAP_RENAMED, SWAP_DURABLE, OLD_SEGMENT_DELETED, SWAP_INSTALLED }

    /** Fault injection for crash tests; {@link #NONE} in production. */
    @FunctionalInterface
    public interface Faults {
        Faults NONE = step -> { };

        void at(Step step) throws IOException;
    }

    private final CleanerThrottle throttle;
    private final long dedupeBufferBytes;
    private final LongSupplier clockMs;
    private final Faults faults;

    public LogCleaner(CleanerThrottle throttle, long dedupeBufferBytes, LongSupplier clockMs) {
        this(throttle, dedupeBufferBytes, clockMs, Faults.NONE);
    }

    public LogCleaner(CleanerThrottle throttle, long dedupeBufferBytes, LongSupplier clockMs, Faults faults) {
        this.throttle = throttle;
        this.dedupeBufferBytes = dedupeBufferBytes;
        this.clockMs = clockMs;
        this.faults = faults;
    }

    /** {@link #clean(SegmentLog, long, CompactionPolicy, EmptyBatches)} dropping emptied batches (the ratis engine). */
    public CleanResult clean(SegmentLog log, long cleanableBelow, CompactionPolicy policy)
        throws IOException, InterruptedException {
        return clean(log, cleanableBelow, policy, EmptyBatches.DROP);
    }

    /**
     * One pass over {@code log}, cleaning only below {@code cleanableBelow}; see the class comment.
     *
     * @throws InterruptedException when the throttle's sleep is interrupted (the node shuts down); nothing is installed
     */
    public CleanResult clean(SegmentLog log, long cleanableBelow, CompactionPolicy policy, EmptyBatches emptyBatches)
        throws IOException, InterruptedException {
        long nowMs = clockMs.getAsLong();
        long reopenedSealed = log.reopenedSealedSegments();
        List<LogSegment> segs = log.segments();
        int limit = 0;
        while (limit < segs.size() - 1 && segs.get(limit + 1).baseOffset() <= cleanableBelow
            && nowMs - segs.get(limit).largestTimestampOrMtime() >= policy.minCompactionLagMs()) {
            limit++;
        }
        if (limit == 0) {
            return skipped(log, segs.size() < 2 ? "one segment only"
                : String.format("no cleanable segment (cleanable below %d, second segment at %d)", cleanableBelow,
                    segs.get(1).baseOffset()));
        }
        long firstDirty = Math.max(log.firstDirtyOffset(), segs.get(0).baseOffset());
        int firstDirtyIndex = 0;
        while (firstDirtyIndex < limit && segs.get(firstDirtyIndex + 1).baseOffset() <= firstDirty) {
            firstDirtyIndex++;
        }
        long cleanBytes = 0;
        long dirtyBytes = 0;
        for (int i = 0; i < limit; i++) {
            if (i < firstDirtyIndex) {
                cleanBytes += segs.get(i).size();
            } else {
                dirtyBytes += segs.get(i).size();
            }
        }
        double ratio = cleanBytes + dirtyBytes == 0 ? 0 : (double) dirtyBytes / (cleanBytes + dirtyBytes);
        boolean horizonPassed = log.earliestDeleteHorizonMs() <= nowMs;
        if (dirtyBytes == 0 && !horizonPassed) {
            return skipped(log, String.format("nothing dirty below %d (first dirty offset %d, earliest delete horizon "
                + "%d ms ahead)", segs.get(limit).baseOffset(), firstDirty, log.earliestDeleteHorizonMs() - nowMs));
        }
        if (ratio < policy.minCleanableDirtyRatio() && !horizonPassed) {
            return skipped(log, String.format("dirty ratio %.3f below %.3f", ratio, policy.minCleanableDirtyRatio()));
        }
        OffsetMap map = new OffsetMap(dedupeBufferBytes);
        int mappedEnd = firstDirtyIndex;
        while (mappedEnd < limit && (mappedEnd == firstDirtyIndex || !map.isFull())) {
            mapKeys(segs.get(mappedEnd), map);
            mappedEnd++;
        }
        int cleanEnd = Math.max(mappedEnd, firstDirtyIndex);
        long cleanedUpTo = segs.get(cleanEnd).baseOffset();

        long bytesRead = 0;
        long bytesWritten = 0;
        long removed = 0;
        int replaced = 0;
        long earliestHorizon = Long.MAX_VALUE;
        int segmentBytes = log.config().segmentBytes();
        for (int start = 0; start < cleanEnd; ) {
            int end = start + 1;
            long groupBytes = segs.get(start).size();
            while (end < cleanEnd && groupBytes + segs.get(end).size() <= segmentBytes
                && segs.get(end + 1).baseOffset() - segs.get(start).baseOffset() <= Integer.MAX_VALUE) {
                groupBytes += segs.get(end).size();
                end++;
            }
            GroupResult g = cleanGroup(log, segs.subList(start, end), map, policy, emptyBatches, nowMs,
                reopenedSealed);
            bytesRead += g.bytesRead;
            bytesWritten += g.bytesWritten;
            removed += g.recordsRemoved;
            earliestHorizon = Math.min(earliestHorizon, g.earliestHorizon);
            replaced += g.installed ? 1 : 0;
            start = end;
        }
        log.cleaned(cleanedUpTo, earliestHorizon);
        CleanResult result = new CleanResult(cleanEnd, replaced, bytesRead, bytesWritten, removed, "cleaned");
        if (replaced == 0) {
            LOGGER.debug("Log {}: a pass up to offset {} changed nothing ({} segments, {} keys mapped)", log.dir(),
                cleanedUpTo, cleanEnd, map.size());
        } else {
            LOGGER.info("Cleaned log {} up to offset {}: {} segments into {}, {} -> {} bytes, {} records removed "
                    + "({} keys mapped, dirty ratio {})", log.dir(), cleanedUpTo, cleanEnd, replaced, bytesRead,
                bytesWritten, removed, map.size(), String.format("%.3f", ratio));
        }
        return result;
    }

    /** A pass that did nothing, and why; at DEBUG (a compacted partition has one such pass every backoff). */
    private static CleanResult skipped(SegmentLog log, String reason) {
        LOGGER.debug("Log {}: nothing to clean: {}", log.dir(), reason);
        return CleanResult.skipped(reason);
    }

    /** Puts the key of every record of the segment's non-transactional data batches into the map. */
    private void mapKeys(LogSegment segment, OffsetMap map) throws InterruptedException {
        MemoryRecords records = MemoryRecords.readableRecords(segment.batches());
        for (MutableRecordBatch batch : records.batches()) {
            if (batch.isControlBatch() || batch.isTransactional()) {
                continue;
            }
            try (CloseableIterator<Record> it = batch.streamingIterator(BufferSupplier.NO_CACHING)) {
                while (it.hasNext()) {
                    Record record = it.next();
                    if (record.hasKey()) {
                        map.put(record.key(), record.offset());
                    }
                }
            }
        }
        throttle.acquire(segment.size());
    }

    private static final class GroupResult {
        long bytesRead;
        long bytesWritten;
        long recordsRemoved;
        long earliestHorizon = Long.MAX_VALUE;
        boolean installed;
    }

    private GroupResult cleanGroup(SegmentLog log, List<LogSegment> group, OffsetMap map, CompactionPolicy policy,
                                   EmptyBatches emptyBatches, long nowMs, long reopenedSealed)
        throws IOException, InterruptedException {
        GroupResult result = new GroupResult();
        Path cleaned = log.dir().resolve(LogSegment.fileName(group.get(0).baseOffset(), CLEANED_SUFFIX));
        boolean changed = false;
        try (FileChannel out = FileChannel.open(cleaned, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            for (int s = 0; s < group.size(); s++) {
                ByteBuffer data = group.get(s).batches();
                int size = data.limit();
                for (int pos = 0; pos < size; ) {
                    int next = SegmentQueries.nextBatch(data, pos, size);
                    if (next < 0) {
                        throw new IOException("segment " + group.get(s).baseOffset() + " of " + log.dir()
                            + " has no readable batch at position " + pos);
                    }
                    boolean keepEmpty = emptyBatches == EmptyBatches.KEEP || (s == group.size() - 1 && next == size);
                    ByteBuffer in = data.slice(pos, next - pos);
                    MemoryRecords.FilterResult filtered = MemoryRecords.readableRecords(in.duplicate()).filterTo(
                        new KeyFilter(map, nowMs, policy.deleteRetentionMs(), keepEmpty),
                        ByteBuffer.allocate(next - pos), BufferSupplier.NO_CACHING);
                    ByteBuffer kept = filtered.outputBuffer().flip();
                    result.recordsRemoved += filtered.messagesRead() - filtered.messagesRetained();
                    changed |= !kept.equals(in);
                    for (MutableRecordBatch batch : MemoryRecords.readableRecords(kept.duplicate()).batches()) {
                        OptionalLong horizon = batch.deleteHorizonMs();
                        if (horizon.isPresent() && holdsRemovableTombstone(batch)) {
                            result.earliestHorizon = Math.min(result.earliestHorizon, horizon.getAsLong());
                        }
                    }
                    int keptBytes = kept.remaining();
                    result.bytesRead += next - pos;
                    result.bytesWritten += keptBytes;
                    while (kept.hasRemaining()) {
                        out.write(kept);
                    }
                    throttle.acquire((long) (next - pos) + keptBytes);
                    pos = next;
                }
            }
            if (changed) {
                out.force(true);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            Files.deleteIfExists(cleaned);
            throw e;
        }
        if (!changed) {
            Files.deleteIfExists(cleaned);
            return result;
        }
        faults.at(Step.CLEANED_WRITTEN);
        result.installed = log.replaceSegments(group, cleaned, reopenedSealed, faults);
        return result;
    }

    /**
     * Whether a batch still holds a tombstone a later pass may drop: a batch keeps its delete horizon after its
     * tombstones are gone, and tombstones of transactional batches are never dropped; neither must make every pass
     * run again.
     */
    private static boolean holdsRemovableTombstone(RecordBatch batch) {
        if (batch.isControlBatch() || batch.isTransactional()) {
            return false;
        }
        try (CloseableIterator<Record> it = batch.streamingIterator(BufferSupplier.NO_CACHING)) {
            while (it.hasNext()) {
                if (!it.next().hasValue()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Kafka's cleaner rule for one batch; see the class comment. */
    private static final class KeyFilter extends MemoryRecords.RecordFilter {
        private final OffsetMap map;
        private final boolean keepEmpty;

        KeyFilter(OffsetMap map, long nowMs, long deleteRetentionMs, boolean keepEmpty) {
            super(nowMs, deleteRetentionMs);
            this.map = map;
            this.keepEmpty = keepEmpty;
        }

        @Override
        protected BatchRetentionResult checkBatchRetention(RecordBatch batch) {
            return new BatchRetentionResult(keepEmpty ? BatchRetention.RETAIN_EMPTY : BatchRetention.DELETE_EMPTY,
                false);
        }

        @Override
        protected boolean shouldRetainRecord(RecordBatch batch, Record record) {
            if (batch.isControlBatch() || batch.isTransactional()) {
                return true;
            }
            if (!record.hasKey()) {
                return false;
            }
            if (record.offset() < map.get(record.key())) {
                return false;
            }
            if (record.hasValue()) {
                return true;
            }
            OptionalLong horizon = batch.deleteHorizonMs();
            return horizon.isEmpty() || currentTime < horizon.getAsLong();
        }
    }
}
