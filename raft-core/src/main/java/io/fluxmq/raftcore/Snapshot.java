package io.fluxmq.raftcore;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What a log starts from: everything below {@code offset} in one piece. Entries below it are gone (retention, or they
 * were never copied: a follower far behind gets the leader's snapshot, {@link Message.InstallSnapshot}, instead of
 * entries the leader no longer holds).
 *
 * @param offset the log's start offset; every entry below it was committed
 * @param term   the term of the entry that ended just before {@code offset} (0 for a log that was never cut)
 * @param voters the group's voters as of {@code offset} (Raft keeps the configuration in the snapshot, since the
 *               configuration entries below it are gone); empty means the voters the member is configured with
 * @param data   the owner's state as of {@code offset}, opaque to Raft (for a partition: its producer state); read-only
 */
public record Snapshot(long offset, long term, SortedSet<Integer> voters, ByteBuffer data) {

    /** The start of a log that was never cut. */
    public static final Snapshot NONE = new Snapshot(0, 0, Set.of(), ByteBuffer.allocate(0));

    public Snapshot(long offset, long term, Set<Integer> voters, ByteBuffer data) {
        this(offset, term, Collections.unmodifiableSortedSet(new TreeSet<>(voters)),
                Objects.requireNonNull(data, "data").asReadOnlyBuffer());
    }

    public Snapshot {
        if (offset < 0 || term < 0) {
            throw new IllegalArgumentException("snapshot at offset " + offset + " in term " + term);
        }
    }

    @Override
    public String toString() {
        return "Snapshot[" + offset + "@" + term + " voters=" + voters + " " + data.remaining() + " bytes]";
    }
}
