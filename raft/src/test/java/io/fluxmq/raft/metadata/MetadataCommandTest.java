package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raft.metadata.NodeRecord.NodeState;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/** Every metadata command survives encode/decode; unknown types and states are refused. */
class MetadataCommandTest {
    static final NodeRecord NODE = new NodeRecord(3, "10.0.0.3", 9095, 9195, 9395, 9295, "0.1.0", 1_700_000_000_123L,
            NodeState.UP);
    static final NodeRecord RACKED = new NodeRecord(4, "10.0.0.4", 9096, 9196, 9396, 9296, "0.1.0", 42L,
            NodeState.UP, "eu-west-1b", NodeRecord.Membership.ACTIVE);

    private static MetadataCommand roundTrip(MetadataCommand command) throws IOException {
        return MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(command.encode())));
    }

    @Test
    void everyCommandRoundTrips() throws IOException {
        List<MetadataCommand> commands = List.of(
                new MetadataCommand.CreateTopic(new TopicRecord("t", Uuid.randomUuid(), (short) 3,
                        Map.of("retention.ms", "1000"), false, List.of(List.of(0, 1, 2), List.of(1, 2, 0)))),
                new MetadataCommand.CreateTopic(new TopicRecord("led", Uuid.randomUuid(), (short) 3, Map.of(), false,
                        List.of(List.of(2, 0, 1))), 1),
                new MetadataCommand.DeleteTopic("t"),
                new MetadataCommand.AddPartitions("t", List.of(List.of(2, 0, 1))),
                new MetadataCommand.AllocateProducerIds(1000),
                new MetadataCommand.ReportLeader("t", 1, 2, 7),
                new MetadataCommand.ReportLeaders(2, List.of(new MetadataCommand.LedPartition("t", 1, 7),
                        new MetadataCommand.LedPartition("u", 0, 3))),
                new MetadataCommand.RegisterNode(NODE),
                new MetadataCommand.RegisterNode(NodeRecord.neverRegistered(9)),
                new MetadataCommand.SetNodeState(3, 1_700_000_000_123L, NodeState.DOWN),
                new MetadataCommand.SetNodeState(4, NodeRecord.NEVER_REGISTERED, NodeState.UP),
                new MetadataCommand.RegisterNode(RACKED),
                new MetadataCommand.SetNodeMembership(3, NodeRecord.Membership.DECOMMISSIONING),
                new MetadataCommand.SetNodeMembership(3, NodeRecord.Membership.ACTIVE));
        for (MetadataCommand c : commands) {
            assertThat(roundTrip(c)).isEqualTo(c);
        }
    }

    @Test
    void nodeCommandsHaveTheirDocumentedLayout() throws IOException {
        byte[] bytes = new MetadataCommand.SetNodeState(3, 42, NodeState.DOWN).encode();
        // type 7 | id int32 | incarnation int64 | state int8 (1 = DOWN)
        assertThat(bytes).containsExactly(7, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 42, 1);
        assertThat(new MetadataCommand.RegisterNode(NODE).encode()[0]).as("no rack: the format older builds read")
                .isEqualTo((byte) 6);
        assertThat(new MetadataCommand.RegisterNode(RACKED).encode()[0]).isEqualTo((byte) 14);
        TopicRecord topic = new TopicRecord("t", Uuid.randomUuid(), (short) 1, Map.of(), false, List.of(List.of(0)));
        assertThat(new MetadataCommand.CreateTopic(topic).encode()[0]).as("no first leader: the format older builds "
                + "read").isEqualTo((byte) 1);
        assertThat(new MetadataCommand.CreateTopic(topic, 1).encode()[0]).isEqualTo((byte) 20);
        // type 15 | id int32 | membership int8 (2 = DECOMMISSIONED)
        assertThat(new MetadataCommand.SetNodeMembership(3, NodeRecord.Membership.DECOMMISSIONED).encode())
                .containsExactly(15, 0, 0, 0, 3, 2);
    }

    @Test
    void unknownTypeOrStateIsRefused() {
        assertThatThrownBy(() -> MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(new byte[] {99}))))
                .isInstanceOf(IOException.class).hasMessageContaining("unknown metadata command type 99");
        byte[] bad = new MetadataCommand.SetNodeState(3, 42, NodeState.DOWN).encode();
        bad[bad.length - 1] = 5;
        assertThatThrownBy(() -> MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(bad))))
                .isInstanceOf(IOException.class).hasMessageContaining("unknown node state 5");
    }
}
