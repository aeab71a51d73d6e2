package io.fluxmq.admin;

import io.fluxmq.control.v1.RaftPeerStatus;
import io.fluxmq.control.v1.RaftStatusReply;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Raft columns {@code partition describe} adds from a partition's {@code raft status} (RaftControl.RaftStatus, as
 * its leader sees the group): the commit index, each replica's match index and lag as {@code node:value} lists in the
 * group's order, and the answering replica's log size in bytes. On multiraft the indices are offsets (see
 * raft_control.proto). Unknown values are null (printed {@code -}).
 *
 * @param commitIndex  the answering replica's commit index
 * @param matchIndex   {@code node:match} per replica, e.g. {@code 0:14,1:14,2:12}; {@code node:-} where unknown
 * @param lag          {@code node:lag} per replica, the same way
 * @param sizeBytes    the answering replica's partition log size
 * @param replicasJson per replica {@code node_id}, {@code role}, {@code match_index}, {@code lag} for JSON
 */
record RaftColumns(Long commitIndex, String matchIndex, String lag, Long sizeBytes,
                   List<Map<String, Object>> replicasJson) {

    private static final RaftColumns UNKNOWN = new RaftColumns(null, null, null, null, List.of());

    /** The columns of {@code status}; all unknown when it is null. */
    static RaftColumns of(RaftStatusReply status) {
        if (status == null) {
            return UNKNOWN;
        }
        List<String> matches = new ArrayList<>();
        List<String> lags = new ArrayList<>();
        List<Map<String, Object>> replicas = new ArrayList<>();
        for (RaftPeerStatus p : status.getPeersList()) {
            matches.add(p.getNodeId() + ":" + cell(p.getMatchIndex()));
            lags.add(p.getNodeId() + ":" + cell(p.getLag()));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("node_id", p.getNodeId());
            m.put("role", p.getRole());
            m.put("match_index", known(p.getMatchIndex()));
            m.put("lag", known(p.getLag()));
            replicas.add(m);
        }
        return new RaftColumns(status.getCommitIndex(), String.join(",", matches), String.join(",", lags),
                status.getEngine().isEmpty() ? null : status.getLogSizeBytes(), replicas);
    }

    private static String cell(long value) {
        return value < 0 ? "-" : Long.toString(value);
    }

    private static Long known(long value) {
        return value < 0 ? null : value;
    }
}
