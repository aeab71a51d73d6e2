package io.fluxmq.raftcore;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One entry of a group's log: a contiguous range of offsets {@code [baseOffset, baseOffset + count)} written by the
 * leader of {@code term}. Positions in the log are offsets, as in a Kafka partition: a record batch of ten records is
 * one entry of count ten, so the partition's segment log can be the Raft log itself (docs/adr/0003) with the batch's
 * base offset as the entry's position and its partition leader epoch as the entry's term.
 *
 * @param kind {@link Kind#LEADER_CHANGE} for the entry a new leader appends to commit its predecessors' entries (one
 *             offset, no data: the log stores it as it likes, a segment log as a control batch)
 * @param data the entry's bytes (read-only; empty for a leader change); never changed after the entry is created
 */
public record Entry(long baseOffset, int count, long term, Kind kind, ByteBuffer data) {

    /**
     * What an entry carries: records, a new leader's first entry, or a new set of voters (one member added or removed,
     * {@link RaftGroup#changeVoters}; the data is the voters' ids as 4-byte integers).
     */
    public enum Kind { DATA, LEADER_CHANGE, CONFIG }

    private static final ByteBuffer NO_DATA = ByteBuffer.allocate(0).asReadOnlyBuffer();

    public Entry {
        if (baseOffset < 0 || count < 1 || term < 1) {
            throw new IllegalArgumentException("entry at " + baseOffset + " of " + count + " in term " + term);
        }
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(data, "data");
    }

    public static Entry data(long baseOffset, int count, long term, ByteBuffer data) {
        return new Entry(baseOffset, count, term, Kind.DATA, data.asReadOnlyBuffer());
    }

    public static Entry leaderChange(long offset, long term) {
        return new Entry(offset, 1, term, Kind.LEADER_CHANGE, NO_DATA);
    }

    /** A one-offset entry naming the group's voters from this offset on. */
    public static Entry config(long offset, long term, Set<Integer> voters) {
        ByteBuffer data = ByteBuffer.allocate(4 * voters.size());
        for (int voter : new TreeSet<>(voters)) {
            data.putInt(voter);
        }
        return new Entry(offset, 1, term, Kind.CONFIG, data.flip().asReadOnlyBuffer());
    }

    /** The voters a {@link Kind#CONFIG} entry names. */
    public SortedSet<Integer> voters() {
        if (kind != Kind.CONFIG) {
            throw new IllegalStateException(this + " is not a configuration entry");
        }
        SortedSet<Integer> voters = new TreeSet<>();
        ByteBuffer bytes = data.duplicate();
        while (bytes.remaining() >= 4) {
            voters.add(bytes.getInt());
        }
        return Collections.unmodifiableSortedSet(voters);
    }

    public long lastOffset() {
        return baseOffset + count - 1;
    }

    public long endOffset() {
        return baseOffset + count;
    }

    public int sizeInBytes() {
        return data.remaining();
    }

    /**
     * Same position, term and kind: the same entry by Raft's log matching property (its bytes too, unless a log that
     * compacts committed data rewrote one copy).
     */
    public boolean samePlace(Entry other) {
        return baseOffset == other.baseOffset && count == other.count && term == other.term && kind == other.kind;
    }

    @Override
    public String toString() {
        return "Entry[" + baseOffset + "+" + count + "@" + term + (kind == Kind.DATA ? "" : " " + kind) + "]";
    }
}
