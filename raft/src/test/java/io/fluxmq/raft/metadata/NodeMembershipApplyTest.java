package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.metadata.NodeRecord.Membership;
import io.fluxmq.raft.metadata.NodeRecord.NodeState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** Racks and decommissioning as the metadata state machine applies them, and their place in snapshots. */
class NodeMembershipApplyTest {
    private final MetadataStateMachine sm = new MetadataStateMachine();

    private static NodeRecord node(int id, long incarnation, String rack) {
        return new NodeRecord(id, "127.0.0.1", 9092 + id, 9192 + id, 9392 + id, 9292 + id, "0.1.0", incarnation,
                NodeState.UP, rack, Membership.ACTIVE);
    }

    private Membership membership(int id) {
        return sm.state().node(id).orElseThrow().membership();
    }

    @Test
    void decommissionedOnlyOnceNoPartitionNamesTheNode() {
        sm.apply(new MetadataCommand.RegisterNode(node(1, 100, "a")));
        sm.apply(new MetadataCommand.RegisterNode(node(2, 100, "b")));
        sm.apply(new MetadataCommand.CreateTopic(new TopicRecord("t", Uuid.randomUuid(), (short) 1, Map.of(), false,
                List.of(List.of(1)))));

        MetadataReply early = sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.DECOMMISSIONED));
        assertThat(early.errorCode()).as("not DECOMMISSIONING yet").isEqualTo(Errors.INVALID_REQUEST.code());
        assertThat(sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.DECOMMISSIONING)).isOk()).isTrue();
        assertThat(membership(1)).isEqualTo(Membership.DECOMMISSIONING);
        assertThat(sm.state().node(1).orElseThrow().placeable()).isFalse();

        MetadataReply held = sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.DECOMMISSIONED));
        assertThat(held.errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
        assertThat(held.message()).contains("still holds 1 replicas");

        sm.apply(new MetadataCommand.ReassignPartition("t", 0, List.of(2)));
        assertThat(sm.state().partitionsOn(1)).as("a leaving replica still counts")
                .containsExactly(new TopicPartition("t", 0));
        assertThat(sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.DECOMMISSIONED)).isOk()).isFalse();
        sm.apply(new MetadataCommand.CompleteReassignment("t", 0, List.of(2)));
        assertThat(sm.state().partitionsOn(1)).isEmpty();
        assertThat(sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.DECOMMISSIONED)).isOk()).isTrue();
        assertThat(membership(1)).isEqualTo(Membership.DECOMMISSIONED);

        assertThat(sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.ACTIVE)).isOk()).isTrue();
        assertThat(membership(1)).isEqualTo(Membership.ACTIVE);
    }

    @Test
    void onlyAStoppedDecommissionedNodeIsRemovedAndStaysRemoved() {
        sm.apply(new MetadataCommand.RegisterNode(node(1, 100, "a")));
        MetadataReply active = sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.REMOVED));
        assertThat(active.errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
        sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.DECOMMISSIONING));
        sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.DECOMMISSIONED));
        MetadataReply running = sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.REMOVED));
        assertThat(running.message()).contains("only a DECOMMISSIONED node that is DOWN");
        sm.apply(new MetadataCommand.SetNodeState(1, 100, NodeState.DOWN));
        assertThat(sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.REMOVED)).isOk()).isTrue();
        assertThat(membership(1)).isEqualTo(Membership.REMOVED);

        assertThat(sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.ACTIVE)).isOk()).isFalse();
        MetadataReply again = sm.apply(new MetadataCommand.RegisterNode(node(1, 300, "a")));
        assertThat(again.message()).contains("a new node needs a new id");
        assertThat(sm.state().node(1).orElseThrow().incarnation()).isEqualTo(100);
        assertThat(membership(1)).isEqualTo(Membership.REMOVED);
    }

    @Test
    void aRestartedNodeKeepsItsMembershipAndTakesItsNewRack() {
        sm.apply(new MetadataCommand.RegisterNode(node(1, 100, "a")));
        sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.DECOMMISSIONING));
        sm.apply(new MetadataCommand.RegisterNode(node(1, 200, "c")));
        NodeRecord n = sm.state().node(1).orElseThrow();
        assertThat(n.membership()).isEqualTo(Membership.DECOMMISSIONING);
        assertThat(n.rack()).isEqualTo("c");
        assertThat(n.incarnation()).isEqualTo(200);
    }

    @Test
    void anUnknownNodeCannotBeDecommissioned() {
        MetadataReply reply = sm.apply(new MetadataCommand.SetNodeMembership(7, Membership.DECOMMISSIONING));
        assertThat(reply.errorCode()).isEqualTo(Errors.BROKER_ID_NOT_REGISTERED.code());
        assertThat(sm.state().nodes()).isEmpty();
    }

    @Test
    void snapshotsCarryRacksAndMembershipAndStayVersionTwoWithoutThem() throws IOException {
        sm.apply(new MetadataCommand.RegisterNode(node(1, 100, "")));
        assertThat(snapshot()[5]).as("format version: nothing new to carry").isEqualTo((byte) 2);
        assertThat(read(snapshot()).nodes()).isEqualTo(sm.state().nodes());

        sm.apply(new MetadataCommand.RegisterNode(node(2, 100, "rack-b")));
        sm.apply(new MetadataCommand.SetNodeMembership(1, Membership.DECOMMISSIONING));
        byte[] bytes = snapshot();
        assertThat(bytes[5]).isEqualTo((byte) 5);
        ClusterState read = read(bytes);
        assertThat(read.nodes()).isEqualTo(sm.state().nodes());
        assertThat(read.node(2).orElseThrow().rack()).isEqualTo("rack-b");
        assertThat(read.node(1).orElseThrow().membership()).isEqualTo(Membership.DECOMMISSIONING);
    }

    private byte[] snapshot() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MetadataStateMachine.writeSnapshot(new DataOutputStream(bytes), sm.state());
        return bytes.toByteArray();
    }

    private static ClusterState read(byte[] bytes) throws IOException {
        return MetadataStateMachine.readSnapshot(new DataInputStream(new ByteArrayInputStream(bytes)), 1);
    }
}
