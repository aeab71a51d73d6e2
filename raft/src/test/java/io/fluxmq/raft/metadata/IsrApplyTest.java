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

/**
 * AlterPartitionIsr as the metadata state machine applies it: a leader epoch older than the newest one known is
 * fenced, a newer one replaces the ISR, a change computed from an older partition epoch is refused, each partition of a
 * command on its own; the ISR records survive snapshots.
 */
class IsrApplyTest {
    private static final TopicPartition TP0 = new TopicPartition("t", 0);
    private static final TopicPartition TP1 = new TopicPartition("t", 1);
    private final MetadataStateMachine sm = new MetadataStateMachine();

    IsrApplyTest() {
        sm.apply(new MetadataCommand.CreateTopic(new TopicRecord("t", Uuid.randomUuid(), (short) 3, Map.of(), false,
                List.of(List.of(0, 1, 2), List.of(1, 2, 0)))));
    }

    private static MetadataCommand.AlterPartitionIsr alter(int leader, TopicPartition tp, int leaderEpoch,
                                                           int partitionEpoch, Integer... isr) {
        return new MetadataCommand.AlterPartitionIsr(leader, List.of(new MetadataCommand.IsrChange(tp.topic(),
                tp.partition(), leaderEpoch, partitionEpoch, List.of(isr))));
    }

    @Test
    void theCommandRoundTrips() throws IOException {
        MetadataCommand c = new MetadataCommand.AlterPartitionIsr(2, List.of(
                new MetadataCommand.IsrChange("t", 0, 7, 3, List.of(2, 0)),
                new MetadataCommand.IsrChange("other.topic", 11, 1, 0, List.of(2))));
        assertThat(MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(c.encode())))).isEqualTo(c);
        assertThat(c.encode()[0]).isEqualTo((byte) 17);
    }

    @Test
    void aNewerLeaderEpochIsAppliedAndAStaleOneFenced() {
        assertThat(sm.apply(alter(0, TP0, 5, 0, 0, 1, 2)).isOk()).isTrue();
        assertThat(sm.state().isr(TP0)).contains(new IsrRecord(0, 5, 1, List.of(0, 1, 2)));

        // node 1 became leader in term 6 and counts node 2 out
        assertThat(sm.apply(alter(1, TP0, 6, 0, 1, 0)).isOk()).as("a newer leader whatever partition epoch it read")
                .isTrue();
        assertThat(sm.state().isr(TP0)).contains(new IsrRecord(1, 6, 2, List.of(1, 0)));

        // the deposed leader of term 5 still thinks everyone is in sync: refused, the newer ISR stays
        long version = sm.state().version();
        MetadataReply stale = sm.apply(alter(0, TP0, 5, 2, 0, 1, 2));
        assertThat(stale.errorCode()).isEqualTo(Errors.FENCED_LEADER_EPOCH.code());
        assertThat(stale.message()).contains("t-0").contains("leader epoch 5 is older than 6");
        assertThat(sm.state().isr(TP0)).contains(new IsrRecord(1, 6, 2, List.of(1, 0)));
        assertThat(sm.state().version()).isEqualTo(version);

        // the leader of term 6 expands the ISR again, from the partition epoch it read
        assertThat(sm.apply(alter(1, TP0, 6, 2, 1, 0, 2)).isOk()).isTrue();
        assertThat(sm.state().isr(TP0)).contains(new IsrRecord(1, 6, 3, List.of(1, 0, 2)));
    }

    @Test
    void aReportedLeaderOfANewerEpochFencesTooAndAnotherLeaderOfTheSameEpochIsInvalid() {
        sm.apply(new MetadataCommand.ReportLeader("t", 0, 2, 9));
        assertThat(sm.apply(alter(0, TP0, 8, 0, 0, 1)).errorCode()).isEqualTo(Errors.FENCED_LEADER_EPOCH.code());
        assertThat(sm.apply(alter(0, TP0, 9, 0, 0, 1)).errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
        assertThat(sm.state().isr(TP0)).isEmpty();
        assertThat(sm.apply(alter(2, TP0, 9, 0, 2, 0)).isOk()).isTrue();
        assertThat(sm.state().isr(TP0).orElseThrow().isr()).containsExactly(2, 0);
    }

    @Test
    void aChangeComputedFromAnOlderPartitionEpochIsRefused() {
        sm.apply(alter(0, TP0, 5, 0, 0, 1, 2));
        sm.apply(alter(0, TP0, 5, 1, 0, 1)); // partition epoch 2
        MetadataReply late = sm.apply(alter(0, TP0, 5, 1, 0, 2)); // computed before the previous one applied
        assertThat(late.errorCode()).isEqualTo(Errors.INVALID_UPDATE_VERSION.code());
        assertThat(sm.state().isr(TP0)).contains(new IsrRecord(0, 5, 2, List.of(0, 1)));
        long version = sm.state().version();
        assertThat(sm.apply(alter(0, TP0, 5, 1, 0, 1)).isOk()).as("repeating the current ISR is no error").isTrue();
        assertThat(sm.state().version()).as("and changes nothing").isEqualTo(version);
    }

    @Test
    void invalidIsrsAndUnknownPartitionsAreRefused() {
        assertThat(sm.apply(alter(0, TP0, 5, 0, 1, 2)).errorCode()).as("without the leader")
                .isEqualTo(Errors.INVALID_REQUEST.code());
        assertThat(sm.apply(alter(0, TP0, 5, 0, 0, 3)).errorCode()).as("not a replica")
                .isEqualTo(Errors.INVALID_REQUEST.code());
        assertThat(sm.apply(alter(0, TP0, 5, 0, 0, 0)).errorCode()).as("twice")
                .isEqualTo(Errors.INVALID_REQUEST.code());
        assertThat(sm.apply(alter(0, new TopicPartition("t", 2), 5, 0, 0)).errorCode())
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        assertThat(sm.state().isrs()).isEmpty();
    }

    @Test
    void eachPartitionOfACommandIsAppliedOrRefusedOnItsOwn() {
        sm.apply(alter(1, TP1, 4, 0, 1, 2, 0));
        sm.apply(new MetadataCommand.ReportLeader("t", 1, 2, 5));
        MetadataReply reply = sm.apply(new MetadataCommand.AlterPartitionIsr(1, List.of(
                new MetadataCommand.IsrChange("t", 0, 3, 0, List.of(0, 1)), // node 1 leads t-0 in term 3
                new MetadataCommand.IsrChange("t", 1, 4, 1, List.of(1, 2))))); // but lost t-1 to node 2 in term 5
        assertThat(reply.isOk()).as("one partition applied").isTrue();
        assertThat(reply.message()).contains("t-1 FENCED_LEADER_EPOCH").doesNotContain("t-0");
        assertThat(sm.state().isr(TP0)).contains(new IsrRecord(1, 3, 1, List.of(0, 1)));
        assertThat(sm.state().isr(TP1)).contains(new IsrRecord(1, 4, 1, List.of(1, 2, 0)));
    }

    @Test
    void deletingTheTopicDropsItsIsrsAndSnapshotsKeepThem() throws IOException {
        sm.apply(alter(0, TP0, 5, 0, 0, 2));
        sm.apply(alter(1, TP1, 3, 0, 1, 2, 0));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MetadataStateMachine.writeSnapshot(new DataOutputStream(bytes), sm.state());
        assertThat(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray(), 4, 2)).readShort())
                .as("snapshot format").isEqualTo((short) 7);
        ClusterState read = MetadataStateMachine.readSnapshot(
                new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), 5);
        assertThat(read.isrs()).isEqualTo(sm.state().isrs()).hasSize(2);
        assertThat(read.topics()).isEqualTo(sm.state().topics());

        sm.apply(new MetadataCommand.DeleteTopic("t"));
        assertThat(sm.state().isrs()).isEmpty();
        bytes.reset();
        MetadataStateMachine.writeSnapshot(new DataOutputStream(bytes), sm.state());
        assertThat(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray(), 4, 2)).readShort())
                .as("without ISRs the format older builds read").isEqualTo((short) 2);
    }
}
