package io.fluxmq.raft.log;

import java.nio.ByteBuffer;

import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.Records;

/**
 * Read-only queries over one published {@link LogSegment.State}: fetch, batch boundaries, and record-level
 * timestamp searches. Indexes narrow the start position; the rest is a scan of batch headers, and only the
 * batch that decides an answer has its records iterated.
 *
 * <p>Thread-safe: the state is an immutable snapshot, only {@code data[0, size)} is read, with absolute
 * accessors, and every header is bounds-checked so a racing truncation cannot make a reader run off the data.
 */
final class SegmentQueries {

    private final LogSegment.State state;
    private final OffsetIndex offsetIndex;
    private final TimeIndex timeIndex;

    SegmentQueries(LogSegment.State state, OffsetIndex offsetIndex, TimeIndex timeIndex) {
        this.state = state;
        this.offsetIndex = offsetIndex;
        this.timeIndex = timeIndex;
    }

    /** Start of the batch after the one at {@code pos}, or -1 when no sane batch header lies there. */
    static int nextBatch(ByteBuffer data, int pos, int size) {
        if (pos < 0 || size - pos < BatchHeader.OVERHEAD) {
            return -1;
        }
        int length = data.getInt(pos + Records.SIZE_OFFSET);
        if (length < BatchHeader.OVERHEAD - Records.LOG_OVERHEAD || length > size - pos - Records.LOG_OVERHEAD) {
            return -1;
        }
        return pos + Records.LOG_OVERHEAD + length;
    }

    /** See {@link SegmentLog#read}; {@code null} when no batch here ends at or after {@code startOffset}. */
    MemoryRecords read(long startOffset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        ByteBuffer data = state.data();
        int start = firstBatchEndingAtOrAfter(startOffset);
        if (start < 0) {
            return null;
        }
        int end = start;
        for (int next = nextBatch(data, end, state.size()); next >= 0; next = nextBatch(data, end, state.size())) {
            if (BatchHeader.lastOffset(data, end) >= maxOffsetExclusive) {
                break;
            }
            if (next - start > maxBytes) {
                if (end == start && minOneBatch) {
                    end = next;
                }
                break;
            }
            end = next;
        }
        if (end == start) {
            return MemoryRecords.EMPTY;
        }
        return MemoryRecords.readableRecords(data.duplicate().slice(start, end - start).asReadOnlyBuffer());
    }

    /** Position of the batch with base offset {@code offset}, the size if it is the next offset, else -1. */
    int positionOf(long offset) {
        if (offset == state.nextOffset()) {
            return state.size();
        }
        ByteBuffer data = state.data();
        int pos = Math.min(offsetIndex.lookup(offset), state.size());
        for (; pos >= 0 && pos < state.size(); pos = nextBatch(data, pos, state.size())) {
            long base = BatchHeader.baseOffset(data, pos);
            if (base >= offset) {
                return base == offset ? pos : -1;
            }
        }
        return -1;
    }

    /** Base offset of the batch holding {@code offset}, or -1 when no complete batch here holds it. */
    long batchBaseContaining(long offset) {
        int pos = firstBatchEndingAtOrAfter(offset);
        if (pos < 0) {
            return -1;
        }
        long base = BatchHeader.baseOffset(state.data(), pos);
        return base <= offset ? base : -1;
    }

    /** The first record with timestamp at least {@code timestamp} and offset below the limit, or null. */
    TimestampAndOffset firstAtOrAfter(long timestamp, long maxOffsetExclusive) {
        if (state.maxTimestamp() < timestamp) {
            return null;
        }
        ByteBuffer data = state.data();
        int pos = Math.min(offsetIndex.lookup(timeIndex.lookup(timestamp)), state.size());
        for (; pos >= 0 && pos < state.size(); pos = nextBatch(data, pos, state.size())) {
            if (BatchHeader.baseOffset(data, pos) >= maxOffsetExclusive) {
                return null;
            }
            if (BatchHeader.maxTimestamp(data, pos) >= timestamp) {
                TimestampAndOffset found = firstRecordAtLeast(BatchHeader.batchAt(data, pos), timestamp,
                    maxOffsetExclusive);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /** The first record with the largest timestamp among offsets below the limit, or null when there is none. */
    TimestampAndOffset largestBelow(long maxOffsetExclusive) {
        ByteBuffer data = state.data();
        int maxPos = state.maxTimestampPosition();
        if (maxPos < 0) {
            return null;
        }
        if (BatchHeader.lastOffset(data, maxPos) < maxOffsetExclusive) {
            return largestRecord(BatchHeader.batchAt(data, maxPos), maxOffsetExclusive);
        }
        int best = -1;
        long bestTs = Long.MIN_VALUE;
        for (int pos = 0; pos >= 0 && pos < state.size(); pos = nextBatch(data, pos, state.size())) {
            if (BatchHeader.baseOffset(data, pos) >= maxOffsetExclusive) {
                break;
            }
            if (BatchHeader.lastOffset(data, pos) >= maxOffsetExclusive) {
                TimestampAndOffset partial = largestRecord(BatchHeader.batchAt(data, pos), maxOffsetExclusive);
                if (partial != null && (best < 0 || partial.timestamp() > bestTs)) {
                    return partial;
                }
                break;
            }
            if (best < 0 || BatchHeader.maxTimestamp(data, pos) > bestTs) {
                best = pos;
                bestTs = BatchHeader.maxTimestamp(data, pos);
            }
        }
        return best < 0 ? null : largestRecord(BatchHeader.batchAt(data, best), maxOffsetExclusive);
    }

    private int firstBatchEndingAtOrAfter(long offset) {
        ByteBuffer data = state.data();
        int pos = Math.min(offsetIndex.lookup(offset), state.size());
        for (; pos >= 0 && pos < state.size(); pos = nextBatch(data, pos, state.size())) {
            if (BatchHeader.lastOffset(data, pos) >= offset) {
                return nextBatch(data, pos, state.size()) < 0 ? -1 : pos;
            }
        }
        return -1;
    }

    private static TimestampAndOffset firstRecordAtLeast(RecordBatch batch, long timestamp, long maxOffsetExclusive) {
        for (Record record : batch) {
            if (record.offset() >= maxOffsetExclusive) {
                return null;
            }
            if (record.timestamp() >= timestamp) {
                return new TimestampAndOffset(record.timestamp(), record.offset(), batch.partitionLeaderEpoch());
            }
        }
        return null;
    }

    private static TimestampAndOffset largestRecord(RecordBatch batch, long maxOffsetExclusive) {
        TimestampAndOffset best = null;
        for (Record record : batch) {
            if (record.offset() >= maxOffsetExclusive) {
                break;
            }
            if (best == null || record.timestamp() > best.timestamp()) {
                best = new TimestampAndOffset(record.timestamp(), record.offset(), batch.partitionLeaderEpoch());
            }
        }
        return best;
    }
}
