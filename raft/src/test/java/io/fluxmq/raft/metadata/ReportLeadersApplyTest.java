package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/**
 * ReportLeaders as the metadata state machine applies it: each partition as a ReportLeader would be (an older epoch
 * than the known one and a partition of an unknown topic ignored), all of them in one metadata change.
 */
class ReportLeadersApplyTest {
    private final MetadataStateMachine sm = new MetadataStateMachine();

    ReportLeadersApplyTest() {
        sm.apply(new MetadataCommand.CreateTopic(new TopicRecord("t", Uuid.randomUuid(), (short) 3, Map.of(), false,
                List.of(List.of(0, 1, 2), List.of(1, 2, 0), List.of(2, 0, 1)))));
    }

    private static MetadataCommand.LedPartition led(String topic, int partition, int epoch) {
        return new MetadataCommand.LedPartition(topic, partition, epoch);
    }

    @Test
    void everyPartitionNotOlderThanItsKnownLeaderIsAppliedInOneChange() {
        sm.apply(new MetadataCommand.ReportLeader("t", 1, 2, 9));
        long version = sm.state().version();

        sm.apply(new MetadataCommand.ReportLeaders(0, List.of(led("t", 0, 4), led("t", 1, 8), led("t", 2, 1),
                led("gone", 0, 5))));

        assertThat(sm.state().leaders()).containsEntry(new TopicPartition("t", 0), new LeaderRecord(0, 4))
                .containsEntry(new TopicPartition("t", 1), new LeaderRecord(2, 9)) // epoch 8 is older than 9
                .containsEntry(new TopicPartition("t", 2), new LeaderRecord(0, 1))
                .doesNotContainKey(new TopicPartition("gone", 0));
        assertThat(sm.state().version()).isEqualTo(version + 1);
    }

    @Test
    void aTopicCreatedWithAFirstLeaderEpochNamesEachFirstReplicaAndALaterOrEqualReportReplacesIt() {
        sm.apply(new MetadataCommand.CreateTopic(new TopicRecord("u", Uuid.randomUuid(), (short) 3, Map.of(), false,
                List.of(List.of(1, 2, 0), List.of(2, 0, 1))), 1));
        assertThat(sm.state().leaders()).containsEntry(new TopicPartition("u", 0), new LeaderRecord(1, 1))
                .containsEntry(new TopicPartition("u", 1), new LeaderRecord(2, 1));
        assertThat(sm.state().leaders()).as("a topic created without one has none")
                .doesNotContainKey(new TopicPartition("t", 0));

        // node 0 won term 1 of u-1 (its first replica was slow): its report replaces the guess
        sm.apply(new MetadataCommand.ReportLeaders(0, List.of(led("u", 1, 1))));
        assertThat(sm.state().leaders()).containsEntry(new TopicPartition("u", 1), new LeaderRecord(0, 1));
    }

    @Test
    void aReportThatChangesNothingPublishesNothing() {
        sm.apply(new MetadataCommand.ReportLeader("t", 0, 2, 9));
        long version = sm.state().version();
        sm.apply(new MetadataCommand.ReportLeaders(1, List.of(led("t", 0, 3), led("gone", 0, 1))));
        assertThat(sm.state().version()).isEqualTo(version);
        assertThat(sm.state().leaders()).containsEntry(new TopicPartition("t", 0), new LeaderRecord(2, 9));
    }
}
