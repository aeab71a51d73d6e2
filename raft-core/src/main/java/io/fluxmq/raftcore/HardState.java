package io.fluxmq.raftcore;

/**
 * What a Raft member must have on disk before it answers anything in a term: the term and its vote in it.
 *
 * @param votedFor the member voted for in {@code term}, or {@link #NO_VOTE}
 */
public record HardState(long term, int votedFor) {
    public static final int NO_VOTE = -1;
    public static final HardState INITIAL = new HardState(0, NO_VOTE);
}
