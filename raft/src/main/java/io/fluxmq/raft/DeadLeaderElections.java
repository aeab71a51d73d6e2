package io.fluxmq.raft;

import io.fluxmq.raft.partition.PartitionReplica;
import io.fluxmq.raft.rpc.PeerDownNotifier;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
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
 * ({@link PeerDownNotifier}), every group that peer led elects a new leader at once instead of after its election
 * timeout (1–2 s by default, each group on its own).
 *
 * <p>In each such group exactly one surviving member starts the election, as Ratis does when a leader hands its
 * leadership over ({@code startLeaderElection}: no pre-vote, a new term): the survivor with the most complete log,
 * the lowest node id among equals. Each survivor asks the others for the last entry of their log in the group
 * (Ratis' GroupInfo over the transport) and starts only if it is that one, so the survivors agree without a vote of
 * their own. The log matters: a voter whose log holds an entry the candidate lacks refuses its vote (Raft's election
 * restriction) and the group falls back to its election timeout; under a steady producer the dead leader's last entry
 * has often reached one follower and not yet the other. A survivor that does not answer within
 * {@value #ASK_TIMEOUT_MS} ms is left out of the choice. The request is accepted only while the dead peer is still this
 * member's leader in the current term and this member's log holds an entry of that term. Raft's safety does not depend
 * on any of it: an election in a group whose leader is alive after all costs one term and a short pause. Thread-safe.
 */
final class DeadLeaderElections {
    private static final Logger LOGGER = LoggerFactory.getLogger(DeadLeaderElections.class);
    /** How long a survivor waits for the others' last log entries. */
    static final long ASK_TIMEOUT_MS = 500;
    private final RaftServer server;
    private final PeerDownNotifier transport;
    private final AtomicLong callIds = new AtomicLong(1L << 40);

    DeadLeaderElections(RaftServer server, PeerDownNotifier transport) {
        this.server = server;
        this.transport = transport;
    }

    /** Starts an election in every group {@code dead} led and this node should take over; completes with how many. */
    CompletableFuture<Integer> peerDown(RaftPeerId dead) {
        List<CompletableFuture<Boolean>> decisions = new ArrayList<>();
        for (RaftGroupId group : server.getGroupIds()) {
            decisions.add(electIfBest(group, dead).exceptionally(e -> {
                LOGGER.debug("{}: no early election in {} after {} went down: {}", server.getId(), group, dead,
                        e.toString());
                return false;
            }));
        }
        return CompletableFuture.allOf(decisions.toArray(CompletableFuture[]::new)).thenApply(v -> {
            int started = (int) decisions.stream().filter(CompletableFuture::join).count();
            if (started > 0) {
                LOGGER.info("{}: Raft peer {} is gone; started elections in the {} groups it led where this node has"
                        + " the most complete log", server.getId(), dead, started);
            }
            return started;
        });
    }

    private CompletableFuture<Boolean> electIfBest(RaftGroupId group, RaftPeerId dead) {
        RaftServer.Division division;
        try {
            division = server.getDivision(group);
        } catch (IOException e) {
            return CompletableFuture.completedFuture(false);
        }
        DivisionInfo info = division.getInfo();
        if (!info.isFollower() || !dead.equals(info.getLeaderId())) {
            return CompletableFuture.completedFuture(false);
        }
        TermIndex last = division.getRaftLog().getLastEntryTermIndex();
        if (last == null || last.getTerm() != info.getCurrentTerm()) {
            // Ratis would refuse: the dead leader's term must not be older than this member's last entry
            return CompletableFuture.completedFuture(false);
        }
        List<RaftPeerId> others = division.getGroup().getPeers().stream().map(RaftPeer::getId)
                .filter(id -> !id.equals(dead) && !id.equals(server.getId())).toList();
        Map<RaftPeerId, CompletableFuture<TermIndex>> asked = new LinkedHashMap<>();
        for (RaftPeerId other : others) {
            asked.put(other, transport.lastEntry(other, group, ASK_TIMEOUT_MS));
        }
        return CompletableFuture.allOf(asked.values().stream().map(f -> f.handle((t, e) -> null))
                .toArray(CompletableFuture[]::new)).thenApplyAsync(v -> { // off the transport's event loop
                    for (Map.Entry<RaftPeerId, CompletableFuture<TermIndex>> e : asked.entrySet()) {
                        if (e.getValue().isCompletedExceptionally()) {
                            continue; // unreachable: not a candidate
                        }
                        TermIndex theirs = e.getValue().join();
                        int compare = theirs == null ? -1 : theirs.compareTo(last);
                        if (compare > 0 || (compare == 0
                                && PartitionReplica.nodeId(e.getKey()) < PartitionReplica.nodeId(server.getId()))) {
                            return false; // that survivor starts
                        }
                    }
                    return start(division, group, dead, last);
                });
    }

    private boolean start(RaftServer.Division division, RaftGroupId group, RaftPeerId dead, TermIndex last) {
        DivisionInfo info = division.getInfo();
        if (!info.isFollower() || !dead.equals(info.getLeaderId())) {
            return false; // decided meanwhile
        }
        StartLeaderElectionRequestProto request = StartLeaderElectionRequestProto.newBuilder()
                .setServerRequest(RaftRpcRequestProto.newBuilder()
                        .setRequestorId(dead.toByteString())
                        .setReplyId(server.getId().toByteString())
                        .setRaftGroupId(ProtoUtils.toRaftGroupIdProtoBuilder(group))
                        .setCallId(callIds.incrementAndGet()))
                .setLeaderLastEntry(last.toProto())
                .build();
        try {
            return server.startLeaderElection(request).getServerReply().getSuccess();
        } catch (IOException e) {
            throw new CompletionException(e);
        }
    }
}
