package io.fluxmq.raftcore;

import java.util.List;

/**
 * A group's log as the Raft algorithm sees it. The driver owns the storage; {@link RaftGroup} appends and truncates
 * through this interface and never forces anything to disk itself: after each {@link RaftGroup#ready()} the driver
 * makes the log durable up to {@link Ready#persistEnd()} and reports it with {@link RaftGroup#advance(Ready)}.
 *
 * <p>Offsets: entries are contiguous ranges; an <em>entry boundary</em> is the base offset of an entry, the log's
 * start offset or its end offset. The entry "ending at" offset {@code o} is the one whose last offset is {@code o}.
 *
 * <p>Not thread-safe: called from the thread that drives the group.
 */
public interface RaftLog {

    /** First offset still in the log; entries before it were removed (retention, snapshot). */
    long startOffset();

    /** Term of the entry that ended just before {@link #startOffset()}, 0 if the log was never cut. */
    long startTerm();

    /** The offset the next entry gets. */
    long endOffset();

    /** Term of the last entry, or {@link #startTerm()} when the log is empty. */
    default long lastTerm() {
        return endOffset() == startOffset() ? startTerm() : termOfEntryEndingAt(endOffset() - 1);
    }

    /**
     * Term of the entry whose last offset is {@code lastOffset}; {@link #startTerm()} for {@code startOffset() - 1};
     * -1 when no entry of the log ends exactly there (the offset is inside an entry, past the end, or cut away).
     */
    long termOfEntryEndingAt(long lastOffset);

    /**
     * The end offset of the last entry whose term is at most {@code term} (Kafka's end offset for a leader epoch),
     * or {@link #startOffset()} when every entry has a greater term.
     */
    long endOffsetForTerm(long term);

    /** The greatest entry boundary at or below {@code offset} (never below {@link #startOffset()}). */
    long floorBoundary(long offset);

    /**
     * Entries from the boundary {@code fromOffset} on, whole entries only, at most {@code maxBytes} of data but at
     * least one entry when there is one.
     */
    List<Entry> read(long fromOffset, int maxBytes);

    /** Appends an entry at the end ({@code entry.baseOffset() == endOffset()}). */
    void append(Entry entry);

    /**
     * Appends a data entry this member proposed as the leader ({@link RaftGroup#propose}): its proposer built or
     * checked the data, so a log that checks what it stores (a checksum) may skip that check here. {@link #append} by
     * default.
     */
    default void appendProposed(Entry entry) {
        append(entry);
    }

    /** Removes every entry at or after the boundary {@code endOffset}. */
    void truncateTo(long endOffset);

    /**
     * What the log starts from: its start offset and term, the voters and the owner's state as of the start (see
     * {@link Snapshot}); {@link Snapshot#NONE} for a log that was never cut.
     */
    Snapshot snapshot();

    /**
     * Drops the entries below {@code snapshot.offset()}, an entry boundary at or below the commit offset, and keeps
     * {@code snapshot} as what the log starts from (retention; {@link RaftGroup#compact} builds it). Durable at the
     * driver's next force, like everything else; until then a restart may find the log starting where it did.
     */
    void compact(Snapshot snapshot);

    /**
     * Replaces the whole log by an empty one starting at {@code snapshot.offset()} (a snapshot installed from the
     * leader: what this log held is either older than it or diverged from the leader's).
     */
    void reset(Snapshot snapshot);

    /**
     * The configuration entries still in the log, in order ({@link Entry.Kind#CONFIG}), read when a member starts.
     * This default reads the whole log; a storage-backed log keeps them apart.
     */
    default List<Entry> configEntries() {
        if (endOffset() == startOffset()) {
            return List.of();
        }
        return read(startOffset(), Integer.MAX_VALUE).stream().filter(e -> e.kind() == Entry.Kind.CONFIG).toList();
    }
}
