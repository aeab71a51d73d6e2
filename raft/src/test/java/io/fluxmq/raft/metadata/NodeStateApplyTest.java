package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

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

/** Registration and UP/DOWN commands as the metadata state machine applies them, and their place in snapshots. */
class NodeStateApplyTest {
    private final MetadataStateMachine sm = new MetadataStateMachine();

    private static NodeRecord node(int id, long incarnation) {
        return new NodeRecord(id, "127.0.0.1", 9092 + id, 9192 + id, 9392 + id, 9292 + id, "0.1.0", incarnation,
                NodeState.UP);
    }

    @Test
    void registerThenDownThenUpFollowsTheIncarnation() {
        assertThat(sm.apply(new MetadataCommand.RegisterNode(node(1, 100))).isOk()).isTrue();
        assertThat(sm.state().node(1)).contains(node(1, 100));
        assertThat(sm.state().downNodes()).isEmpty();

        assertThat(sm.apply(new MetadataCommand.SetNodeState(1, 100, NodeState.DOWN)).isOk()).isTrue();
        assertThat(sm.state().downNodes()).containsExactly(1);
        assertThat(sm.state().node(1).orElseThrow().host()).as("the endpoint stays known").isEqualTo("127.0.0.1");

        assertThat(sm.apply(new MetadataCommand.SetNodeState(1, 100, NodeState.UP)).isOk()).isTrue();
        assertThat(sm.state().downNodes()).isEmpty();
    }

    @Test
    void aDecisionAboutAnEarlierIncarnationIsIgnored() {
        sm.apply(new MetadataCommand.RegisterNode(node(1, 100)));
        sm.apply(new MetadataCommand.RegisterNode(node(1, 200)));
        MetadataReply stale = sm.apply(new MetadataCommand.SetNodeState(1, 100, NodeState.DOWN));
        assertThat(stale.errorCode()).isEqualTo(Errors.STALE_BROKER_EPOCH.code());
        assertThat(sm.state().node(1).orElseThrow().isUp()).isTrue();

        MetadataReply oldRegistration = sm.apply(new MetadataCommand.RegisterNode(node(1, 100)));
        assertThat(oldRegistration.errorCode()).isEqualTo(Errors.STALE_BROKER_EPOCH.code());
        assertThat(sm.state().node(1).orElseThrow().incarnation()).isEqualTo(200);
    }

    @Test
    void aNeverRegisteredNodeCanBeMarkedDownButNotUp() {
        assertThat(sm.apply(new MetadataCommand.SetNodeState(2, NodeRecord.NEVER_REGISTERED, NodeState.UP)).isOk())
                .isFalse();
        assertThat(sm.state().nodes()).isEmpty();
        assertThat(sm.apply(new MetadataCommand.SetNodeState(2, NodeRecord.NEVER_REGISTERED, NodeState.DOWN)).isOk())
                .isTrue();
        assertThat(sm.state().downNodes()).containsExactly(2);
        sm.apply(new MetadataCommand.RegisterNode(node(2, 300)));
        assertThat(sm.state().node(2)).contains(node(2, 300));
    }

    @Test
    void repeatingTheSameRegistrationPublishesNothingNew() {
        sm.apply(new MetadataCommand.RegisterNode(node(1, 100)));
        long version = sm.state().version();
        sm.apply(new MetadataCommand.RegisterNode(node(1, 100)));
        assertThat(sm.state().version()).isEqualTo(version);
    }

    @Test
    void snapshotsCarryNodesAndVersionOneSnapshotsStillLoad() throws IOException {
        sm.apply(new MetadataCommand.CreateTopic(new TopicRecord("t", Uuid.randomUuid(), (short) 1, Map.of(), false,
                List.of(List.of(0)))));
        sm.apply(new MetadataCommand.ReportLeader("t", 0, 0, 3));
        sm.apply(new MetadataCommand.RegisterNode(node(1, 100)));
        sm.apply(new MetadataCommand.SetNodeState(2, NodeRecord.NEVER_REGISTERED, NodeState.DOWN));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MetadataStateMachine.writeSnapshot(new DataOutputStream(bytes), sm.state());
        ClusterState read = MetadataStateMachine.readSnapshot(
                new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), 77);
        assertThat(read).isEqualTo(new ClusterState(77, sm.state().topics(), sm.state().leaders(),
                sm.state().nextProducerId(), sm.state().nodes()));

        ByteArrayOutputStream v1 = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(v1);
        out.writeInt(0x464c584d);
        out.writeShort(1);
        out.writeLong(5000);
        out.writeInt(0);
        out.writeInt(1);
        out.writeUTF("t");
        out.writeInt(0);
        out.writeInt(2);
        out.writeInt(9);
        ClusterState old = MetadataStateMachine.readSnapshot(new DataInputStream(new ByteArrayInputStream(
                v1.toByteArray())), 10);
        assertThat(old.nextProducerId()).isEqualTo(5000);
        assertThat(old.leader(new TopicPartition("t", 0))).contains(new LeaderRecord(2, 9));
        assertThat(old.nodes()).isEmpty();
    }
}
