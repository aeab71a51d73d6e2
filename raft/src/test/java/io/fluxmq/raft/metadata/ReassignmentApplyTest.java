package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

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

/** ReassignPartition and CompleteReassignment as the metadata state machine applies them, and in snapshots. */
class ReassignmentApplyTest {
    private static final TopicPartition TP = new TopicPartition("t", 1);
    private final MetadataStateMachine sm = new MetadataStateMachine();

    ReassignmentApplyTest() {
        sm.apply(new MetadataCommand.CreateTopic(new TopicRecord("t", Uuid.randomUuid(), (short) 3, Map.of(), false,
                List.of(List.of(0, 1, 2), List.of(1, 2, 0)))));
    }

    private static MetadataCommand roundTrip(MetadataCommand command) throws IOException {
        return MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(command.encode())));
    }

    @Test
    void commandsRoundTripIncludingACancel() throws IOException {
        for (MetadataCommand c : List.of(new MetadataCommand.ReassignPartition("t", 1, List.of(3, 1, 2)),
                new MetadataCommand.ReassignPartition("t", 1, null),
                new MetadataCommand.CompleteReassignment("t", 1, List.of(3, 1)))) {
            assertThat(roundTrip(c)).isEqualTo(c);
        }
    }

    @Test
    void aReassignmentRunsUntilCompletedWithTheTarget() {
        assertThat(sm.apply(new MetadataCommand.ReassignPartition("t", 1, List.of(2, 0, 3))).isOk()).isTrue();
        Reassignment r = sm.state().reassignment(TP).orElseThrow();
        assertThat(r.original()).containsExactly(1, 2, 0);
        assertThat(r.adding()).containsExactly(3);
        assertThat(r.removing()).containsExactly(1);
        assertThat(sm.state().replicas(TP)).as("target, then the leaving replicas").containsExactly(2, 0, 3, 1);
        assertThat(sm.state().targetReplicas(TP)).containsExactly(2, 0, 3);
        assertThat(sm.state().topic("t").orElseThrow().replicas(1)).as("assignment unchanged while it runs")
                .containsExactly(1, 2, 0);

        MetadataReply wrong = sm.apply(new MetadataCommand.CompleteReassignment("t", 1, List.of(2, 0, 1)));
        assertThat(wrong.errorCode()).isEqualTo(Errors.NO_REASSIGNMENT_IN_PROGRESS.code());
        assertThat(sm.apply(new MetadataCommand.CompleteReassignment("t", 1, List.of(2, 0, 3))).isOk()).isTrue();
        assertThat(sm.state().reassignments()).isEmpty();
        assertThat(sm.state().replicas(TP)).containsExactly(2, 0, 3);
        long version = sm.state().version();
        assertThat(sm.apply(new MetadataCommand.CompleteReassignment("t", 1, List.of(2, 0, 3))).isOk())
                .as("a repeated completion is a no-op").isTrue();
        assertThat(sm.state().version()).isEqualTo(version);
    }

    @Test
    void aNewTargetKeepsTheOriginalAndACancelMovesBackToIt() {
        sm.apply(new MetadataCommand.ReassignPartition("t", 1, List.of(3, 2, 0)));
        sm.apply(new MetadataCommand.ReassignPartition("t", 1, List.of(4, 2, 0)));
        assertThat(sm.state().reassignment(TP).orElseThrow()).isEqualTo(new Reassignment(List.of(1, 2, 0),
                List.of(4, 2, 0)));
        assertThat(sm.apply(new MetadataCommand.ReassignPartition("t", 1, null)).isOk()).isTrue();
        assertThat(sm.state().reassignment(TP).orElseThrow().target()).containsExactly(1, 2, 0);
        assertThat(sm.apply(new MetadataCommand.CompleteReassignment("t", 1, List.of(1, 2, 0))).isOk()).isTrue();
        assertThat(sm.state().reassignments()).isEmpty();
    }

    @Test
    void refusalsAndNoOps() {
        assertThat(sm.apply(new MetadataCommand.ReassignPartition("t", 2, List.of(0))).errorCode())
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        assertThat(sm.apply(new MetadataCommand.ReassignPartition("nope", 0, List.of(0))).errorCode())
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        assertThat(sm.apply(new MetadataCommand.ReassignPartition("t", 1, null)).errorCode())
                .isEqualTo(Errors.NO_REASSIGNMENT_IN_PROGRESS.code());
        assertThat(sm.apply(new MetadataCommand.ReassignPartition("t", 1, List.of(1, 2, 0))).isOk()).isTrue();
        assertThat(sm.state().reassignments()).as("the current replicas: nothing to do").isEmpty();
    }

    @Test
    void deletingTheTopicEndsItsReassignments() {
        sm.apply(new MetadataCommand.ReassignPartition("t", 1, List.of(3, 2, 0)));
        sm.apply(new MetadataCommand.DeleteTopic("t"));
        assertThat(sm.state().reassignments()).isEmpty();
    }

    @Test
    void snapshotsCarryReassignments() throws IOException {
        sm.apply(new MetadataCommand.ReassignPartition("t", 1, List.of(3, 2, 0)));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MetadataStateMachine.writeSnapshot(new DataOutputStream(bytes), sm.state());
        ClusterState read = MetadataStateMachine.readSnapshot(
                new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), 5);
        assertThat(read.reassignments()).isEqualTo(sm.state().reassignments());
        assertThat(read.topics()).isEqualTo(sm.state().topics());
        assertThat(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray(), 4, 2)).readShort())
                .as("format version with a reassignment").isEqualTo((short) 3);

        sm.apply(new MetadataCommand.CompleteReassignment("t", 1, List.of(3, 2, 0)));
        ByteArrayOutputStream none = new ByteArrayOutputStream();
        MetadataStateMachine.writeSnapshot(new DataOutputStream(none), sm.state());
        assertThat(new DataInputStream(new ByteArrayInputStream(none.toByteArray(), 4, 2)).readShort())
                .as("without reassignments: version 2, which older builds load").isEqualTo((short) 2);
        assertThat(MetadataStateMachine.readSnapshot(new DataInputStream(new ByteArrayInputStream(
                none.toByteArray())), 6).topics()).isEqualTo(sm.state().topics());
    }
}
