package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.NodeRecord;
import io.fluxmq.raft.metadata.NodeRecord.Membership;
import io.fluxmq.raft.metadata.NodeRecord.NodeState;
import io.fluxmq.raft.metadata.Reassignment;
import io.fluxmq.raft.metadata.TopicRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/** What the decommissioner commits for a given metadata state. */
class DecommissionerTest {
    private final NodeConfig config = NodeConfig.from(Map.of("node.id", "0",
            "cluster.nodes", "0@127.0.0.1:9092:9192,1@127.0.0.1:9093:9193,2@127.0.0.1:9094:9194"));
    private final List<MetadataCommand> submitted = new ArrayList<>();
    private long term = 1;
    private ClusterState state;
    private final Decommissioner decommissioner = new Decommissioner(new NodeController.Leadership() {
        @Override
        public long readyLeaderTerm() {
            return term;
        }

        @Override
        public int leaderId() {
            return 0;
        }
    }, () -> state, new Members(config, () -> state), c -> {
        submitted.add(c);
        return CompletableFuture.completedFuture(MetadataReply.ok(0));
    }, 2);

    private static NodeRecord node(int id, String rack, Membership membership, NodeState st) {
        return new NodeRecord(id, "127.0.0.1", 9092 + id, 9192 + id, 9392 + id, 9292 + id, "v", 1, st, rack,
                membership);
    }

    private void state(Map<Integer, NodeRecord> nodes, List<List<Integer>> assignment,
                       Map<TopicPartition, Reassignment> reassignments) {
        state = new ClusterState(1, Map.of("t", new TopicRecord("t", Uuid.randomUuid(), (short) 3, Map.of(), false,
                assignment)), Map.of(), 0, nodes, reassignments);
    }

    private Map<Integer, NodeRecord> nodes(Membership ofNode1) {
        Map<Integer, NodeRecord> nodes = new HashMap<>();
        nodes.put(0, node(0, "a", Membership.ACTIVE, NodeState.UP));
        nodes.put(1, node(1, "b", ofNode1, NodeState.UP));
        nodes.put(2, node(2, "c", Membership.ACTIVE, NodeState.UP));
        nodes.put(3, node(3, "b", Membership.ACTIVE, NodeState.UP));
        nodes.put(4, node(4, "a", Membership.ACTIVE, NodeState.UP));
        return nodes;
    }

    @Test
    void movesAtMostTheBoundAtOnceToTheLeavingNodesRack() {
        state(nodes(Membership.DECOMMISSIONING), List.of(List.of(1, 0, 2), List.of(0, 1, 2), List.of(2, 0, 1)),
                Map.of());
        decommissioner.tick();
        assertThat(submitted).containsExactly(
                new MetadataCommand.ReassignPartition("t", 0, List.of(3, 0, 2)),
                new MetadataCommand.ReassignPartition("t", 1, List.of(0, 3, 2)));
    }

    @Test
    void movesInFlightCountAgainstTheBoundAndAreNotStartedTwice() {
        state(nodes(Membership.DECOMMISSIONING), List.of(List.of(1, 0, 2), List.of(0, 1, 2), List.of(2, 0, 1)),
                Map.of(new TopicPartition("t", 0), new Reassignment(List.of(1, 0, 2), List.of(3, 0, 2))));
        decommissioner.tick();
        assertThat(submitted).containsExactly(new MetadataCommand.ReassignPartition("t", 1, List.of(0, 3, 2)));
    }

    @Test
    void aReassignmentWhoseTargetKeepsTheNodeIsRetargeted() {
        state(nodes(Membership.DECOMMISSIONING), List.of(List.of(0, 2, 4)),
                Map.of(new TopicPartition("t", 0), new Reassignment(List.of(0, 2, 4), List.of(0, 2, 1))));
        decommissioner.tick();
        assertThat(submitted).containsExactly(new MetadataCommand.ReassignPartition("t", 0, List.of(0, 2, 3)));
    }

    @Test
    void aDownNodeIsNoTargetAndANodeWithoutReplicasIsDecommissioned() {
        Map<Integer, NodeRecord> nodes = nodes(Membership.DECOMMISSIONING);
        nodes.put(3, node(3, "b", Membership.ACTIVE, NodeState.DOWN));
        nodes.put(5, new NodeRecord(5, "", 0, 0, 0, 0, "", NodeRecord.NEVER_REGISTERED, NodeState.UP, "b",
                Membership.ACTIVE));
        state(nodes, List.of(List.of(1, 0, 2)), Map.of());
        decommissioner.tick();
        assertThat(submitted).as("rack b's other nodes are DOWN or never registered: the least loaded other")
                .containsExactly(new MetadataCommand.ReassignPartition("t", 0, List.of(4, 0, 2)));

        submitted.clear();
        state(nodes, List.of(List.of(4, 0, 2)), Map.of());
        decommissioner.tick();
        assertThat(submitted).containsExactly(new MetadataCommand.SetNodeMembership(1, Membership.DECOMMISSIONED));
    }

    @Test
    void onlyTheReadyMetadataLeaderActs() {
        term = -1;
        state(nodes(Membership.DECOMMISSIONING), List.of(List.of(1, 0, 2)), Map.of());
        decommissioner.tick();
        assertThat(submitted).isEmpty();
        state(nodes(Membership.ACTIVE), List.of(List.of(1, 0, 2)), Map.of());
        term = 1;
        decommissioner.tick();
        assertThat(submitted).as("nothing is decommissioning").isEmpty();
    }
}
