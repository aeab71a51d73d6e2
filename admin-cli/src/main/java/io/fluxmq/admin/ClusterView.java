package io.fluxmq.admin;

import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeInfo;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * The cluster as {@code cluster status} and {@code cluster health} show it: every node with its state (from the
 * control service; without one, the brokers Kafka lists are UP and other replica holders DOWN) and its replica and
 * leader counts, and every partition that is under-replicated (fewer in-sync replicas than replicas) or has no
 * leader (from Kafka Metadata).
 */
record ClusterView(String clusterId, Integer controller, Long metadataEpoch, List<NodeRow> nodes,
                   int topics, int partitions, List<PartitionRow> underReplicated, List<PartitionRow> leaderless) {

    /**
     * One node: addresses, state, heartbeat age (null when unknown) and role, what it holds, its rack (null for none)
     * and membership (ACTIVE, DECOMMISSIONING, DECOMMISSIONED; null without the control service).
     */
    record NodeRow(int id, String kafkaAddress, String controlAddress, String state, Long heartbeatAgeMs,
                   String role, int replicas, int leaders, String rack, String membership) {
    }

    /** One partition's replica state. */
    record PartitionRow(String topic, int partition, Integer leader, List<Integer> replicas, List<Integer> isr) {
        static PartitionRow of(String topic, TopicPartitionInfo p) {
            return new PartitionRow(topic, p.partition(), hasLeader(p) ? p.leader().id() : null,
                    p.replicas().stream().map(Node::id).toList(), p.isr().stream().map(Node::id).toList());
        }

        /** Replicas not in the ISR. */
        List<Integer> outOfSync() {
            return replicas.stream().filter(r -> !isr.contains(r)).toList();
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("topic", topic);
            m.put("partition", partition);
            m.put("leader", leader);
            m.put("replicas", replicas);
            m.put("isr", isr);
            m.put("out_of_sync", outOfSync());
            return m;
        }
    }

    /**
     * @param control DescribeNodes, or null when no control address was given
     * @param controller the controller Kafka's DescribeCluster named, or null
     */
    static ClusterView of(DescribeNodesReply control, String clusterId, Node controller, Collection<Node> brokers,
                          Collection<TopicDescription> topics) {
        Map<Integer, int[]> counts = new TreeMap<>(); // node id -> {replicas, leaders}
        List<PartitionRow> under = new ArrayList<>();
        List<PartitionRow> leaderless = new ArrayList<>();
        int partitions = 0;
        List<TopicDescription> sorted = topics.stream().sorted(Comparator.comparing(TopicDescription::name)).toList();
        for (TopicDescription t : sorted) {
            for (TopicPartitionInfo p : t.partitions()) {
                partitions++;
                for (Node r : p.replicas()) {
                    counts.computeIfAbsent(r.id(), id -> new int[2])[0]++;
                }
                if (hasLeader(p)) {
                    counts.computeIfAbsent(p.leader().id(), id -> new int[2])[1]++;
                } else {
                    leaderless.add(PartitionRow.of(t.name(), p));
                }
                if (p.isr().size() < p.replicas().size()) {
                    under.add(PartitionRow.of(t.name(), p));
                }
            }
        }
        List<NodeRow> nodes = new ArrayList<>();
        Integer controllerId;
        Long epoch;
        if (control != null) {
            controllerId = control.getControllerId() < 0 ? null : control.getControllerId();
            epoch = control.getMetadataEpoch();
            for (NodeInfo n : control.getNodesList()) {
                int[] c = counts.getOrDefault(n.getNodeId(), new int[2]);
                nodes.add(new NodeRow(n.getNodeId(), NodesCommand.kafkaAddress(n), NodesCommand.controlAddress(n),
                        NodesCommand.state(n), n.getLastHeartbeatAgeMs() < 0 ? null : n.getLastHeartbeatAgeMs(),
                        NodesCommand.role(control, n), c[0], c[1], n.getRack().isEmpty() ? null : n.getRack(),
                        NodeCommand.membership(n)));
            }
        } else {
            controllerId = controller == null || controller.isEmpty() ? null : controller.id();
            epoch = null;
            Map<Integer, Node> live = new TreeMap<>();
            brokers.forEach(b -> live.put(b.id(), b));
            Map<Integer, Boolean> all = new TreeMap<>();
            live.keySet().forEach(id -> all.put(id, true));
            counts.keySet().forEach(id -> all.putIfAbsent(id, false));
            all.forEach((id, up) -> {
                int[] c = counts.getOrDefault(id, new int[2]);
                Node b = live.get(id);
                nodes.add(new NodeRow(id, b == null ? null : b.host() + ":" + b.port(), null, up ? "UP" : "DOWN",
                        null, id.equals(controllerId) ? "controller (leader)" : "-", c[0], c[1],
                        b == null ? null : b.rack(), null));
            });
        }
        return new ClusterView(clusterId, controllerId, epoch, nodes, topics.size(), partitions, under, leaderless);
    }

    private static boolean hasLeader(TopicPartitionInfo p) {
        return p.leader() != null && !p.leader().isEmpty() && p.leader().id() >= 0;
    }

    /** What keeps the cluster from being healthy; empty when every node is UP and every partition fully replicated. */
    List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (controller == null) {
            problems.add("no metadata controller leader");
        }
        for (NodeRow n : nodes) {
            // a decommissioned node holds nothing: stopping it for good is what comes next, not a problem
            if (!n.state().equals("UP") && !"DECOMMISSIONED".equals(n.membership())) {
                problems.add("node " + n.id() + " is " + n.state());
            }
        }
        if (!leaderless.isEmpty()) {
            problems.add(leaderless.size() + " partition(s) without a leader: " + names(leaderless));
        }
        if (!underReplicated.isEmpty()) {
            problems.add(underReplicated.size() + " under-replicated partition(s): " + names(underReplicated));
        }
        return problems;
    }

    private static String names(List<PartitionRow> rows) {
        List<String> names = rows.stream().limit(10).map(r -> r.topic() + "-" + r.partition()).toList();
        return String.join(", ", names) + (rows.size() > 10 ? ", ..." : "");
    }

    /** The {@code cluster status} table. */
    String format() {
        StringBuilder sb = new StringBuilder();
        sb.append("cluster ").append(clusterId).append(", controller ")
                .append(controller == null ? "unknown" : controller)
                .append(metadataEpoch == null ? "" : ", metadata epoch " + metadataEpoch).append('\n');
        // id, address, state first: docker compose's check reads them
        Table t = new Table("ID", "ADDRESS", "STATE", "CONTROL", "LAST HEARTBEAT", "ROLE", "REPLICAS", "LEADERS",
                "RACK", "MEMBERSHIP");
        for (NodeRow n : nodes) {
            t.row(n.id(), n.kafkaAddress(), n.state(), n.controlAddress(),
                    n.heartbeatAgeMs() == null ? "unknown" : String.format(Locale.ROOT, "%.1f s ago",
                            n.heartbeatAgeMs() / 1000.0), n.role(), n.replicas(), n.leaders(), n.rack(),
                    n.membership());
        }
        sb.append(t.render());
        sb.append(String.format(Locale.ROOT, "%d topics, %d partitions, %d under-replicated, %d without a leader%n", topics,
                partitions, underReplicated.size(), leaderless.size()));
        appendPartitions(sb, "UNDER-REPLICATED PARTITIONS", underReplicated);
        appendPartitions(sb, "PARTITIONS WITHOUT A LEADER", leaderless);
        return sb.toString();
    }

    private static void appendPartitions(StringBuilder sb, String title, List<PartitionRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        Table t = new Table("TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "OUT-OF-SYNC");
        rows.forEach(r -> t.row(r.topic(), r.partition(), r.leader(), Table.list(r.replicas()), Table.list(r.isr()),
                Table.list(r.outOfSync())));
        sb.append('\n').append(title).append('\n').append(t.render());
    }

    /** The {@code cluster status --output json} form. */
    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cluster_id", clusterId);
        m.put("controller", controller);
        m.put("metadata_epoch", metadataEpoch);
        List<Map<String, Object>> ns = new ArrayList<>();
        for (NodeRow n : nodes) {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("id", n.id());
            node.put("kafka_address", n.kafkaAddress());
            node.put("control_address", n.controlAddress());
            node.put("state", n.state());
            node.put("last_heartbeat_age_ms", n.heartbeatAgeMs());
            node.put("role", n.role());
            node.put("replicas", n.replicas());
            node.put("leaders", n.leaders());
            node.put("rack", n.rack());
            node.put("membership", n.membership());
            ns.add(node);
        }
        m.put("nodes", ns);
        m.put("topics", topics);
        m.put("partitions", partitions);
        m.put("under_replicated_partitions", underReplicated.stream().map(PartitionRow::json).toList());
        m.put("leaderless_partitions", leaderless.stream().map(PartitionRow::json).toList());
        return m;
    }
}
