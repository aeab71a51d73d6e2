package io.fluxmq.admin;

import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeEndpoint;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.NodeMembership;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fluxmq-admin node add}: what a new node needs to join the running cluster, from DescribeNodes and the
 * cluster id (DescribeCluster): the next free node id and the node's settings ({@code node.id}, {@code cluster.id},
 * {@code cluster.nodes} with the members as seeds plus the new node, {@code controller.nodes}, its ports and rack), as
 * a properties file for {@code fluxmq-node --config}. It changes nothing in the cluster: the node joins when it
 * starts with those settings and registers (docs/operations.md, Adding a node).
 */
@Command(name = "add", mixinStandardHelpOptions = true,
        description = "Print the next free node id and the settings a new node needs to join (cluster id, seeds, "
                + "controllers); the node joins when started with them.")
final class NodeAddCommand extends AdminCommand {
    @Option(names = "--host", required = true, paramLabel = "host",
            description = "the host name or address the other nodes and the clients reach the new node at")
    String host;

    @Option(names = "--kafka-port", defaultValue = "9092", description = "its Kafka port (default ${DEFAULT-VALUE})")
    int kafkaPort;

    @Option(names = "--raft-port", defaultValue = "9192",
            description = "its Raft port (default ${DEFAULT-VALUE}; control and HTTP ports follow it: +100, +200)")
    int raftPort;

    @Option(names = "--id", paramLabel = "ID", description = "the node id (default: the next free one)")
    Integer id;

    @Option(names = "--rack", description = "its rack (broker.rack), for rack-aware placement")
    String rack;

    @Override
    int execute() {
        DescribeNodesReply reply = nodes();
        int next = nextFreeId(reply);
        if (id != null && reply.getNodesList().stream().anyMatch(n -> n.getNodeId() == id)) {
            throw AdminException.failed("node id " + id + " is taken (a removed node's id cannot register again); "
                    + "the next free id is " + next);
        }
        int nodeId = id == null ? next : id;
        KafkaSession kafka = kafka();
        String clusterId = kafka.await(kafka.admin().describeCluster().clusterId(), "describing the cluster");
        Map<String, String> settings = settings(reply, clusterId, nodeId, host, kafkaPort, raftPort, rack);
        StringBuilder text = new StringBuilder("next free node id: " + next + "\n"
                + "settings of node " + nodeId + " (a node.properties for fluxmq-node --config):\n");
        settings.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        text.append("start it with: bin/fluxmq-node --config node.properties --data-dir <empty directory>\n")
                .append("(or with node.id=-1 instead: the cluster then gives it an id above reserved.broker.max.id, "
                        + "and its cluster.id and controller.nodes)\n");
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("next_free_id", next);
        json.put("node_id", nodeId);
        json.put("cluster_id", clusterId);
        json.put("settings", settings);
        print(text.toString(), json);
        return 0;
    }

    /** The default of {@code reserved.broker.max.id}: ids above it are the ones the cluster gives (node.id=-1). */
    static final int RESERVED_MAX_ID = 1000;

    /**
     * One above the highest operator-chosen id of a member (removed ones included: their ids stay taken); ids above
     * {@link #RESERVED_MAX_ID}, which the cluster gave, do not count.
     */
    static int nextFreeId(DescribeNodesReply reply) {
        return reply.getNodesList().stream().mapToInt(NodeInfo::getNodeId).filter(id -> id <= RESERVED_MAX_ID).max()
                .orElse(-1) + 1;
    }

    /**
     * The new node's settings: {@code cluster.nodes} lists every member that can answer (not removed or
     * decommissioned) with all its ports, then the new node; {@code controller.nodes} names the metadata voters
     * explicitly, since its default (the first three ids of {@code cluster.nodes}) could differ on the new node.
     */
    static Map<String, String> settings(DescribeNodesReply reply, String clusterId, int nodeId, String host,
                                        int kafkaPort, int raftPort, String rack) {
        List<String> members = new ArrayList<>();
        List<String> controllers = new ArrayList<>();
        for (NodeInfo n : reply.getNodesList()) {
            NodeEndpoint e = n.getEndpoint();
            if (n.getController()) {
                controllers.add(Integer.toString(n.getNodeId()));
            }
            boolean gone = n.getMembership() == NodeMembership.NODE_MEMBERSHIP_REMOVED
                    || n.getMembership() == NodeMembership.NODE_MEMBERSHIP_DECOMMISSIONED;
            if (!e.getHost().isEmpty() && (!gone || n.getController())) {
                members.add(n.getNodeId() + "@" + e.getHost() + ":" + e.getKafkaPort() + ":" + e.getRaftPort() + ":"
                        + e.getHttpPort() + ":" + e.getControlPort());
            }
        }
        members.add(nodeId + "@" + host + ":" + kafkaPort + ":" + raftPort);
        Map<String, String> s = new LinkedHashMap<>();
        s.put("node.id", Integer.toString(nodeId));
        s.put("cluster.id", clusterId);
        s.put("cluster.nodes", String.join(",", members));
        s.put("controller.nodes", String.join(",", controllers));
        s.put("kafka.port", Integer.toString(kafkaPort));
        s.put("raft.port", Integer.toString(raftPort));
        if (rack != null && !rack.isBlank()) {
            s.put("broker.rack", rack);
        }
        return s;
    }
}
