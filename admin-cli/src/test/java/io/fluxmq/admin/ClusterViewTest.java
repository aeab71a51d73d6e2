package io.fluxmq.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.NodeEndpoint;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.NodeMembership;
import io.fluxmq.control.v1.NodeState;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/** cluster status and health from a DescribeNodes reply and Kafka topic descriptions. */
class ClusterViewTest {
    private static final Node N0 = new Node(0, "10.0.0.1", 9092);
    private static final Node N1 = new Node(1, "10.0.0.2", 9092);
    private static final Node N2 = new Node(2, "", -1); // Kafka lists no address for a broker it left out

    private static DescribeNodesReply nodes(NodeState third) {
        DescribeNodesReply.Builder b = DescribeNodesReply.newBuilder().setControllerId(0).setMetadataEpoch(17);
        for (int i = 0; i < 3; i++) {
            b.addNodes(NodeInfo.newBuilder().setNodeId(i).setController(true)
                    .setState(i == 2 ? third : NodeState.NODE_STATE_UP).setLastHeartbeatAgeMs(i == 2 ? 7000 : 300)
                    .setRack(i == 1 ? "rack-b" : "")
                    .setEndpoint(NodeEndpoint.newBuilder().setHost("10.0.0." + (i + 1)).setKafkaPort(9092)
                            .setControlPort(9292)));
        }
        return b.build();
    }

    private static List<TopicDescription> topicsWithNode2Out() {
        TopicPartitionInfo p0 = new TopicPartitionInfo(0, N0, List.of(N0, N1, N2), List.of(N0, N1));
        TopicPartitionInfo p1 = new TopicPartitionInfo(1, N1, List.of(N1, N2, N0), List.of(N1, N0));
        TopicPartitionInfo p2 = new TopicPartitionInfo(2, null, List.of(N2), List.of());
        TopicPartitionInfo q0 = new TopicPartitionInfo(0, N0, List.of(N0, N1), List.of(N0, N1));
        return List.of(new TopicDescription("orders", false, List.of(p0, p1, p2), Set.of(),
                        Uuid.randomUuid()),
                new TopicDescription("audit", false, List.of(q0), Set.of(), Uuid.randomUuid()));
    }

    @Test
    void statusCountsReplicasAndLeadersAndListsBadPartitions() {
        ClusterView v = ClusterView.of(nodes(NodeState.NODE_STATE_DOWN), "c1", N0, List.of(N0, N1),
                topicsWithNode2Out());
        assertThat(v.nodes()).extracting(ClusterView.NodeRow::replicas).containsExactly(3, 3, 3);
        assertThat(v.nodes()).extracting(ClusterView.NodeRow::leaders).containsExactly(2, 1, 0);
        assertThat(v.nodes()).extracting(ClusterView.NodeRow::rack).containsExactly(null, "rack-b", null);
        assertThat(v.underReplicated()).extracting(r -> r.topic() + "-" + r.partition())
                .containsExactly("orders-0", "orders-1", "orders-2");
        assertThat(v.leaderless()).extracting(r -> r.topic() + "-" + r.partition()).containsExactly("orders-2");
        assertThat(v.underReplicated().get(0).outOfSync()).containsExactly(2);

        String[] lines = v.format().split("\n");
        assertThat(lines[0]).isEqualTo("cluster c1, controller 0, metadata epoch 17");
        assertThat(lines[1].split("\\s{2,}")).containsExactly("ID", "ADDRESS", "STATE", "CONTROL", "LAST HEARTBEAT",
                "ROLE", "REPLICAS", "LEADERS", "RACK", "MEMBERSHIP");
        assertThat(lines[2].split("\\s{2,}")).containsExactly("0", "10.0.0.1:9092", "UP", "10.0.0.1:9292",
                "0.3 s ago", "controller (leader)", "3", "2", "-", "ACTIVE");
        // the row starts as docker compose's check expects: id, address, state
        assertThat(lines[4]).matches("^2 +10\\.0\\.0\\.3:9092 +DOWN .*");
        assertThat(lines[5]).isEqualTo("2 topics, 4 partitions, 3 under-replicated, 1 without a leader");
        String text = v.format();
        assertThat(text).contains("UNDER-REPLICATED PARTITIONS", "PARTITIONS WITHOUT A LEADER");
        assertThat(Arrays.stream(lines).filter(l -> l.startsWith("orders  0")).findFirst().orElseThrow()
                .split("\\s+")).containsExactly("orders", "0", "0", "0,1,2", "0,1", "2");

        assertThat(v.problems()).containsExactly("node 2 is DOWN",
                "1 partition(s) without a leader: orders-2",
                "3 under-replicated partition(s): orders-0, orders-1, orders-2");
    }

    @Test
    void aFullyReplicatedClusterHasNoProblems() {
        TopicPartitionInfo p0 = new TopicPartitionInfo(0, N1, List.of(N0, N1), List.of(N1, N0));
        ClusterView v = ClusterView.of(nodes(NodeState.NODE_STATE_UP), "c1", N0, List.of(N0, N1, N2),
                List.of(new TopicDescription("t", false, List.of(p0), Set.of(), Uuid.randomUuid())));
        assertThat(v.problems()).isEmpty();
        assertThat(v.format()).doesNotContain("UNDER-REPLICATED");
    }

    @Test
    void aDecommissionedNodeThatIsDownIsNoProblem() {
        DescribeNodesReply.Builder b = nodes(NodeState.NODE_STATE_DOWN).toBuilder();
        b.setNodes(2, b.getNodes(2).toBuilder().setMembership(NodeMembership.NODE_MEMBERSHIP_DECOMMISSIONED));
        TopicPartitionInfo p0 = new TopicPartitionInfo(0, N1, List.of(N0, N1), List.of(N1, N0));
        ClusterView v = ClusterView.of(b.build(), "c1", N0, List.of(N0, N1),
                List.of(new TopicDescription("t", false, List.of(p0), Set.of(), Uuid.randomUuid())));
        assertThat(v.nodes().get(2).membership()).isEqualTo("DECOMMISSIONED");
        assertThat(v.problems()).isEmpty();
        assertThat(ClusterView.of(nodes(NodeState.NODE_STATE_DOWN), "c1", N0, List.of(N0, N1),
                List.of(new TopicDescription("t", false, List.of(p0), Set.of(), Uuid.randomUuid()))).problems())
                .as("an ACTIVE node that is DOWN is one").containsExactly("node 2 is DOWN");
    }

    @Test
    void withoutTheControlServiceKafkaBrokersAreUpAndOtherReplicaHoldersDown() {
        ClusterView v = ClusterView.of(null, "c1", N0, List.of(N0, N1), topicsWithNode2Out());
        assertThat(v.nodes()).extracting(ClusterView.NodeRow::state).containsExactly("UP", "UP", "DOWN");
        assertThat(v.nodes().get(2).kafkaAddress()).isNull();
        assertThat(v.metadataEpoch()).isNull();
        assertThat(v.problems()).first().isEqualTo("node 2 is DOWN");
    }

    @Test
    void jsonHasEveryNodeAndPartitionList() {
        ClusterView v = ClusterView.of(nodes(NodeState.NODE_STATE_DOWN), "c1", N0, List.of(N0, N1),
                topicsWithNode2Out());
        Map<String, Object> json = v.json();
        assertThat(json).containsEntry("cluster_id", "c1").containsEntry("controller", 0)
                .containsEntry("partitions", 4);
        assertThat((List<?>) json.get("nodes")).hasSize(3);
        assertThat((List<?>) json.get("under_replicated_partitions")).hasSize(3);
        String text = Json.write(json);
        assertThat(text).contains("\"state\": \"DOWN\"", "\"out_of_sync\": [\n");
    }
}
