package io.fluxmq.raftcore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.MemoryRaftLog;
import io.fluxmq.raftcore.Message;
import io.fluxmq.raftcore.NotLeaderException;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** How a loop settles the proposals its group made as leader. */
class GroupStateTest {

    /**
     * A deposed leader (a frozen process that thaws, say) can learn in one pass that another leader replaced its
     * uncommitted entry and committed past it: the proposal must fail, not be acknowledged at an offset that now holds
     * another entry.
     */
    @Test
    void aProposalWhoseEntryWasReplacedFailsEvenWhenTheCommitPassedIt() throws Exception {
        MemoryRaftLog log = new MemoryRaftLog();
        RaftGroup raft = new RaftGroup(new RaftConfig(1, Set.of(1, 2, 3), 100, 10, 4, 1 << 20), log,
                HardState.INITIAL, 0, new Random(1), 0);
        GroupState group = new GroupState(7, 1, raft, (id, raftLog, from, to) -> { });
        raft.campaignNow(0);
        raft.receive(new Message.VoteResponse(2, 1, 1, true, true), 0);
        raft.receive(new Message.VoteResponse(2, 1, 1, true, false), 0);
        assertThat(raft.role()).isEqualTo(RaftGroup.Role.LEADER);
        assertThat(log.endOffset()).as("the leader-change entry of term 1").isEqualTo(1);

        CompletableFuture<Long> proposal = new CompletableFuture<>();
        long base = raft.propose(ByteBuffer.wrap(new byte[] {1}), 1, 0);
        group.awaitCommit(base, base + 1, proposal);

        // Member 2 leads term 2 without that entry: its own leader change at offset 1, a data entry, committed.
        List<Entry> entries = List.of(Entry.leaderChange(1, 2), Entry.data(2, 1, 2, ByteBuffer.wrap(new byte[] {2})));
        raft.receive(new Message.AppendRequest(2, 1, 2, 0, 1, entries, 3), 0);
        assertThat(raft.commitOffset()).as("committed past the replaced entry").isEqualTo(3);

        group.settleProposals();
        assertThat(proposal).isCompletedExceptionally();
        try {
            proposal.get();
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(NotLeaderException.class);
        }
    }
}
