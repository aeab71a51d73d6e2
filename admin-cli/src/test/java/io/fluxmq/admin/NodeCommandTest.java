package io.fluxmq.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeEndpoint;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.NodeMembership;
import io.fluxmq.control.v1.NodeState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The node table and JSON, and usage errors. */
class NodeCommandTest {
    private static final DescribeNodesReply REPLY = DescribeNodesReply.newBuilder().setControllerId(0)
            .setMetadataEpoch(40).setAnsweredBy(0)
            .addNodes(NodeInfo.newBuilder().setNodeId(0).setController(true).setState(NodeState.NODE_STATE_UP)
                    .setRack("rack-a").setMembership(NodeMembership.NODE_MEMBERSHIP_ACTIVE).setReplicaCount(12)
                    .setLeaderCount(4).setLastHeartbeatAgeMs(300).setEndpoint(NodeEndpoint.newBuilder()
                            .setHost("10.0.0.1").setKafkaPort(9092).setRaftPort(9192).setControlPort(9292)
                            .setHttpPort(9392)))
            .addNodes(NodeInfo.newBuilder().setNodeId(3).setState(NodeState.NODE_STATE_UP)
                    .setMembership(NodeMembership.NODE_MEMBERSHIP_DECOMMISSIONING).setReplicaCount(2)
                    .setLastHeartbeatAgeMs(-1).setEndpoint(NodeEndpoint.newBuilder().setHost("10.0.0.4")
                            .setKafkaPort(9095)))
            .build();

    @Test
    void tableShowsRackMembershipAndCounts() {
        String[] lines = NodeCommand.table(REPLY).split("\n");
        assertThat(lines[0].split("\\s{2,}")).containsExactly("ID", "ADDRESS", "RACK", "STATE", "MEMBERSHIP",
                "REPLICAS", "LEADERS", "LAST HEARTBEAT", "ROLE");
        assertThat(lines[1].split("\\s{2,}")).containsExactly("0", "10.0.0.1:9092", "rack-a", "UP", "ACTIVE", "12",
                "4", "0.3 s ago", "controller (leader)");
        assertThat(lines[2].split("\\s{2,}")).containsExactly("3", "10.0.0.4:9095", "-", "UP", "DECOMMISSIONING",
                "2", "0", "unknown", "broker");
    }

    @Test
    void jsonHasEveryField() {
        Map<String, Object> m = NodeCommand.json(REPLY, NodeCommand.find(REPLY, 0));
        assertThat(m).containsEntry("rack", "rack-a").containsEntry("membership", "ACTIVE")
                .containsEntry("raft_address", "10.0.0.1:9192").containsEntry("http_address", "10.0.0.1:9392")
                .containsEntry("replicas", 12).containsEntry("leaders", 4).containsEntry("state", "UP");
        assertThat(NodeCommand.json(REPLY, NodeCommand.find(REPLY, 3))).containsEntry("rack", null)
                .containsEntry("last_heartbeat_age_ms", null);
        assertThatThrownBy(() -> NodeCommand.find(REPLY, 7)).isInstanceOf(AdminException.class)
                .hasMessageContaining("node 7 is not a member");
    }

    @Test
    void addPrintsTheNextFreeIdAndTheSettingsOfTheNewNode() {
        DescribeNodesReply reply = DescribeNodesReply.newBuilder().setControllerId(1)
                .addNodes(member(0, true, NodeMembership.NODE_MEMBERSHIP_ACTIVE))
                .addNodes(member(1, true, NodeMembership.NODE_MEMBERSHIP_ACTIVE))
                .addNodes(member(2, true, NodeMembership.NODE_MEMBERSHIP_ACTIVE))
                .addNodes(member(4, false, NodeMembership.NODE_MEMBERSHIP_REMOVED))
                .build();
        assertThat(NodeAddCommand.nextFreeId(reply)).as("a removed node's id stays taken").isEqualTo(5);
        assertThat(NodeAddCommand.nextFreeId(DescribeNodesReply.getDefaultInstance())).isZero();
        assertThat(NodeAddCommand.nextFreeId(reply.toBuilder()
                .addNodes(member(1001, false, NodeMembership.NODE_MEMBERSHIP_ACTIVE)).build()))
                .as("an id the cluster gave (above reserved.broker.max.id) is not the operators'").isEqualTo(5);
        Map<String, String> s = NodeAddCommand.settings(reply, "abc", 5, "10.0.0.6", 9097, 9197, "rack-b");
        assertThat(s).containsExactly(Map.entry("node.id", "5"), Map.entry("cluster.id", "abc"),
                Map.entry("cluster.nodes", "0@10.0.0.1:9092:9192:9392:9292,1@10.0.0.2:9093:9193:9393:9293,"
                        + "2@10.0.0.3:9094:9194:9394:9294,5@10.0.0.6:9097:9197"),
                Map.entry("controller.nodes", "0,1,2"), Map.entry("kafka.port", "9097"),
                Map.entry("raft.port", "9197"), Map.entry("broker.rack", "rack-b"));
        assertThat(NodeAddCommand.settings(reply, "abc", 5, "h", 9092, 9192, null)).doesNotContainKey("broker.rack");

        StringWriter err = new StringWriter();
        assertThat(FluxmqAdmin.run(new PrintWriter(new StringWriter()), new PrintWriter(err), "node", "add",
                "-b", "127.0.0.1:1")).isEqualTo(2);
        assertThat(err.toString()).contains("--host");
    }

    private static NodeInfo member(int id, boolean controller, NodeMembership membership) {
        return NodeInfo.newBuilder().setNodeId(id).setController(controller).setMembership(membership)
                .setState(NodeState.NODE_STATE_UP).setEndpoint(NodeEndpoint.newBuilder().setHost("10.0.0." + (id + 1))
                        .setKafkaPort(9092 + id).setRaftPort(9192 + id).setHttpPort(9392 + id)
                        .setControlPort(9292 + id)).build();
    }

    @Test
    void decommissionNeedsTheControlServiceAndAnId() {
        StringWriter err = new StringWriter();
        assertThat(FluxmqAdmin.run(new PrintWriter(new StringWriter()), new PrintWriter(err), "node", "decommission",
                "2")).isEqualTo(2);
        assertThat(err.toString()).contains("--bootstrap");
        StringWriter err2 = new StringWriter();
        assertThat(FluxmqAdmin.run(new PrintWriter(new StringWriter()), new PrintWriter(err2), "node", "decommission",
                "-b", "127.0.0.1:1")).isEqualTo(2);
        assertThat(err2.toString()).contains("ID");
        StringWriter err4 = new StringWriter();
        assertThat(FluxmqAdmin.run(new PrintWriter(new StringWriter()), new PrintWriter(err4), "node", "remove",
                "-b", "127.0.0.1:1")).isEqualTo(2);
        assertThat(err4.toString()).contains("ID");
        StringWriter err3 = new StringWriter();
        assertThat(FluxmqAdmin.run(new PrintWriter(new StringWriter()), new PrintWriter(err3), "node")).isEqualTo(2);
        assertThat(err3.toString()).contains("node list", "node remove ID");
    }
}
