package io.fluxmq.raft.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The terms of a log as ranges, like Kafka's {@code LeaderEpochFileCache}: for each term present in the log, the
 * offset of its first entry. Terms never decrease along a Raft log, so the list is sorted by term and by offset, and
 * a term's entries run from its start offset to the next term's. Kept in memory only: {@link SegmentRaftLog} rebuilds
 * it from the batches' epochs when it opens.
 *
 * <p>Not thread-safe: the log's thread.
 */
final class LeaderEpochCache {

    private record Epoch(long term, long startOffset) {
    }

    private final List<Epoch> epochs = new ArrayList<>();

    /** An entry of {@code term} was appended at {@code offset} (the log end). */
    void assign(long term, long offset) {
        if (!epochs.isEmpty()) {
            Epoch last = epochs.get(epochs.size() - 1);
            if (term == last.term()) {
                return;
            }
            if (term < last.term() || offset <= last.startOffset()) {
                throw new IllegalArgumentException("term " + term + " at offset " + offset + " after term "
                    + last.term() + " from offset " + last.startOffset());
            }
        }
        epochs.add(new Epoch(term, offset));
    }

    /** Term of the entry holding {@code offset}, -1 when it lies before every term known. */
    long termAt(long offset) {
        int i = floor(offset);
        return i < 0 ? -1 : epochs.get(i).term();
    }

    /** Whether an entry of a new term starts at {@code offset}. */
    boolean isTermStart(long offset) {
        int i = floor(offset);
        return i >= 0 && epochs.get(i).startOffset() == offset;
    }

    /** Term of the last entry, -1 when there is none. */
    long lastTerm() {
        return epochs.isEmpty() ? -1 : epochs.get(epochs.size() - 1).term();
    }

    /** Start offset of the first term greater than {@code term}, or {@code logEnd} when there is none. */
    long startOfTermAfter(long term, long logEnd) {
        for (Epoch epoch : epochs) {
            if (epoch.term() > term) {
                return epoch.startOffset();
            }
        }
        return logEnd;
    }

    /** Entries at and after {@code endOffset} were removed. */
    void truncateFromEnd(long endOffset) {
        while (!epochs.isEmpty() && epochs.get(epochs.size() - 1).startOffset() >= endOffset) {
            epochs.remove(epochs.size() - 1);
        }
    }

    /** Entries below {@code startOffset} were removed: the term holding it now starts there (if any entry is left). */
    void truncateFromStart(long startOffset, long logEnd) {
        if (startOffset >= logEnd) {
            epochs.clear();
            return;
        }
        int i = floor(startOffset);
        if (i < 0) {
            return;
        }
        long term = epochs.get(i).term();
        epochs.subList(0, i + 1).clear();
        epochs.add(0, new Epoch(term, startOffset));
    }

    int size() {
        return epochs.size();
    }

    /** Index of the last epoch starting at or below {@code offset}, or -1. */
    private int floor(long offset) {
        int low = 0;
        int high = epochs.size() - 1;
        int found = -1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            if (epochs.get(mid).startOffset() <= offset) {
                found = mid;
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return found;
    }

    @Override
    public String toString() {
        return "LeaderEpochCache" + epochs;
    }
}
