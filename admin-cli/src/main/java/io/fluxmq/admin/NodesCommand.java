package io.fluxmq.admin;

import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;

/**
 * {@code fluxmq-admin nodes}: every node with its address, UP/DOWN state and last heartbeat age, from the control
 * service (DescribeNodes). Kept as it was; {@code node list} ({@link NodeCommand}) shows racks, membership and replica
 * counts too.
 */
@Command(name = "nodes", mixinStandardHelpOptions = true,
        description = "Lists the cluster's nodes: id, Kafka address, state, age of the last heartbeat, role.")
final class NodesCommand extends AdminCommand {
    @Override
    int execute() {
        DescribeNodesReply reply = nodes();
        print(format(reply), json(reply));
        return 0;
    }

    /** The JSON form of a reply. */
    static Map<String, Object> json(DescribeNodesReply reply) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("controller", reply.getControllerId() < 0 ? null : reply.getControllerId());
        m.put("metadata_epoch", reply.getMetadataEpoch());
        m.put("answered_by", reply.getAnsweredBy());
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (NodeInfo n : reply.getNodesList()) {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("id", n.getNodeId());
            node.put("kafka_address", kafkaAddress(n));
            node.put("control_address", controlAddress(n));
            node.put("state", state(n));
            node.put("last_heartbeat_age_ms", n.getLastHeartbeatAgeMs() < 0 ? null : n.getLastHeartbeatAgeMs());
            node.put("controller", n.getController());
            node.put("version", n.getVersion().isEmpty() ? null : n.getVersion());
            nodes.add(node);
        }
        m.put("nodes", nodes);
        return m;
    }

    static String kafkaAddress(NodeInfo n) {
        return n.getEndpoint().getHost().isEmpty() ? null
                : n.getEndpoint().getHost() + ":" + n.getEndpoint().getKafkaPort();
    }

    static String controlAddress(NodeInfo n) {
        return n.getEndpoint().getHost().isEmpty() ? null
                : n.getEndpoint().getHost() + ":" + n.getEndpoint().getControlPort();
    }

    static String state(NodeInfo n) {
        return n.getState().name().replace("NODE_STATE_", "");
    }

    static String age(NodeInfo n) {
        return n.getLastHeartbeatAgeMs() < 0 ? "unknown"
                : String.format(Locale.ROOT, "%.1f s ago", n.getLastHeartbeatAgeMs() / 1000.0);
    }

    static String role(DescribeNodesReply reply, NodeInfo n) {
        return n.getNodeId() == reply.getControllerId() ? "controller (leader)"
                : n.getController() ? "controller" : "broker";
    }

    /** The table printed for a reply: a header line, one line per node, then the controller line. */
    static String format(DescribeNodesReply reply) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-4s %-24s %-7s %-16s %s%n",
                "ID", "ADDRESS", "STATE", "LAST HEARTBEAT", "ROLE"));
        for (NodeInfo n : reply.getNodesList()) {
            String address = kafkaAddress(n) == null ? "-" : kafkaAddress(n);
            sb.append(String.format(Locale.ROOT, "%-4d %-24s %-7s %-16s %s%n", n.getNodeId(), address, state(n),
                    age(n), role(reply, n)));
        }
        sb.append(String.format(Locale.ROOT, "controller leader: %s, metadata epoch %d, answered by node %d%n",
                reply.getControllerId() < 0 ? "unknown" : Integer.toString(reply.getControllerId()),
                reply.getMetadataEpoch(), reply.getAnsweredBy()));
        return sb.toString();
    }
}
