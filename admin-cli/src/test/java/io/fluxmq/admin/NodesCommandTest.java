package io.fluxmq.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeEndpoint;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.NodeState;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The nodes table, and usage errors exiting with 2. */
class NodesCommandTest {

    @Test
    void tableShowsStateAgeAndRole() {
        DescribeNodesReply reply = DescribeNodesReply.newBuilder().setControllerId(0).setMetadataEpoch(12)
                .setAnsweredBy(0)
                .addNodes(NodeInfo.newBuilder().setNodeId(0).setController(true).setState(NodeState.NODE_STATE_UP)
                        .setLastHeartbeatAgeMs(420).setEndpoint(NodeEndpoint.newBuilder().setHost("10.0.0.1")
                                .setKafkaPort(9092)))
                .addNodes(NodeInfo.newBuilder().setNodeId(3).setState(NodeState.NODE_STATE_DOWN)
                        .setLastHeartbeatAgeMs(7250).setEndpoint(NodeEndpoint.newBuilder().setHost("10.0.0.4")
                                .setKafkaPort(9095)))
                .addNodes(NodeInfo.newBuilder().setNodeId(4).setState(NodeState.NODE_STATE_UNKNOWN)
                        .setLastHeartbeatAgeMs(-1))
                .build();
        String[] lines = NodesCommand.format(reply).split("\n");
        assertThat(lines[0]).startsWith("ID").contains("ADDRESS", "STATE", "LAST HEARTBEAT", "ROLE");
        assertThat(lines[1].split("\\s+")).containsExactly("0", "10.0.0.1:9092", "UP", "0.4", "s", "ago",
                "controller", "(leader)");
        assertThat(lines[2].split("\\s+")).containsExactly("3", "10.0.0.4:9095", "DOWN", "7.3", "s", "ago",
                "broker");
        assertThat(lines[3].split("\\s+")).containsExactly("4", "-", "UNKNOWN", "unknown", "broker");
        assertThat(lines[4]).isEqualTo("controller leader: 0, metadata epoch 12, answered by node 0");
    }

    @Test
    void missingCommandOrBootstrapIsAUsageError() {
        StringWriter err = new StringWriter();
        assertThat(FluxmqAdmin.run(new PrintWriter(new StringWriter()), new PrintWriter(err))).isEqualTo(2);
        assertThat(err.toString()).contains("missing command");
        StringWriter err2 = new StringWriter();
        assertThat(FluxmqAdmin.run(new PrintWriter(new StringWriter()), new PrintWriter(err2), "nodes")).isEqualTo(2);
        assertThat(err2.toString()).contains("--bootstrap");
        StringWriter err3 = new StringWriter();
        assertThat(FluxmqAdmin.run(new PrintWriter(new StringWriter()), new PrintWriter(err3), "cluster", "status"))
                .isEqualTo(2);
        assertThat(err3.toString()).contains("--bootstrap");
        StringWriter err4 = new StringWriter();
        assertThat(FluxmqAdmin.run(new PrintWriter(new StringWriter()), new PrintWriter(err4), "cluster")).isEqualTo(2);
        assertThat(err4.toString()).contains("cluster status");
    }

    @Test
    void clusterStatusAsksTheGivenAddresses() {
        StringWriter err = new StringWriter();
        // nothing listens on port 1: the command tried the address it was given, names it, and exits 3 (unreachable)
        assertThat(FluxmqAdmin.run(new PrintWriter(new StringWriter()), new PrintWriter(err), "cluster", "status",
                "--bootstrap", "127.0.0.1:1", "--timeout-ms", "2000")).isEqualTo(3);
        assertThat(err.toString()).contains("no node answered", "127.0.0.1:1");
    }
}
