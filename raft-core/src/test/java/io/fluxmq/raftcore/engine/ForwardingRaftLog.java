package io.fluxmq.raftcore.engine;

import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.MemoryRaftLog;
import io.fluxmq.raftcore.RaftLog;
import io.fluxmq.raftcore.Snapshot;
import java.util.List;

/** A {@link MemoryRaftLog} whose every change first passes {@link #changing} (tests make it fail or record it). */
abstract class ForwardingRaftLog implements RaftLog {
    private final MemoryRaftLog log = new MemoryRaftLog();

    /** Called before each change ({@code append}, {@code truncate}, {@code compact}, {@code reset}). */
    abstract void changing(String what);

    @Override public long startOffset() { return log.startOffset(); }
    @Override public long startTerm() { return log.startTerm(); }
    @Override public long endOffset() { return log.endOffset(); }
    @Override public long termOfEntryEndingAt(long lastOffset) { return log.termOfEntryEndingAt(lastOffset); }
    @Override public long endOffsetForTerm(long term) { return log.endOffsetForTerm(term); }
    @Override public long floorBoundary(long offset) { return log.floorBoundary(offset); }
    @Override public List<Entry> read(long fromOffset, int maxBytes) { return log.read(fromOffset, maxBytes); }
    @Override public Snapshot snapshot() { return log.snapshot(); }

    @Override
    public void append(Entry entry) {
        changing("append");
        log.append(entry);
    }

    @Override
    public void truncateTo(long endOffset) {
        changing("truncate");
        log.truncateTo(endOffset);
    }

    @Override
    public void compact(Snapshot snapshot) {
        changing("compact");
        log.compact(snapshot);
    }

    @Override
    public void reset(Snapshot snapshot) {
        changing("reset");
        log.reset(snapshot);
    }
}
