package io.fluxmq.raftcore;

/**
 * A leader's view of one follower, as {@link RaftGroup#followers()} reports it for operators. Immutable.
 *
 * @param state       PROBE (looking for where the logs match), REPLICATE (appends pipelined) or SNAPSHOT (one sent)
 * @param matchEnd    the end of the prefix of the leader's log the follower is known to hold
 * @param nextOffset  where the leader's next append to it starts
 * @param lastHeardMs when it last answered the leader (an append or a heartbeat), on the group's clock; 0 if never
 */
public record FollowerStatus(String state, long matchEnd, long nextOffset, long lastHeardMs) {
}
