package io.fluxmq.raft;

import io.fluxmq.raft.partition.PartitionReplica;
import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionReplyProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Node-level failure detection for Raft groups: when the transport finds a peer's process gone
 * ({@link io.fluxmq.raft.rpc.PeerDownNotifier}), every group that peer led elects a new leader at once instead of after
 * its election timeout (1–2 s by default, each group on its own).
 *
 * <p>In each such group one surviving member, the one with the lowest node id, starts the election, as Ratis does when
 * a leader hands its leadership over ({@code startLeaderElection}: no pre-vote, a new term). One member, so the
 * survivors do not split the vote; if its log lacks entries another survivor has, that survivor refuses its vote and the
 * group falls back to its election timeout, as without this. The request is accepted only while the dead peer is still
 * this member's leader in the current term and this member's log holds an entry of that term. Raft's safety does not
 * depend on any of it: an election in a group whose leader is alive after all costs one term and a short pause.
 * Thread-safe.
 */
final class DeadLeaderElections {
    private static final Logger LOGGER = LoggerFactory.getLogger(DeadLeaderElections.class);
    private final RaftServer server;
    private final AtomicLong callIds = new AtomicLong(1L << 40);

    DeadLeaderElections(RaftServer server) {
        this.server = server;
    }

    /** Starts an election in every group {@code dead} led and this node should take over; returns how many. */
    int peerDown(RaftPeerId dead) {
        int started = 0;
        for (RaftGroupId group : server.getGroupIds()) {
            try {
                if (startIfMine(group, dead)) {
                    started++;
                }
            } catch (IOException | RuntimeException e) {
                LOGGER.debug("{}: no early election in {} after {} went down: {}", server.getId(), group, dead,
                        e.toString());
            }
        }
        if (started > 0) {
            LOGGER.info("{}: Raft peer {} is gone; started elections in the {} groups it led that this node takes over",
                    server.getId(), dead, started);
        }
        return started;
    }

    private boolean startIfMine(RaftGroupId group, RaftPeerId dead) throws IOException {
        RaftServer.Division division = server.getDivision(group);
        DivisionInfo info = division.getInfo();
        if (!info.isFollower() || !dead.equals(info.getLeaderId())) {
            return false;
        }
        List<RaftPeerId> survivors = division.getGroup().getPeers().stream().map(RaftPeer::getId)
                .filter(id -> !id.equals(dead))
                .sorted(Comparator.comparingInt(PartitionReplica::nodeId))
                .toList();
        if (survivors.isEmpty() || !survivors.get(0).equals(server.getId())) {
            return false;
        }
        TermIndex last = division.getRaftLog().getLastEntryTermIndex();
        if (last == null || last.getTerm() != info.getCurrentTerm()) {
            return false; // Ratis would refuse: the dead leader's term must not be older than this member's last entry
        }
        StartLeaderElectionRequestProto request = StartLeaderElectionRequestProto.newBuilder()
                .setServerRequest(RaftRpcRequestProto.newBuilder()
                        .setRequestorId(dead.toByteString())
                        .setReplyId(server.getId().toByteString())
                        .setRaftGroupId(ProtoUtils.toRaftGroupIdProtoBuilder(group))
                        .setCallId(callIds.incrementAndGet()))
                .setLeaderLastEntry(last.toProto())
                .build();
        StartLeaderElectionReplyProto reply = server.startLeaderElection(request);
        return reply.getServerReply().getSuccess();
    }
}
