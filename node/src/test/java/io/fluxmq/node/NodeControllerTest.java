package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.control.v1.ControllerReply;
import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.HeartbeatRequest;
import io.fluxmq.control.v1.NodeEndpoint;
import io.fluxmq.control.v1.NodeInfo;
import io.fluxmq.control.v1.RegisterRequest;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.NodeRecord;
import io.fluxmq.raft.metadata.NodeRecord.NodeState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Down detection on the controller leader, driven by a fake clock and a fake metadata group. */
class NodeControllerTest {
    private static final long TIMEOUT_MS = 6000;
    private final NodeConfig config = NodeConfig.from(Map.of("node.id", "0",
            "cluster.nodes", "0@127.0.0.1:9092:9192,1@127.0.0.1:9093:9193,2@127.0.0.1:9094:9194",
            "node.session.timeout.ms", Long.toString(TIMEOUT_MS)));
    private long now = 1_000_000;
    private long term = 1;
    private int leaderId = 0;
    private ClusterState state = ClusterState.EMPTY;
    private final List<MetadataCommand> committed = new ArrayList<>();
    private final List<Integer> addedToMetadataGroup = new ArrayList<>();
    private final List<Integer> removedFromMetadataGroup = new ArrayList<>();
    private final NodeController controller = new NodeController(config, new Members(config, () -> state),
            new NodeController.MetadataGroup() {
                @Override
                public CompletableFuture<Void> ensureMember(ClusterMember node) {
                    addedToMetadataGroup.add(node.id());
                    return CompletableFuture.completedFuture(null);
                }

                @Override
                public CompletableFuture<Void> removeListener(int nodeId) {
                    removedFromMetadataGroup.add(nodeId);
                    return CompletableFuture.completedFuture(null);
                }
            }, new NodeController.Leadership() {
        @Override
        public long readyLeaderTerm() {
            return term;
        }

        @Override
        public int leaderId() {
            return leaderId;
        }
    }, () -> state, this::commit, () -> now);

    /** Applies node commands the way MetadataStateMachine does, enough for these tests. */
    private CompletableFuture<MetadataReply> commit(MetadataCommand command) {
        committed.add(command);
        Map<Integer, NodeRecord> nodes = new HashMap<>(state.nodes());
        if (command instanceof MetadataCommand.RegisterNode r) {
            nodes.put(r.node().id(), r.node());
        } else if (command instanceof MetadataCommand.SetNodeMembership m) {
            NodeRecord k = nodes.get(m.nodeId());
            nodes.put(m.nodeId(), new NodeRecord(k.id(), k.host(), k.kafkaPort(), k.raftPort(), k.httpPort(),
                    k.controlPort(), k.version(), k.incarnation(), k.state(), k.rack(), m.membership()));
        } else if (command instanceof MetadataCommand.SetNodeState s) {
            NodeRecord known = nodes.get(s.nodeId());
            nodes.put(s.nodeId(), known == null
                    ? new NodeRecord(s.nodeId(), "", 0, 0, 0, 0, "", NodeRecord.NEVER_REGISTERED, s.state())
                    : new NodeRecord(known.id(), known.host(), known.kafkaPort(), known.raftPort(), known.httpPort(),
                            known.controlPort(), known.version(), known.incarnation(), s.state(), known.rack(),
                            known.membership()));
        }
        state = new ClusterState(state.version() + 1, state.topics(), state.leaders(), state.nextProducerId(), nodes);
        if (command instanceof MetadataCommand.ReserveNodeId r) {
            return CompletableFuture.completedFuture(MetadataReply.ok(r.atLeast()));
        }
        return CompletableFuture.completedFuture(MetadataReply.ok(0));
    }

    private ControllerReply register(int id, long incarnation) {
        return controller.register(RegisterRequest.newBuilder().setNodeId(id).setIncarnation(incarnation)
                .setVersion("test").setEndpoint(NodeEndpoint.newBuilder().setHost("127.0.0.1")
                        .setKafkaPort(9092 + id).setRaftPort(9192 + id).setHttpPort(9392 + id)
                        .setControlPort(9292 + id)).build()).join();
    }

    private ControllerReply heartbeat(int id, long incarnation) {
        return controller.heartbeat(HeartbeatRequest.newBuilder().setNodeId(id).setIncarnation(incarnation).build())
                .join();
    }

    private void registerAll() {
        for (int id = 0; id < 3; id++) {
            assertThat(register(id, 100 + id).getStatus()).isEqualTo(ControllerReply.Status.STATUS_ACCEPTED);
        }
    }

    /** Advances the clock in 500 ms steps; every node except the {@code silent} ones heartbeats at each step. */
    private void run(long ms, Integer... silent) {
        List<Integer> quiet = List.of(silent);
        for (long t = 0; t < ms; t += 500) {
            now += 500;
            for (int id = 0; id < 3; id++) {
                if (!quiet.contains(id)) {
                    heartbeat(id, 100 + id);
                }
            }
            controller.checkLiveness();
        }
    }

    @Test
    void aSilentNodeIsMarkedDownAfterTheSessionTimeoutAndUpWhenItReturns() {
        controller.checkLiveness();
        registerAll();
        assertThat(state.downNodes()).isEmpty();

        run(TIMEOUT_MS, 2);
        assertThat(state.downNodes()).as("silent for exactly the timeout: not yet").isEmpty();
        run(500, 2);
        assertThat(state.downNodes()).containsExactly(2);
        assertThat(committed).contains(new MetadataCommand.SetNodeState(2, 102, NodeState.DOWN));

        int before = committed.size();
        run(5000, 2);
        assertThat(committed).as("DOWN is committed once").hasSize(before);

        assertThat(heartbeat(2, 102).getStatus()).isEqualTo(ControllerReply.Status.STATUS_ACCEPTED);
        assertThat(state.downNodes()).isEmpty();
        assertThat(committed.get(committed.size() - 1))
                .isEqualTo(new MetadataCommand.SetNodeState(2, 102, NodeState.UP));
    }

    @Test
    void aNewLeaderGivesEveryNodeAFullSessionTimeout() {
        controller.checkLiveness();
        registerAll();
        run(4000, 2);
        term = -1;
        leaderId = 1;
        run(20_000, 2);
        assertThat(state.downNodes()).as("not the leader: no decisions").isEmpty();

        term = 2;
        leaderId = 0;
        controller.checkLiveness();
        run(TIMEOUT_MS, 0, 1, 2);
        assertThat(state.downNodes()).as("every node silent since before the new term, within its grace").isEmpty();
        run(500, 0, 1, 2);
        assertThat(state.downNodes()).as("no other node heartbeated to the new leader; the leader itself is alive")
                .containsExactlyInAnyOrder(1, 2);
    }

    @Test
    void aPauseOfTheControllerItselfRestartsTheGracePeriod() {
        controller.checkLiveness();
        registerAll();
        run(2000);
        now += TIMEOUT_MS + 5000;
        controller.checkLiveness();
        assertThat(state.downNodes()).as("after its own pause the controller waits for heartbeats again").isEmpty();
        run(TIMEOUT_MS + 500, 1);
        assertThat(state.downNodes()).containsExactly(1);
    }

    @Test
    void aNodeThatNeverRegistersIsMarkedDownAndItsRegistrationBringsItUp() {
        controller.checkLiveness();
        register(0, 100);
        register(1, 101);
        run(TIMEOUT_MS + 500, 2);
        assertThat(state.downNodes()).containsExactly(2);
        assertThat(state.node(2).orElseThrow().incarnation()).isEqualTo(NodeRecord.NEVER_REGISTERED);

        assertThat(heartbeat(2, 102).getStatus()).isEqualTo(ControllerReply.Status.STATUS_REGISTRATION_REQUIRED);
        assertThat(register(2, 102).getStatus()).isEqualTo(ControllerReply.Status.STATUS_ACCEPTED);
        assertThat(state.downNodes()).isEmpty();
    }

    @Test
    void aRestartedNodeMustRegisterItsNewIncarnation() {
        controller.checkLiveness();
        registerAll();
        assertThat(heartbeat(1, 999).getStatus()).isEqualTo(ControllerReply.Status.STATUS_REGISTRATION_REQUIRED);
        assertThat(register(1, 999).getStatus()).isEqualTo(ControllerReply.Status.STATUS_ACCEPTED);
        assertThat(state.node(1).orElseThrow().incarnation()).isEqualTo(999);
    }

    @Test
    void aFollowerRedirectsToTheLeader() {
        term = -1;
        leaderId = 2;
        ControllerReply redirect = heartbeat(1, 101);
        assertThat(redirect.getStatus()).isEqualTo(ControllerReply.Status.STATUS_NOT_CONTROLLER);
        assertThat(redirect.getControllerId()).isEqualTo(2);
        assertThat(redirect.getControllerAddress()).isEqualTo("127.0.0.1:9294");
        assertThat(committed).isEmpty();
    }

    @Test
    void aNodeOutsideClusterNodesJoinsThroughTheMetadataGroupAndIsWatchedFromThen() {
        registerAll();
        ControllerReply joined = controller.register(RegisterRequest.newBuilder().setNodeId(7).setIncarnation(1)
                .setVersion("test").setRack("rack-c").setClusterId(config.clusterId())
                .setEndpoint(NodeEndpoint.newBuilder().setHost("10.0.0.7").setKafkaPort(9099).setRaftPort(9199)
                        .setHttpPort(9399).setControlPort(9299)).build()).join();
        assertThat(joined.getStatus()).isEqualTo(ControllerReply.Status.STATUS_ACCEPTED);
        assertThat(addedToMetadataGroup).as("added to the metadata group before it is registered").contains(7);
        assertThat(state.node(7).orElseThrow().rack()).isEqualTo("rack-c");
        DescribeNodesReply reply = controller.describe();
        assertThat(reply.getNodesList()).extracting(NodeInfo::getNodeId).containsExactly(0, 1, 2, 7);
        assertThat(reply.getNodes(3).getEndpoint().getControlPort()).as("its address from metadata").isEqualTo(9299);
        assertThat(reply.getNodes(3).getRack()).isEqualTo("rack-c");

        now += TIMEOUT_MS + 1;
        heartbeat(0, 100);
        heartbeat(1, 101);
        heartbeat(2, 102);
        controller.checkLiveness();
        assertThat(state.node(7).orElseThrow().isUp()).as("silent for the session timeout").isFalse();
    }

    @Test
    void aNodeOfAnotherClusterIsRejected() {
        ControllerReply reply = controller.register(RegisterRequest.newBuilder().setNodeId(7).setIncarnation(1)
                .setClusterId("someOtherCluster").setEndpoint(NodeEndpoint.newBuilder().setHost("127.0.0.1")).build())
                .join();
        assertThat(reply.getStatus()).isEqualTo(ControllerReply.Status.STATUS_REJECTED);
        assertThat(reply.getMessage()).contains("set cluster.id=" + config.clusterId());
        assertThat(committed).isEmpty();
        assertThat(addedToMetadataGroup).isEmpty();
    }

    @Test
    void decommissionNeedsEnoughOtherNodesAndRecommissionUndoesIt() {
        registerAll();
        state = new ClusterState(state.version() + 1, Map.of("t", new io.fluxmq.raft.metadata.TopicRecord("t",
                org.apache.kafka.common.Uuid.randomUuid(), (short) 3, Map.of(), false, List.of(List.of(0, 1, 2)))),
                state.leaders(), state.nextProducerId(), state.nodes());
        ControllerReply refused = controller.setMembership(1, NodeRecord.Membership.DECOMMISSIONING).join();
        assertThat(refused.getStatus()).isEqualTo(ControllerReply.Status.STATUS_REJECTED);
        assertThat(refused.getMessage()).contains("only 2 other nodes take replicas");
        assertThat(controller.setMembership(9, NodeRecord.Membership.DECOMMISSIONING).join().getStatus())
                .as("never registered").isEqualTo(ControllerReply.Status.STATUS_REJECTED);

        controller.register(RegisterRequest.newBuilder().setNodeId(3).setIncarnation(1).setEndpoint(
                NodeEndpoint.newBuilder().setHost("127.0.0.1").setRaftPort(9195)).build()).join();
        assertThat(controller.setMembership(1, NodeRecord.Membership.DECOMMISSIONING).join().getStatus())
                .isEqualTo(ControllerReply.Status.STATUS_ACCEPTED);
        assertThat(state.node(1).orElseThrow().membership()).isEqualTo(NodeRecord.Membership.DECOMMISSIONING);
        assertThat(controller.describe().getNodes(1).getMembership())
                .isEqualTo(io.fluxmq.control.v1.NodeMembership.NODE_MEMBERSHIP_DECOMMISSIONING);
        assertThat(controller.describe().getNodes(1).getReplicaCount()).isEqualTo(1);
        assertThat(controller.setMembership(1, NodeRecord.Membership.ACTIVE).join().getStatus())
                .isEqualTo(ControllerReply.Status.STATUS_ACCEPTED);
        assertThat(state.node(1).orElseThrow().membership()).isEqualTo(NodeRecord.Membership.ACTIVE);
    }

    @Test
    void aStoppedDecommissionedNodeIsRemovedFromTheMetadataGroupAndTheMembers() {
        registerAll();
        commit(new MetadataCommand.SetNodeMembership(1, NodeRecord.Membership.DECOMMISSIONED));
        ControllerReply running = controller.setMembership(1, NodeRecord.Membership.REMOVED).join();
        assertThat(running.getStatus()).isEqualTo(ControllerReply.Status.STATUS_REJECTED);
        assertThat(running.getMessage()).contains("stop it");
        commit(new MetadataCommand.SetNodeState(1, 101, NodeState.DOWN));
        assertThat(controller.setMembership(1, NodeRecord.Membership.REMOVED).join().getStatus())
                .isEqualTo(ControllerReply.Status.STATUS_ACCEPTED);
        assertThat(removedFromMetadataGroup).containsExactly(1);
        assertThat(state.node(1).orElseThrow().membership()).isEqualTo(NodeRecord.Membership.REMOVED);
        assertThat(controller.describe().getNodesList()).as("cluster.nodes still names it").extracting(NodeInfo::getNodeId)
                .containsExactly(0, 2);
        assertThat(register(1, 999).getStatus()).isEqualTo(ControllerReply.Status.STATUS_REJECTED);
    }

    @Test
    void describeListsEveryNodeWithStateAndAge() {
        controller.checkLiveness();
        register(0, 100);
        now += 1500;
        register(1, 101);
        DescribeNodesReply reply = controller.describe();
        assertThat(reply.getControllerId()).isEqualTo(0);
        assertThat(reply.getNodesList()).extracting(NodeInfo::getNodeId).containsExactly(0, 1, 2);
        assertThat(reply.getNodes(0).getState()).isEqualTo(io.fluxmq.control.v1.NodeState.NODE_STATE_UP);
        assertThat(reply.getNodes(0).getLastHeartbeatAgeMs()).isEqualTo(1500);
        assertThat(reply.getNodes(1).getLastHeartbeatAgeMs()).isEqualTo(0);
        assertThat(reply.getNodes(2).getState()).isEqualTo(io.fluxmq.control.v1.NodeState.NODE_STATE_UNKNOWN);
        assertThat(reply.getNodes(2).getEndpoint().getControlPort()).as("from cluster.nodes: raft port + 100")
                .isEqualTo(9294);
        now -= 10; // as when a heartbeat lands between describe() reading the clock and computing the ages
        assertThat(controller.describe().getNodes(1).getLastHeartbeatAgeMs()).as("never negative").isZero();
        term = -1;
        assertThat(controller.describe().getNodes(0).getLastHeartbeatAgeMs()).as("ages only on the leader")
                .isEqualTo(-1);
    }

    @Test
    void allocatesANodeIdAboveTheFloorAndTheConfiguredNodesOnlyAsTheLeader() {
        io.fluxmq.control.v1.AllocateNodeIdReply reply = controller.allocateNodeId("", 1001).join();
        assertThat(reply.getResult().getStatus()).isEqualTo(ControllerReply.Status.STATUS_ACCEPTED);
        assertThat(reply.getNodeId()).isEqualTo(1001);
        assertThat(reply.getClusterId()).isEqualTo(config.clusterId());
        assertThat(reply.getControllerIdsList()).containsExactly(0, 1, 2);
        assertThat(committed).containsExactly(new MetadataCommand.ReserveNodeId(1001));

        controller.allocateNodeId(config.clusterId(), 1);
        assertThat(committed.get(1)).as("above every id in cluster.nodes")
                .isEqualTo(new MetadataCommand.ReserveNodeId(3));

        assertThat(controller.allocateNodeId("another-cluster", 1001).join().getResult().getStatus())
                .isEqualTo(ControllerReply.Status.STATUS_REJECTED);
        term = -1;
        leaderId = 2;
        assertThat(controller.allocateNodeId("", 1001).join().getResult().getStatus())
                .isEqualTo(ControllerReply.Status.STATUS_NOT_CONTROLLER);
        assertThat(committed).hasSize(2);
    }
}
