package io.fluxmq.raftcore;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link RaftLog} in memory: the reference the simulation tests run against, and a model for storage-backed logs.
 * Not thread-safe.
 */
public final class MemoryRaftLog implements RaftLog {
    private final ArrayList<Entry> entries = new ArrayList<>();
    private Snapshot snapshot;
    private long startOffset;
    private long startTerm;

    public MemoryRaftLog() {
        this(Snapshot.NONE);
    }

    public MemoryRaftLog(long startOffset, long startTerm) {
        this(new Snapshot(startOffset, startTerm, java.util.Set.of(), java.nio.ByteBuffer.allocate(0)));
    }

    public MemoryRaftLog(Snapshot snapshot) {
        this.snapshot = snapshot;
        this.startOffset = snapshot.offset();
        this.startTerm = snapshot.term();
    }

    /** A copy of this log (what a disk would hold if it were forced now). */
    public MemoryRaftLog copy() {
        MemoryRaftLog copy = new MemoryRaftLog(snapshot);
        copy.entries.addAll(entries);
        return copy;
    }

    @Override
    public Snapshot snapshot() {
        return snapshot;
    }

    @Override
    public void compact(Snapshot next) {
        if (next.offset() <= startOffset) {
            return;
        }
        if (next.offset() > endOffset() || floorBoundary(next.offset()) != next.offset()) {
            throw new IllegalArgumentException("compaction to " + next.offset() + " is not at an entry boundary of "
                    + this);
        }
        if (termOfEntryEndingAt(next.offset() - 1) != next.term()) {
            throw new IllegalArgumentException(next + " does not match the entry ending before it in " + this);
        }
        int keep = next.offset() == endOffset() ? entries.size() : indexOfEntryContaining(next.offset());
        entries.subList(0, keep).clear();
        snapshot = next;
        startOffset = next.offset();
        startTerm = next.term();
    }

    @Override
    public void reset(Snapshot next) {
        entries.clear();
        snapshot = next;
        startOffset = next.offset();
        startTerm = next.term();
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
