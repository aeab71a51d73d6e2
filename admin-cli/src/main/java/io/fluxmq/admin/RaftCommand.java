package io.fluxmq.admin;

import io.fluxmq.control.v1.RaftPeerStatus;
import io.fluxmq.control.v1.RaftStatusReply;
import io.fluxmq.control.v1.RaftStatusRequest;
import io.fluxmq.control.v1.TakeSnapshotReply;
import io.fluxmq.control.v1.TakeSnapshotRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code fluxmq-admin raft status} and {@code raft snapshot}. */
@Command(name = "raft", mixinStandardHelpOptions = true, description = "Raft groups of partitions: status, snapshot.",
        subcommands = {RaftCommand.Status.class, RaftCommand.Snapshot.class})
final class RaftCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command (try: raft status, raft snapshot)");
    }

    /**
     * A partition's Raft group as its leader sees it (RaftControl.RaftStatus): group id, term, leader, commit,
     * applied, last and snapshot index, and per member its role, commit index, match and next index, lag in entries
     * and the time since it last answered. When the leader cannot be reached, the asked node's replica answers and
     * the leader-only columns show {@code -}.
     */
    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Term, leader, commit index and each replica's match/next index and lag of a partition's "
                    + "Raft group.")
    static final class Status extends AdminCommand {
        @Mixin
        PartitionAddress address;

        @Override
        int execute() {
            String topic = address.topic();
            int partition = address.partition;
            RaftStatusReply r = RaftControlClient.raftStatus(connection,
                    RaftStatusRequest.newBuilder().setTopic(topic).setPartition(partition).build());
            Table t = new Table("NODE", "ROLE", "COMMIT-INDEX", "MATCH-INDEX", "NEXT-INDEX", "LAG", "LAST-RPC-MS");
            List<Map<String, Object>> peers = new ArrayList<>();
            for (RaftPeerStatus p : r.getPeersList()) {
                t.row(p.getNodeId(), p.getRole(), known(p.getCommitIndex()), known(p.getMatchIndex()),
                        known(p.getNextIndex()), known(p.getLag()), known(p.getLastRpcAgeMs()));
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("node_id", p.getNodeId());
                m.put("role", p.getRole());
                m.put("commit_index", known(p.getCommitIndex()));
                m.put("match_index", known(p.getMatchIndex()));
                m.put("next_index", known(p.getNextIndex()));
                m.put("lag", known(p.getLag()));
                m.put("last_rpc_age_ms", known(p.getLastRpcAgeMs()));
                peers.add(m);
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("topic", topic);
            json.put("partition", partition);
            json.put("group_id", r.getGroupId());
            json.put("answered_by", r.getAnsweredBy());
            json.put("role", r.getRole());
            json.put("term", r.getTerm());
            json.put("leader", r.getLeader() < 0 ? null : r.getLeader());
            json.put("commit_index", r.getCommitIndex());
            json.put("applied_index", r.getAppliedIndex());
            json.put("last_index", r.getLastIndex());
            json.put("snapshot_index", known(r.getSnapshotIndex()));
            json.put("engine", r.getEngine().isEmpty() ? null : r.getEngine());
            json.put("log_start_offset", r.getLogStartOffset());
            json.put("high_watermark", r.getHighWatermark());
            json.put("log_size_bytes", r.getLogSizeBytes());
            json.put("log_segments", r.getLogSegments());
            json.put("peers", peers);
            String header = "partition " + topic + "-" + partition + ", group " + r.getGroupId() + "\n"
                    + "term " + r.getTerm() + ", leader " + (r.getLeader() < 0 ? "none" : r.getLeader())
                    + ", answered by node " + r.getAnsweredBy() + " (" + r.getRole() + "): commit index "
                    + r.getCommitIndex() + ", applied " + r.getAppliedIndex() + ", last " + r.getLastIndex()
                    + ", snapshot " + (r.getSnapshotIndex() < 0 ? "none" : r.getSnapshotIndex()) + "\n"
                    + (r.getEngine().isEmpty() ? "" : "engine " + r.getEngine() + ", log start " + r.getLogStartOffset()
                    + ", high watermark " + r.getHighWatermark() + ", " + r.getLogSizeBytes() + " bytes in "
                    + r.getLogSegments() + " segments\n");
            print(header + t.render(), json);
            return 0;
        }

    }

    private static Long known(long value) {
        return value < 0 ? null : value;
    }

    /**
     * Snapshots a partition's Raft group on its leader (RaftControl.TakeSnapshot) and prints the snapshot index before
     * and after. On the ratis engine the leader's state machine writes a snapshot at its applied index; on multiraft,
     * where the segment log is the Raft log and its snapshot is the log start, the leader compacts the Raft log to the
     * last segment boundary below the log start DeleteRecords set. Exit 0 also when the index did not move (nothing
     * applied since the last snapshot; no whole segment below the log start): the message says which.
     */
    @Command(name = "snapshot", mixinStandardHelpOptions = true,
            description = "Snapshot a partition's Raft group on its leader now (ratis: the state machine at its "
                    + "applied index; multiraft: compact the Raft log to the log start DeleteRecords set).")
    static final class Snapshot extends AdminCommand {
        @Mixin
        PartitionAddress address;

        @Override
        int execute() {
            String topic = address.topic();
            int partition = address.partition;
            // half the request deadline for the snapshot itself, the rest for forwarding to the leader
            TakeSnapshotReply r = RaftControlClient.takeSnapshot(connection, TakeSnapshotRequest.newBuilder()
                    .setTopic(topic).setPartition(partition).setTimeoutMs(Math.max(1, connection.timeoutMs / 2))
                    .build());
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("topic", topic);
            json.put("partition", partition);
            json.put("node_id", r.getNodeId());
            json.put("engine", r.getEngine());
            json.put("previous_snapshot_index", known(r.getPreviousSnapshotIndex()));
            json.put("snapshot_index", known(r.getSnapshotIndex()));
            json.put("message", r.getMessage());
            print("partition " + topic + "-" + partition + " on node " + r.getNodeId() + " (" + r.getEngine() + "): "
                    + r.getMessage() + "; snapshot index " + index(r.getPreviousSnapshotIndex()) + " -> "
                    + index(r.getSnapshotIndex()) + "\n", json);
            return 0;
        }

        private static String index(long value) {
            return value < 0 ? "none" : Long.toString(value);
        }
    }
}
