package io.fluxmq.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.concurrent.CompletionException;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;

/** How a failed Raft submission becomes a {@link PartitionError}: each Ratis failure a client can act on. */
class RaftFailureTranslationTest {
    @Test
    void backPressureIsBusyNotUnknown() {
        // what RaftServerImpl.appendTransaction fails with once raft.server.write.element-limit/byte-limit is reached
        ResourceUnavailableException e = new ResourceUnavailableException(
                "n0@group-1: Failed to acquire a pending write request for RaftClientRequest:client-1->n0");
        assertThat(PartitionReplica.translate(e).error()).isEqualTo(PartitionError.BUSY);
        assertThat(PartitionReplica.translate(new CompletionException(e)).error()).isEqualTo(PartitionError.BUSY);
    }

    @Test
    void leadershipAndLifecycleFailuresSendTheClientToTheLeader() {
        RaftGroupMemberId member = RaftGroupMemberId.valueOf(RaftPeerId.valueOf("n0"), RaftGroupId.randomId());
        assertThat(PartitionReplica.translate(new LeaderNotReadyException(member)).error())
                .isEqualTo(PartitionError.LEADER_NOT_READY);
        assertThat(PartitionReplica.translate(new ServerNotReadyException("starting")).error())
                .isEqualTo(PartitionError.LEADER_NOT_READY);
        assertThat(PartitionReplica.translate(new AlreadyClosedException("closing")).error())
                .isEqualTo(PartitionError.NOT_LEADER);
        assertThat(PartitionReplica.translate(new GroupMismatchException("group removed")).error())
                .isEqualTo(PartitionError.NOT_LEADER);
    }

    @Test
    void timeoutsAndStorageFailuresKeepTheirMeaning() {
        assertThat(PartitionReplica.translate(new TimeoutIOException("slow")).error())
                .isEqualTo(PartitionError.TIMEOUT);
        assertThat(PartitionReplica.translate(new StateMachineException("write failed", new IOException("disk full")))
                .error()).isEqualTo(PartitionError.STORAGE_ERROR);
        assertThat(PartitionReplica.translate(new IllegalStateException("bug")).error())
                .isEqualTo(PartitionError.UNKNOWN);
    }

    @Test
    void aPartitionExceptionPassesThrough() {
        PartitionException original = new PartitionException(PartitionError.OUT_OF_ORDER_SEQUENCE, "seq");
        assertThat(PartitionReplica.translate(new CompletionException(original))).isSameAs(original);
    }
}
