package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.IsrRecord;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.metadata.TopicRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/**
 * What the ISR publisher of node 0 sends for what it leads and what its metadata copy holds: nothing while nothing
 * changed (even with thousands of partitions), the changed partitions of a pass in one command, a leadership change,
 * and a refused change not before its back-off.
 */
class IsrPublisherTest {
    private static final int PARTITIONS = 3_000;
    private final Map<TopicPartition, IsrPublisher.Led> led = new HashMap<>();
    private final List<MetadataCommand.AlterPartitionIsr> sent = new ArrayList<>();
    private ClusterState state;
    private long now = 1_000;
    /** When set, the fake metadata group refuses every change with this error. */
    private Errors refuseWith;
    private final IsrPublisher publisher = new IsrPublisher(0, () -> led, () -> state, this::submit,
            index -> CompletableFuture.completedFuture(null), () -> now);

    IsrPublisherTest() {
        List<List<Integer>> assignments = Collections.nCopies(PARTITIONS, List.of(0, 1, 2));
        state = new ClusterState(1, Map.of("t", new TopicRecord("t", Uuid.randomUuid(), (short) 3, Map.of(), false,
                assignments)), Map.of(), 0, Map.of(), Map.of(), Set.of());
        for (int p = 0; p < PARTITIONS; p++) {
            led.put(new TopicPartition("t", p), new IsrPublisher.Led(4, List.of(1, 0))); // 2 is behind
        }
    }

    /** Applies the command as the metadata group would when nothing else changed (every change accepted). */
    private CompletableFuture<MetadataReply> submit(MetadataCommand command) {
        MetadataCommand.AlterPartitionIsr alter = (MetadataCommand.AlterPartitionIsr) command;
        sent.add(alter);
        if (refuseWith != null) {
            return CompletableFuture.failedFuture(new AdminException(refuseWith, "refused"));
        }
        Map<TopicPartition, IsrRecord> isrs = new HashMap<>(state.isrs());
        for (MetadataCommand.IsrChange c : alter.changes()) {
            TopicPartition tp = new TopicPartition(c.topic(), c.partition());
            IsrRecord current = isrs.get(tp);
            isrs.put(tp, new IsrRecord(alter.leader(), c.leaderEpoch(),
                    current == null ? 1 : current.partitionEpoch() + 1, c.isr()));
        }
        state = new ClusterState(state.version() + 1, state.topics(), state.leaders(), 0, state.nodes(),
                state.reassignments(), state.acls(), state.scramCredentials(), isrs);
        return CompletableFuture.completedFuture(MetadataReply.ok(state.version()));
    }

    @Test
    void publishesOnceInBoundedCommandsThenNothingWhileNothingChanges() {
        assertThat(publisher.publish()).isEqualTo(IsrPublisher.MAX_PER_COMMAND);
        assertThat(publisher.publish()).isEqualTo(PARTITIONS - IsrPublisher.MAX_PER_COMMAND);
        assertThat(sent).hasSize(2);
        assertThat(sent.get(0).leader()).isEqualTo(0);
        assertThat(sent.get(0).changes().get(0).isr()).as("in replica order").containsExactly(0, 1);
        assertThat(sent.get(0).changes().get(0).partitionEpoch()).as("no record yet").isZero();
        for (int pass = 0; pass < 100; pass++) {
            now += 1_000;
            assertThat(publisher.publish()).isZero();
        }
        assertThat(sent).hasSize(2);
    }

    @Test
    void sendsOnlyThePartitionsThatChangedTogetherAndALeadershipChange() {
        publisher.publish();
        publisher.publish();
        sent.clear();
        TopicPartition shrunk = new TopicPartition("t", 7);
        TopicPartition newTerm = new TopicPartition("t", 8);
        led.put(shrunk, new IsrPublisher.Led(4, List.of(0)));
        led.put(newTerm, new IsrPublisher.Led(5, List.of(0, 1, 2)));
        assertThat(publisher.publish()).isEqualTo(2);
        assertThat(sent).hasSize(1);
        Map<TopicPartition, MetadataCommand.IsrChange> changes = new HashMap<>();
        sent.get(0).changes().forEach(c -> changes.put(new TopicPartition(c.topic(), c.partition()), c));
        assertThat(changes.get(shrunk)).isEqualTo(new MetadataCommand.IsrChange("t", 7, 4, 1, List.of(0)));
        assertThat(changes.get(newTerm).leaderEpoch()).isEqualTo(5);
        assertThat(state.isr(shrunk).orElseThrow().isr()).containsExactly(0);
        assertThat(publisher.publish()).isZero();
    }

    @Test
    void aFullIsrIsNotPublishedWhileNoneWasButAnExpansionIs() {
        // a new topic: every replica in sync and no record yet, which metadata already reads as "all in sync"
        led.replaceAll((tp, l) -> new IsrPublisher.Led(1, List.of(2, 0, 1)));
        assertThat(publisher.publish()).isZero();
        assertThat(sent).isEmpty();

        TopicPartition tp = new TopicPartition("t", 3);
        led.put(tp, new IsrPublisher.Led(1, List.of(0, 2)));
        assertThat(publisher.publish()).isEqualTo(1);
        led.put(tp, new IsrPublisher.Led(1, List.of(0, 1, 2)));
        assertThat(publisher.publish()).as("back to all: the record says otherwise").isEqualTo(1);
        assertThat(state.isr(tp).orElseThrow().isr()).containsExactly(0, 1, 2);
        assertThat(publisher.publish()).isZero();
    }

    @Test
    void aRefusedChangeWaitsForItsBackOffAndANewerLeaderIsLeftAlone() {
        led.keySet().retainAll(List.of(new TopicPartition("t", 0), new TopicPartition("t", 1)));
        refuseWith = Errors.FENCED_LEADER_EPOCH;
        assertThat(publisher.publish()).isEqualTo(2);
        now += IsrPublisher.RETRY_BACKOFF_MS - 1;
        assertThat(publisher.publish()).as("within the back-off").isZero();
        now += 1;
        refuseWith = null;
        assertThat(publisher.publish()).as("after it").isEqualTo(2);

        // node 1 published the ISR of t-1 as leader of epoch 6: node 0 (still at 4) sends nothing for it
        Map<TopicPartition, IsrRecord> isrs = new HashMap<>(state.isrs());
        isrs.put(new TopicPartition("t", 1), new IsrRecord(1, 6, 9, List.of(1, 2)));
        state = new ClusterState(state.version() + 1, state.topics(), state.leaders(), 0, state.nodes(),
                state.reassignments(), state.acls(), state.scramCredentials(), isrs);
        led.put(new TopicPartition("t", 1), new IsrPublisher.Led(4, List.of(0)));
        sent.clear();
        assertThat(publisher.publish()).isZero();
        assertThat(sent).isEmpty();
    }
}
