package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.Reassignment;
import io.fluxmq.raft.metadata.TopicRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.Test;

/** The reconciler creates and removes nothing before the metadata catch-up barrier passed. */
class ReconcilerTest {
    private static final int SELF = 1;
    private final Map<TopicPartition, Uuid> hosted = new HashMap<>();
    private final Set<TopicPartition> open = new java.util.HashSet<>();
    private final Map<TopicPartition, RaftNode.PartitionSpec> specs = new HashMap<>();
    private final List<String> actions = new ArrayList<>();
    /** The partitions a pass asked about, in order. */
    private final List<String> looked = new ArrayList<>();
    private final List<CompletableFuture<Long>> barriers = new ArrayList<>();
    private final Map<Long, CompletableFuture<Void>> applied = new HashMap<>();
    private final List<Runnable> delayed = new ArrayList<>();
    /** The member node ids the reconciler asked peers for, in order (one list per open). */
    private final List<List<Integer>> members = new ArrayList<>();

    private final Reconciler reconciler = new Reconciler(SELF, new Reconciler.LocalPartitions() {
        @Override
        public Set<TopicPartition> hosted() {
            return Set.copyOf(hosted.keySet());
        }

        @Override
        public Uuid topicIdOf(TopicPartition tp) {
            return hosted.get(tp);
        }

        @Override
        public boolean isOpen(TopicPartition tp) {
            looked.add(tp.toString());
            return open.contains(tp);
        }

        @Override
        public void open(RaftNode.PartitionSpec spec, List<RaftPeer> members) {
            actions.add("open " + spec.topicPartition());
            hosted.put(spec.topicPartition(), spec.topicId());
            if (!spec.topicPartition().topic().startsWith("slow")) { // "slow…" topics open later, as on the engine
                open.add(spec.topicPartition());
            }
            specs.put(spec.topicPartition(), spec);
        }

        @Override
        public void reconfigure(RaftNode.PartitionSpec spec) {
            RaftNode.PartitionSpec known = specs.get(spec.topicPartition());
            if (known != null && !known.equals(spec)) { // as RaftNode: only a known spec that changed
                actions.add("reconfigure " + spec.topicPartition() + " segment.bytes=" + spec.segment().segmentBytes());
                specs.put(spec.topicPartition(), spec);
            }
        }

        @Override
        public void remove(TopicPartition tp, Uuid topicId) {
            actions.add("remove " + tp);
            hosted.remove(tp);
            open.remove(tp);
        }
    }, ids -> {
        members.add(ids);
        return List.of();
    }, configs -> new SegmentLogConfig(Integer.parseInt(configs.getOrDefault("segment.bytes",
            "1048576")), 60_000, 4096, 1 << 16), this::barrier,
            index -> applied.computeIfAbsent(index, i -> new CompletableFuture<>()), Runnable::run,
            (task, delayMs) -> delayed.add(task));

    private CompletableFuture<Long> barrier() {
        CompletableFuture<Long> f = new CompletableFuture<>();
        barriers.add(f);
        return f;
    }

    private static ClusterState state(TopicRecord... topics) {
        Map<String, TopicRecord> map = new HashMap<>();
        for (TopicRecord t : topics) {
            map.put(t.name(), t);
        }
        return new ClusterState(1, map, Map.of(), 0, Map.of());
    }

    private static TopicRecord topic(String name, Uuid id, List<List<Integer>> assignments) {
        return new TopicRecord(name, id, (short) assignments.get(0).size(), Map.of(), false, assignments);
    }

    private void host(String topic, int partition, Uuid id) {
        TopicPartition tp = new TopicPartition(topic, partition);
        hosted.put(tp, id);
        open.add(tp);
    }

    @Test
    void partitionsOnDiskSurviveAnEmptyOrStaleMetadataStateUntilTheBarrierPassed() {
        Uuid id = Uuid.randomUuid();
        host("kept", 0, id);
        reconciler.onMetadata(ClusterState.EMPTY); // what the local replica holds before its log is replayed
        reconciler.start();
        reconciler.onMetadata(state()); // a snapshot being replayed that predates the topic
        assertThat(reconciler.phase()).isEqualTo(Reconciler.Phase.CATCHING_UP);
        assertThat(actions).isEmpty();

        barriers.get(0).complete(42L);
        assertThat(actions).as("committed at 42 but not yet applied here").isEmpty();
        reconciler.onMetadata(state(topic("kept", id, List.of(List.of(0, SELF, 2)))));
        applied.get(42L).complete(null);

        assertThat(reconciler.phase()).isEqualTo(Reconciler.Phase.READY);
        assertThat(actions).isEmpty();
        assertThat(open).containsExactly(new TopicPartition("kept", 0));
    }

    @Test
    void aFailedBarrierIsRetriedAndNothingHappensMeanwhile() {
        host("t", 0, Uuid.randomUuid());
        reconciler.start();
        barriers.get(0).completeExceptionally(new IllegalStateException("no metadata leader"));
        reconciler.onMetadata(state());
        assertThat(actions).isEmpty();
        assertThat(delayed).hasSize(1);

        delayed.remove(0).run();
        barriers.get(1).complete(7L);
        applied.get(7L).complete(null);
        assertThat(actions).as("after the barrier, the committed state (no topic t) is reconciled")
                .containsExactly("remove t-0");
    }

    @Test
    void afterTheBarrierCreatesAssignedPartitionsAndRemovesDeletedOrReplacedTopics() {
        Uuid oldId = Uuid.randomUuid();
        Uuid newId = Uuid.randomUuid();
        host("gone", 0, Uuid.randomUuid());
        host("replaced", 0, oldId);
        reconciler.start();
        barriers.get(0).complete(1L);
        reconciler.onMetadata(state(topic("replaced", newId, List.of(List.of(SELF, 0, 2))),
                topic("fresh", Uuid.randomUuid(), List.of(List.of(0, SELF, 2), List.of(0, 2, 3)))));
        applied.get(1L).complete(null);

        assertThat(actions).containsExactlyInAnyOrder("open fresh-0", "remove gone-0", "remove replaced-0",
                "open replaced-0");
        assertThat(hosted.get(new TopicPartition("replaced", 0))).isEqualTo(newId);
        assertThat(hosted).doesNotContainKey(new TopicPartition("fresh", 1));
    }

    @Test
    void aPassLooksOnlyAtNewOrUnsettledTopicsUntilATopicIsDeleted() {
        reconciler.start();
        barriers.get(0).complete(1L);
        TopicRecord t = topic("t", Uuid.randomUuid(), List.of(List.of(SELF, 0, 2), List.of(0, SELF, 2)));
        reconciler.onMetadata(state(t));
        applied.get(1L).complete(null);
        assertThat(looked).containsOnly("t-0", "t-1");

        looked.clear();
        TopicRecord u = topic("u", Uuid.randomUuid(), List.of(List.of(SELF, 0, 2)));
        TopicRecord slow = topic("slow", Uuid.randomUuid(), List.of(List.of(SELF, 0, 2)));
        reconciler.onMetadata(state(t, u, slow));
        assertThat(looked).as("t is settled: every partition of it here is open").containsOnly("u-0", "slow-0");
        assertThat(actions).containsExactlyInAnyOrder("open t-0", "open t-1", "open u-0", "open slow-0");

        looked.clear();
        reconciler.onMetadata(state(t, u, slow)); // an unrelated change (a leader report, say)
        assertThat(looked).as("slow-0 is still opening").containsOnly("slow-0");
        assertThat(actions).as("asked again, as the engine dedups an open in progress").endsWith("open slow-0")
                .hasSize(5);

        open.add(new TopicPartition("slow", 0));
        reconciler.onMetadata(state(t, u, slow));
        assertThat(looked).endsWith("slow-0");
        looked.clear();
        reconciler.onMetadata(state(t, u, slow));
        assertThat(looked).as("everything settled").isEmpty();

        reconciler.onMetadata(state(t, slow)); // u deleted: a full pass, which removes
        assertThat(looked).containsExactlyInAnyOrder("t-0", "t-1", "slow-0");
        assertThat(actions).endsWith("remove u-0");
    }

    @Test
    void aChangedTopicConfigReconfiguresTheOpenPartitionsOnly() {
        Uuid id = Uuid.randomUuid();
        reconciler.start();
        barriers.get(0).complete(1L);
        TopicRecord t = topic("t", id, List.of(List.of(SELF, 0, 2), List.of(0, 2, 3)));
        reconciler.onMetadata(state(t));
        applied.get(1L).complete(null);
        assertThat(actions).containsExactly("open t-0");

        reconciler.onMetadata(state(t)); // an unrelated metadata change
        assertThat(actions).containsExactly("open t-0");

        reconciler.onMetadata(state(new TopicRecord("t", id, (short) 3, Map.of("segment.bytes", "65536"), false,
                t.assignments())));
        assertThat(actions).containsExactly("open t-0", "reconfigure t-0 segment.bytes=65536");
    }

    @Test
    void aReplicaAReassignmentAddsOpensAsJoiningAndALeavingOneGoesOnlyWhenItCompleted() {
        Uuid id = Uuid.randomUuid();
        host("leaving", 0, id);
        TopicPartition joining = new TopicPartition("joining", 0);
        TopicPartition leaving = new TopicPartition("leaving", 0);
        TopicRecord joiningTopic = topic("joining", Uuid.randomUuid(), List.of(List.of(0, 2, 3)));
        TopicRecord leavingTopic = topic("leaving", id, List.of(List.of(SELF, 2, 3)));
        reconciler.onMetadata(new ClusterState(2, Map.of("joining", joiningTopic, "leaving", leavingTopic), Map.of(), 0,
                Map.of(), Map.of(joining, new Reassignment(List.of(0, 2, 3), List.of(SELF, 2, 3)),
                        leaving, new Reassignment(List.of(SELF, 2, 3), List.of(0, 2, 3)))));
        reconciler.start();
        barriers.get(0).complete(1L);
        applied.get(1L).complete(null);
        assertThat(actions).containsExactly("open joining-0");
        // opened as a joining replica with the group's former voters (the multi-Raft engine follows them; Ratis opens
        // it with no members and learns them from the leader)
        assertThat(members).as("the joining replica's former voters").containsExactly(List.of(0, 2, 3));

        TopicRecord moved = topic("leaving", id, List.of(List.of(0, 2, 3)));
        reconciler.onMetadata(new ClusterState(3, Map.of("joining", joiningTopic, "leaving", moved), Map.of(), 0,
                Map.of(), Map.of(joining, new Reassignment(List.of(0, 2, 3), List.of(SELF, 2, 3)))));
        assertThat(actions).containsExactly("open joining-0", "remove leaving-0");
        assertThat(open).containsExactly(joining);
    }
}
