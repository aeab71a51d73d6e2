package io.fluxmq.raftcore;

import java.util.OptionalInt;

/** A proposal reached a member that is not the group's leader (or is handing leadership over). */
public final class NotLeaderException extends Exception {
    private final int leaderHint;

    public NotLeaderException(int self, int leaderHint) {
        super("member " + self + " is not the leader" + (leaderHint < 0 ? "" : "; the leader is " + leaderHint));
        this.leaderHint = leaderHint;
    }

    /** The leader as far as this member knows. */
    public OptionalInt leader() {
        return leaderHint < 0 ? OptionalInt.empty() : OptionalInt.of(leaderHint);
    }
}
