package io.fluxmq.raft.engine;

import io.fluxmq.raft.partition.GroupStatus;
import io.fluxmq.raftcore.FollowerStatus;
import io.fluxmq.raftcore.RaftGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A multiraft group's {@link GroupStatus} (what {@code fluxmq-admin raft status} shows), read from raft-core's
 * {@link RaftGroup} on the group's loop. Positions are offsets of the segment log, which is the Raft log: commit,
 * applied and last index are end offsets (exclusive; the high watermark is the commit index), a member's match index
 * the end of the prefix of the leader's log it holds and its lag the offsets between that and the leader's log end;
 * the snapshot index is the Raft log's start (-1 while nothing was compacted). A follower's commit index is not known
 * to the leader (-1). Stateless.
 */
final class EngineGroupStatus {

    private EngineGroupStatus() {
    }

    static GroupStatus of(RaftGroup raft, EnginePartition partition, int self, long nowMs) {
        long end = raft.log().endOffset();
        long start = raft.log().startOffset();
        boolean leading = raft.role() == RaftGroup.Role.LEADER;
        Map<Integer, FollowerStatus> followers = raft.followers();
        List<GroupStatus.Peer> peers = new ArrayList<>();
        for (int member : raft.voters()) {
            String role = member == raft.leader() ? "LEADER" : "FOLLOWER";
            FollowerStatus f = followers.get(member);
            if (member == self) {
                peers.add(new GroupStatus.Peer(member, role, raft.commitOffset(), leading ? end : -1,
                    leading ? end : -1, leading ? 0 : -1, leading ? 0 : -1));
            } else if (f == null) {
                peers.add(new GroupStatus.Peer(member, role, -1, -1, -1, -1, -1));
            } else {
                peers.add(new GroupStatus.Peer(member, role, -1, f.matchEnd(), f.nextOffset(),
                    f.lastHeardMs() == 0 ? -1 : Math.max(0, nowMs - f.lastHeardMs()), Math.max(0, end - f.matchEnd())));
            }
        }
        return new GroupStatus(Long.toHexString(partition.groupId()), self, raft.role().name(), partition.isLeader(),
            raft.term(), raft.leader(), raft.commitOffset(), partition.highWatermark(), end, start > 0 ? start : -1,
            peers);
    }
}
