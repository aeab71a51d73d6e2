package io.fluxmq.raftcore;

import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * The settings of one group's member.
 *
 * @param self                   this member's id
 * @param voters                 the members whose votes and acknowledgements count when the log names none
 *                               (configuration entries in the log take over); a member not among them is joining:
 *                               it follows, and never campaigns until a configuration entry makes it a voter
 * @param electionTimeoutMs      a follower that hears nothing from a leader for a random time in
 *                               {@code [electionTimeoutMs, 2 * electionTimeoutMs)} starts an election; a leader that
 *                               has not heard from a majority within it steps down (check quorum)
 * @param heartbeatIntervalMs    how often a leader tells idle followers it is alive
 * @param maxInflightAppends     appends a leader sends to one follower before it waits for an answer (pipelining)
 * @param maxAppendBytes         data per append (at least one entry is always sent)
 */
public record RaftConfig(int self, Set<Integer> voters, long electionTimeoutMs, long heartbeatIntervalMs,
                         int maxInflightAppends, int maxAppendBytes) {

    public static final long ELECTION_TIMEOUT_MS_DEFAULT = 1000;
    public static final long HEARTBEAT_INTERVAL_MS_DEFAULT = 100;
    public static final int MAX_INFLIGHT_APPENDS_DEFAULT = 8;
    public static final int MAX_APPEND_BYTES_DEFAULT = 1 << 20;

    public RaftConfig {
        // Sorted: the order members are messaged in must not depend on the JVM's hash seed (simulations replay).
        voters = Collections.unmodifiableSortedSet(new TreeSet<>(voters));
        if (voters.isEmpty()) {
            throw new IllegalArgumentException("a group needs voters");
        }
        if (heartbeatIntervalMs <= 0 || electionTimeoutMs <= heartbeatIntervalMs) {
            throw new IllegalArgumentException("election timeout " + electionTimeoutMs
                    + " ms must exceed the heartbeat interval " + heartbeatIntervalMs + " ms (> 0)");
        }
        if (maxInflightAppends < 1 || maxAppendBytes < 1) {
            throw new IllegalArgumentException("maxInflightAppends and maxAppendBytes must be at least 1");
        }
    }

    public static RaftConfig of(int self, Set<Integer> voters) {
        return new RaftConfig(self, voters, ELECTION_TIMEOUT_MS_DEFAULT, HEARTBEAT_INTERVAL_MS_DEFAULT,
                MAX_INFLIGHT_APPENDS_DEFAULT, MAX_APPEND_BYTES_DEFAULT);
    }

}
