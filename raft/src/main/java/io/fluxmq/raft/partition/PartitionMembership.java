package io.fluxmq.raft.partition;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;

/**
 * The voting members of one partition's Raft group as this node sees them, and changing them on the leader with
 * Ratis' {@code setConfiguration}. Ratis first brings every added peer up to date while it is outside the
 * configuration (staging: the leader's appender sends it the log, or the snapshot and then the segments, like a
 * follower that fell behind), then commits the joint configuration (old and new majorities) and then the new one;
 * the future completes once the new configuration is committed. Ratis refuses a change that adds as many peers as it
 * keeps (RATIS-1912), so callers add one peer at a time. Thread-safe.
 */
public final class PartitionMembership {
    private static final ClientId CLIENT_ID = ClientId.randomId();
    private static final AtomicLong CALL_IDS = new AtomicLong();

    private final RaftServer server;
    private final RaftGroupId groupId;

    public PartitionMembership(RaftServer server, RaftGroupId groupId) {
        this.server = server;
        this.groupId = groupId;
    }

    /**
     * The configuration: {@code current} voters, and {@code previous} voters while a joint configuration is in the
     * log (empty when stable).
     */
    public record Members(List<Integer> current, List<Integer> previous) {
        public boolean stable() {
            return previous.isEmpty();
        }
    }

    /** This node's view of the configuration; throws when the group is not open here. */
    public Members members() throws IOException {
        RaftConfiguration conf = server.getDivision(groupId).getRaftConf();
        return new Members(ids(conf.getCurrentPeers()), ids(conf.getPreviousPeers()));
    }

    private static List<Integer> ids(Collection<RaftPeer> peers) {
        return peers.stream().map(p -> PartitionReplica.nodeId(p.getId())).sorted().toList();
    }

    /**
     * On the leader: makes {@code voters} the group's voters (see the class comment); fails when this node does not
     * lead, another change is in progress, or an added peer made no progress (Ratis gives up on it after a while).
     */
    public CompletableFuture<Void> setVoters(List<RaftPeer> voters) {
        SetConfigurationRequest request = new SetConfigurationRequest(CLIENT_ID, server.getId(), groupId,
                CALL_IDS.incrementAndGet(), voters);
        try {
            return server.setConfigurationAsync(request).thenApply(PartitionMembership::check);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static Void check(RaftClientReply reply) {
        if (!reply.isSuccess()) {
            throw new IllegalStateException("setConfiguration failed: " + reply.getException());
        }
        return null;
    }
}
