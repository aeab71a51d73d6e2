package io.fluxmq.raftcore.engine;

import io.fluxmq.raftcore.NotLeaderException;
import io.fluxmq.raftcore.RaftGroup;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** What an event loop keeps for one group besides the Raft state: applied offset, waiting proposals, its timer. */
final class GroupState {

    private record Waiting(long endOffset, long baseOffset, long term, CompletableFuture<Long> future) {
    }

    final long groupId;
    final int self;
    final RaftGroup raft;
    final CommitListener listener;
    long applied;
    long scheduledAt = Long.MAX_VALUE;
    boolean dirty;
    /** A Ready of this group is being made durable: nothing may touch its Raft state or log until it is advanced. */
    boolean persisting;
    /** What came for this group while it was persisting, run once it is advanced (or has stopped). */
    final ArrayDeque<Runnable> deferred = new ArrayDeque<>();
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private RaftGroup.Role reportedRole;
    private long reportedTerm = -1;
    private int reportedLeader = RaftGroup.NO_LEADER;
    private long waitingTerm;
    private Set<Integer> reportedVoters;

    GroupState(long groupId, int self, RaftGroup raft, CommitListener listener) {
        this.groupId = groupId;
        this.self = self;
        this.raft = raft;
        this.listener = listener;
        this.applied = raft.commitOffset();
    }

    void awaitCommit(long baseOffset, long endOffset, CompletableFuture<Long> future) {
        waitingTerm = raft.term();
        waiting.addLast(new Waiting(endOffset, baseOffset, waitingTerm, future));
    }

    /**
     * Completes proposals now committed whose entry is still the one proposed (the entry ending at its end offset is of
     * the term it was proposed in: by Raft's log matching, the same entry), fails those another leader's entries
     * replaced, and fails the rest if this member stopped leading the term they were made in. Once leadership is
     * lost the commit offset speaks of the new leader's log: one pass can bring the step-down, the truncation of an
     * uncommitted proposal and a commit past it (a leader whose process was frozen, say), and acknowledging that
     * proposal would name an offset holding another record.
     */
    void settleProposals() {
        while (!waiting.isEmpty() && waiting.peekFirst().endOffset() <= raft.commitOffset()) {
            Waiting done = waiting.pollFirst();
            if (raft.log().termOfEntryEndingAt(done.endOffset() - 1) == done.term()) {
                done.future().complete(done.baseOffset());
            } else {
                done.future().completeExceptionally(new NotLeaderException(self, raft.leader()));
            }
        }
        boolean leading = raft.role() == RaftGroup.Role.LEADER && raft.term() == waitingTerm;
        if (!waiting.isEmpty() && !leading) {
            NotLeaderException notLeader = new NotLeaderException(self, raft.leader());
            while (!waiting.isEmpty()) {
                waiting.pollFirst().future().completeExceptionally(notLeader);
            }
        }
    }

    /** Tells the listener if role, term or leader changed since it was last told (always, the first time). */
    void reportRole() {
        RaftGroup.Role role = raft.role();
        long term = raft.term();
        int leader = raft.leader();
        if (role != reportedRole || term != reportedTerm || leader != reportedLeader) {
            reportedRole = role;
            reportedTerm = term;
            reportedLeader = leader;
            listener.roleChanged(groupId, role, term, leader);
        }
    }

    /** Tells the listener the committed voters if they changed since it was last told (always, the first time). */
    void reportVoters() {
        Set<Integer> voters = raft.committedVoters();
        if (voters != reportedVoters) { // the same object until another configuration is committed
            reportedVoters = voters;
            listener.votersCommitted(groupId, voters);
        }
    }

    void failAll(Throwable cause) {
        while (!waiting.isEmpty()) {
            waiting.pollFirst().future().completeExceptionally(cause);
        }
    }
}
