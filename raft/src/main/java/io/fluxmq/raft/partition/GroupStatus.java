package io.fluxmq.raft.partition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.statemachine.SnapshotInfo;

/**
 * One replica's view of a partition's Raft group, for operators ({@code fluxmq-admin raft status}): the group id,
 * term, leader, this replica's log indices, and for each member its role and commit index (Ratis' commit infos) and,
 * when this replica leads, the follower's match and next index and how long ago it last answered (Ratis' log
 * appenders). Indices are Raft log indices, not Kafka offsets. An immutable snapshot; read it on any thread.
 *
 * @param groupId       the Ratis group id
 * @param nodeId        the replica that produced this view
 * @param role          its Raft role (LEADER, FOLLOWER, CANDIDATE, LISTENER)
 * @param leaderReady   whether it leads and has committed an entry of its term
 * @param term          its current term (the Kafka leader epoch)
 * @param leader        the leader it knows of, -1 when none
 * @param commitIndex   its commit index
 * @param appliedIndex  the last index its state machine applied
 * @param lastIndex     the index of the last entry in its log, -1 when empty
 * @param snapshotIndex the index of its latest snapshot, -1 when none
 * @param peers         every member of the group, in the group's order
 */
public record GroupStatus(String groupId, int nodeId, String role, boolean leaderReady, long term, int leader,
                          long commitIndex, long appliedIndex, long lastIndex, long snapshotIndex,
                          List<Peer> peers) {

    /**
     * One member. {@code matchIndex}, {@code nextIndex} and {@code lastRpcAgeMs} are known on the leader only, for its
     * followers ({@code -1} otherwise); on the leader's own row {@code matchIndex} is its last index.
     *
     * @param commitIndex the member's commit index as the reporting replica last heard it, -1 when unknown
     * @param lag         entries the member's log trails the leader's last entry (leader only, else -1)
     */
    public record Peer(int nodeId, String role, long commitIndex, long matchIndex, long nextIndex, long lastRpcAgeMs,
                       long lag) {}

    /** Reads the current state of {@code division}; {@code self} is this server's node id. */
    static GroupStatus of(RaftServer.Division division, int self) {
        var info = division.getInfo();
        RaftLog log = division.getRaftLog();
        TermIndex last = log.getLastEntryTermIndex();
        long lastIndex = last == null ? -1 : last.getIndex();
        RaftPeerId leaderId = info.getLeaderId();
        int leader = leaderId == null ? -1 : PartitionReplica.nodeId(leaderId);
        Map<Integer, Long> commits = new HashMap<>();
        for (CommitInfoProto c : division.getCommitInfos()) {
            commits.put(PartitionReplica.nodeId(RaftPeerId.valueOf(c.getServer().getId())), c.getCommitIndex());
        }
        // Ratis lists followers, their match and next indices in the same (log appender) order
        RoleInfoProto roleInfo = info.getRoleInfoProto();
        Map<Integer, long[]> followers = new HashMap<>();
        if (roleInfo.hasLeaderInfo()) {
            long[] matches = info.getFollowerMatchIndices();
            long[] nexts = info.getFollowerNextIndices();
            var list = roleInfo.getLeaderInfo().getFollowerInfoList();
            for (int i = 0; i < list.size(); i++) {
                int id = PartitionReplica.nodeId(RaftPeerId.valueOf(list.get(i).getId().getId()));
                followers.put(id, new long[] {i < matches.length ? matches[i] : -1, i < nexts.length ? nexts[i] : -1,
                        list.get(i).getLastRpcElapsedTimeMs()});
            }
        }
        boolean leading = info.isLeader();
        List<Peer> peers = new ArrayList<>();
        for (RaftPeer p : division.getGroup().getPeers()) {
            peers.add(peer(PartitionReplica.nodeId(p.getId()), p.getStartupRole(), leader, self, leading, lastIndex,
                    commits, followers));
        }
        return new GroupStatus(division.getGroup().getGroupId().getUuid().toString(), self,
                info.getCurrentRole().name(), info.isLeaderReady(), info.getCurrentTerm(), leader,
                log.getLastCommittedIndex(), info.getLastAppliedIndex(), lastIndex, snapshotIndex(division), peers);
    }

    /**
     * The latest snapshot: the state machine's (written on demand or by the automatic trigger; the Raft log learns of
     * it only when it purges) or the one the log records, -1 when none.
     */
    static long snapshotIndex(RaftServer.Division division) {
        SnapshotInfo latest = division.getStateMachine().getLatestSnapshot();
        return Math.max(division.getRaftLog().getSnapshotIndex(), latest == null ? -1 : latest.getIndex());
    }

    private static Peer peer(int id, RaftPeerRole startupRole, int leader, int self, boolean leading, long lastIndex,
                             Map<Integer, Long> commits, Map<Integer, long[]> followers) {
        String role = id == leader ? "LEADER" : startupRole == RaftPeerRole.LISTENER ? "LISTENER" : "FOLLOWER";
        long commit = commits.getOrDefault(id, -1L);
        if (leading && id == self) {
            return new Peer(id, role, commit, lastIndex, lastIndex + 1, 0, 0);
        }
        long[] f = followers.get(id);
        if (!leading || f == null) {
            return new Peer(id, role, commit, -1, -1, -1, -1);
        }
        return new Peer(id, role, commit, f[0], f[1], f[2], Math.max(0, lastIndex - f[0]));
    }
}
