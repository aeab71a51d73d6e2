package io.fluxmq.admin;

import io.fluxmq.control.v1.ControllerReply;
import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.NodeMembership;
import io.fluxmq.control.v1.SetNodeMembershipRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code fluxmq-admin node list | describe ID | add | decommission ID | recommission ID | remove ID}, over the control
 * service (DescribeNodes, SetNodeMembership); {@code add} is {@link NodeAddCommand}. {@code decommission} waits (unless {@code --no-wait}) until the node is
 * DECOMMISSIONED, printing the number of replicas left whenever it changes.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Nodes: list, describe, add (the settings a new node needs), decommission (move every replica "
                + "off), recommission, remove.",
        subcommands = {NodeCommand.ListNodes.class, NodeCommand.Describe.class, NodeAddCommand.class,
                NodeCommand.Decommission.class, NodeCommand.Recommission.class, NodeCommand.Remove.class})
final class NodeCommand implements Runnable {
    static final long POLL_MS = 1_000;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command (try: node list, node describe ID, node add --host HOST, node decommission ID, "
                        + "node recommission ID, node remove ID)");
    }

    static String membership(NodeInfo n) {
        return n.getMembership() == NodeMembership.NODE_MEMBERSHIP_UNSPECIFIED ? "ACTIVE"
                : n.getMembership().name().replace("NODE_MEMBERSHIP_", "");
    }

    static String address(NodeInfo n, int port) {
        return n.getEndpoint().getHost().isEmpty() ? null : n.getEndpoint().getHost() + ":" + port;
    }

    /** Every field of a node, for JSON and {@code describe}. */
    static Map<String, Object> json(DescribeNodesReply reply, NodeInfo n) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", n.getNodeId());
        m.put("state", NodesCommand.state(n));
        m.put("membership", membership(n));
        m.put("rack", n.getRack().isEmpty() ? null : n.getRack());
        m.put("kafka_address", address(n, n.getEndpoint().getKafkaPort()));
        m.put("raft_address", address(n, n.getEndpoint().getRaftPort()));
        m.put("control_address", address(n, n.getEndpoint().getControlPort()));
        m.put("http_address", address(n, n.getEndpoint().getHttpPort()));
        m.put("replicas", n.getReplicaCount());
        m.put("leaders", n.getLeaderCount());
        m.put("last_heartbeat_age_ms", n.getLastHeartbeatAgeMs() < 0 ? null : n.getLastHeartbeatAgeMs());
        m.put("role", NodesCommand.role(reply, n));
        m.put("version", n.getVersion().isEmpty() ? null : n.getVersion());
        m.put("incarnation", n.getIncarnation() == 0 ? null : n.getIncarnation());
        return m;
    }

    static String table(DescribeNodesReply reply) {
        Table t = new Table("ID", "ADDRESS", "RACK", "STATE", "MEMBERSHIP", "REPLICAS", "LEADERS", "LAST HEARTBEAT",
                "ROLE");
        for (NodeInfo n : reply.getNodesList()) {
            t.row(n.getNodeId(), NodesCommand.kafkaAddress(n), n.getRack().isEmpty() ? null : n.getRack(),
                    NodesCommand.state(n), membership(n), n.getReplicaCount(), n.getLeaderCount(), NodesCommand.age(n),
                    NodesCommand.role(reply, n));
        }
        return t.render();
    }

    static NodeInfo find(DescribeNodesReply reply, int id) {
        return reply.getNodesList().stream().filter(n -> n.getNodeId() == id).findFirst().orElseThrow(() ->
                AdminException.failed("node " + id + " is not a member of the cluster (`fluxmq-admin node list` "
                        + "shows the members)"));
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Every node: Kafka address, rack, state, membership, replica and leader counts, heartbeat, "
                    + "role.")
    static final class ListNodes extends AdminCommand {
        @Override
        int execute() {
            DescribeNodesReply reply = nodes();
            List<Map<String, Object>> nodes = new ArrayList<>();
            reply.getNodesList().forEach(n -> nodes.add(json(reply, n)));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("controller", reply.getControllerId() < 0 ? null : reply.getControllerId());
            m.put("metadata_epoch", reply.getMetadataEpoch());
            m.put("nodes", nodes);
            print(table(reply), m);
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "One node: state, membership, rack, addresses, replica and leader counts, version.")
    static final class Describe extends AdminCommand {
        @Parameters(paramLabel = "ID", description = "the node id")
        int id;

        @Override
        int execute() {
            DescribeNodesReply reply = nodes();
            Map<String, Object> m = json(reply, find(reply, id));
            StringBuilder sb = new StringBuilder();
            m.forEach((k, v) -> sb.append(String.format("%-22s %s%n", k + ":", v == null ? "-" : v)));
            print(sb.toString(), m);
            return 0;
        }
    }

    /** Sends SetNodeMembership and fails with the controller's reason when it refuses. */
    static void setMembership(AdminCommand command, int id, NodeMembership membership) {
        if (command.connection.controlAddresses().isEmpty()) {
            throw AdminException.usage("this command needs the control service: give --bootstrap host:controlPort "
                    + "(or FLUXMQ_BOOTSTRAP, or bootstrap= in the config file)");
        }
        ControllerReply reply = ControlClient.setNodeMembership(command.connection,
                SetNodeMembershipRequest.newBuilder().setNodeId(id)
                        .setMembership(membership).build());
        if (reply.getStatus() != ControllerReply.Status.STATUS_ACCEPTED) {
            throw AdminException.failed("the controller refused: " + reply.getMessage());
        }
    }

    @Command(name = "decommission", mixinStandardHelpOptions = true,
            description = "Moves every replica off the node (rack-aware, a few partitions at a time, leadership "
                    + "handed over first) and marks it DECOMMISSIONED; placement never picks it again until it is "
                    + "recommissioned. Waits and shows the replicas left unless --no-wait.")
    static final class Decommission extends AdminCommand {
        @Parameters(paramLabel = "ID", description = "the node id")
        int id;

        @Option(names = "--no-wait", description = "return once the node is DECOMMISSIONING")
        boolean noWait;

        @Option(names = "--wait-timeout-ms", defaultValue = "1800000",
                description = "how long to wait for the node to be DECOMMISSIONED (default ${DEFAULT-VALUE})")
        long waitTimeoutMs;

        @Override
        int execute() {
            setMembership(this, id, NodeMembership.NODE_MEMBERSHIP_DECOMMISSIONING);
            if (!connection.json()) {
                out().println("Decommissioning node " + id);
                out().flush();
            }
            long deadline = System.nanoTime() + waitTimeoutMs * 1_000_000;
            int lastLeft = -1;
            while (true) {
                DescribeNodesReply reply = ControlClient.describeNodes(connection);
                NodeInfo n = find(reply, id);
                boolean done = n.getMembership() == NodeMembership.NODE_MEMBERSHIP_DECOMMISSIONED;
                if (noWait || done) {
                    print(done ? "Done: node " + id + " is DECOMMISSIONED and holds no replica\n" : "",
                            json(reply, n));
                    return 0;
                }
                if (n.getMembership() == NodeMembership.NODE_MEMBERSHIP_ACTIVE) {
                    throw AdminException.failed("node " + id + " was recommissioned while it was being decommissioned");
                }
                if (n.getReplicaCount() != lastLeft && !connection.json()) {
                    out().println("  replicas left on node " + id + ": " + n.getReplicaCount() + " (leads "
                            + n.getLeaderCount() + ")");
                    out().flush();
                    lastLeft = n.getReplicaCount();
                }
                if (System.nanoTime() > deadline) {
                    throw AdminException.failed("node " + id + " still holds " + n.getReplicaCount() + " replicas after "
                            + waitTimeoutMs + " ms; the moves go on in the background (watch with `fluxmq-admin node "
                            + "describe " + id + "`; nodes must be UP to take the replicas)");
                }
                try {
                    Thread.sleep(POLL_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw AdminException.failed("interrupted; the decommission goes on in the background");
                }
            }
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Removes a DECOMMISSIONED node that is stopped (DOWN) from the cluster: it is no member any "
                    + "more (even where a cluster.nodes still names it), leaves the metadata Raft group's listeners, "
                    + "and its id cannot register again.")
    static final class Remove extends AdminCommand {
        @Parameters(paramLabel = "ID", description = "the node id")
        int id;

        @Override
        int execute() {
            setMembership(this, id, NodeMembership.NODE_MEMBERSHIP_REMOVED);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("membership", "REMOVED");
            print("Node " + id + " is removed from the cluster\n", m);
            return 0;
        }
    }

    @Command(name = "recommission", mixinStandardHelpOptions = true,
            description = "Makes a decommissioning or decommissioned node ACTIVE again: placement may use it (replicas "
                    + "already moved off stay where they are).")
    static final class Recommission extends AdminCommand {
        @Parameters(paramLabel = "ID", description = "the node id")
        int id;

        @Override
        int execute() {
            setMembership(this, id, NodeMembership.NODE_MEMBERSHIP_ACTIVE);
            DescribeNodesReply reply = ControlClient.describeNodes(connection);
            print("Node " + id + " is " + membership(find(reply, id)) + "\n", json(reply, find(reply, id)));
            return 0;
        }
    }
}
