package io.fluxmq.raftcore;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link RaftLog} in memory: the reference the simulation tests run against, and a model for storage-backed logs.
 * Not thread-safe.
 */
public final class MemoryRaftLog implements RaftLog {
    private final ArrayList<Entry> entries = new ArrayList<>();
    private final long startOffset;
    private final long startTerm;

    public MemoryRaftLog() {
        this(0, 0);
    }

    public MemoryRaftLog(long startOffset, long startTerm) {
        this.startOffset = startOffset;
        this.startTerm = startTerm;
    }

    /** A copy of this log (what a disk would hold if it were forced now). */
    public MemoryRaftLog copy() {
        MemoryRaftLog copy = new MemoryRaftLog(startOffset, startTerm);
        copy.entries.addAll(entries);
        return copy;
    }

    public List<Entry> entries() {
        return List.copyOf(entries);
    }

    @Override
    public long startOffset() {
        return startOffset;
    }

    @Override
    public long startTerm() {
        return startTerm;
    }

    @Override
    public long endOffset() {
        return entries.isEmpty() ? startOffset : entries.get(entries.size() - 1).endOffset();
    }

    @Override
    public long termOfEntryEndingAt(long lastOffset) {
        if (lastOffset == startOffset - 1) {
            return startTerm;
        }
        int i = indexOfEntryContaining(lastOffset);
        return i >= 0 && entries.get(i).lastOffset() == lastOffset ? entries.get(i).term() : -1;
    }

    @Override
    public long endOffsetForTerm(long term) {
        long end = startOffset;
        for (Entry entry : entries) {
            if (entry.term() > term) {
                break;
            }
            end = entry.endOffset();
        }
        return end;
    }

    @Override
    public long floorBoundary(long offset) {
        if (offset >= endOffset()) {
            return endOffset();
        }
        int i = indexOfEntryContaining(offset);
        return i < 0 ? startOffset : entries.get(i).baseOffset();
    }

    @Override
    public List<Entry> read(long fromOffset, int maxBytes) {
        if (fromOffset == endOffset()) {
            return List.of();
        }
        int i = indexOfEntryContaining(fromOffset);
        if (i < 0 || entries.get(i).baseOffset() != fromOffset) {
            throw new IllegalArgumentException(fromOffset + " is not the start of an entry in " + this);
        }
        List<Entry> read = new ArrayList<>();
        int bytes = 0;
        for (; i < entries.size(); i++) {
            Entry entry = entries.get(i);
            if (!read.isEmpty() && bytes + entry.sizeInBytes() > maxBytes) {
                break;
            }
            read.add(entry);
            bytes += entry.sizeInBytes();
        }
        return read;
    }

    @Override
    public void append(Entry entry) {
        if (entry.baseOffset() != endOffset()) {
            throw new IllegalArgumentException("append of " + entry + " at the end " + endOffset());
        }
        entries.add(entry);
    }

    @Override
    public void truncateTo(long endOffset) {
        if (endOffset < startOffset || floorBoundary(endOffset) != Math.min(endOffset, endOffset())) {
            throw new IllegalArgumentException("truncation to " + endOffset + " is not at an entry boundary");
        }
        while (!entries.isEmpty() && entries.get(entries.size() - 1).baseOffset() >= endOffset) {
            entries.remove(entries.size() - 1);
        }
    }

    /** Index of the entry holding {@code offset}, or -1. */
    private int indexOfEntryContaining(long offset) {
        int low = 0;
        int high = entries.size() - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            Entry entry = entries.get(mid);
            if (offset < entry.baseOffset()) {
                high = mid - 1;
            } else if (offset > entry.lastOffset()) {
                low = mid + 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "MemoryRaftLog[" + startOffset + ".." + endOffset() + ", " + entries.size() + " entries]";
    }
}
