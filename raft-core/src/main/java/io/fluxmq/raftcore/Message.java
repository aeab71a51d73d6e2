package io.fluxmq.raftcore;

import java.util.List;

/**
 * The messages members of one group exchange. Every message carries its sender's term; a member that sees a greater
 * term than its own adopts it (except for pre-votes, which ask about a term nobody is in yet). The driver adds the
 * group's id when it puts them on the wire and may carry the messages of many groups for one peer together.
 */
public sealed interface Message {

    int from();

    int to();

    long term();

    /**
     * Asks for a vote in {@code term}. A pre-vote asks "would you vote for me in {@code term}?" without anyone
     * changing term, so a member cut off from the others cannot disturb the group when it comes back.
     *
     * @param transfer the current leader asked for this election (leadership transfer): voters grant it even while
     *                 they hear from a leader
     */
    record VoteRequest(int from, int to, long term, long lastTerm, long endOffset, boolean preVote, boolean transfer)
            implements Message {
    }

    record VoteResponse(int from, int to, long term, boolean granted, boolean preVote) implements Message {
    }

    /**
     * Entries following the one that ends at {@code prevLastOffset} with term {@code prevTerm} (-1 and 0 for the start
     * of an empty log). {@code commitOffset} is the leader's commit offset: entries below it are committed.
     */
    record AppendRequest(int from, int to, long term, long prevLastOffset, long prevTerm, List<Entry> entries,
                         long commitOffset) implements Message {
        public long endOffset() {
            return entries.isEmpty() ? prevLastOffset + 1 : entries.get(entries.size() - 1).endOffset();
        }
    }

    /**
     * The answer to an append. On success {@code matchEnd} is the end of the prefix the follower holds durably and
     * knows to equal the leader's. On rejection {@code hintTerm}/{@code hintEnd} name the follower's last entry at or
     * below the request's previous entry whose term is at most the request's previous term, so the leader can skip
     * back over a whole term at a time; {@code rejectedPrev} says which request was rejected.
     */
    record AppendResponse(int from, int to, long term, boolean success, long matchEnd, long rejectedPrev,
                          long hintTerm, long hintEnd) implements Message {
    }

    /**
     * A leader's sign of life. {@code commitOffset} is at most what the follower is known to hold, so the follower can
     * take it as it is. With {@code quiesce} the leader says the group is idle and it will send nothing more until
     * there is work: a follower that holds everything committed stops its election timer (the node's failure detector
     * wakes it if the leader's node goes away, {@link RaftGroup#peerDown}).
     */
    record Heartbeat(int from, int to, long term, long commitOffset, boolean quiesce) implements Message {
    }

    record HeartbeatResponse(int from, int to, long term) implements Message {
    }

    /**
     * The leader no longer holds the entries a follower needs next (they are below its log start): the follower
     * replaces its log by one starting from the leader's {@code snapshot} and answers with an {@link AppendResponse}
     * whose {@code matchEnd} is the snapshot's offset, once that is durable.
     */
    record InstallSnapshot(int from, int to, long term, Snapshot snapshot) implements Message {
    }

    /** Tells an up-to-date follower to start an election at once (the last step of a leadership transfer). */
    record TimeoutNow(int from, int to, long term) implements Message {
    }
}
