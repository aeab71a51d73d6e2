package io.fluxmq.kafka.group;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.Test;

/**
 * A shard persists what it is told through its log and a new shard rebuilt from those bytes (as a new coordinator
 * would after a leader change) sees the same offsets and groups; deletion and expiry write tombstones.
 */
class GroupShardTest {
    private static final TopicPartition TP0 = new TopicPartition("orders", 0);
    private static final TopicPartition TP1 = new TopicPartition("orders", 1);

    /** The offsets partition: every appended batch, in order, as the bytes that would be replicated. */
    private final List<MemoryRecords> partition = new ArrayList<>();
    private long now = 10_000_000;
    private final GroupConfig config = GroupConfig.defaults();

    private GroupShard shard() {
        GroupShard shard = new GroupShard(3, 1, config, ConsumerGroupTest.TOPICS, entries -> {
            partition.add(GroupRecords.batch(entries, now));
            return CompletableFuture.completedFuture(null);
        });
        for (MemoryRecords records : partition) {
            for (RecordBatch batch : records.batches()) {
                for (Record r : batch) {
                    shard.replay(GroupRecords.decode(r));
                }
            }
        }
        shard.activate();
        return shard;
    }

    @Test
    void offsetsAndGroupsSurviveARebuildFromThePartition() {
        GroupShard first = shard();
        assertThat(first.commit("g", "", null, -1, Map.of(TP0, new CommittedOffset(42, 3, "meta", now),
                TP1, new CommittedOffset(7, -1, "", now)), now).join()).isEqualTo(Errors.NONE);
        assertThat(first.commit("g", "", null, -1, Map.of(TP0, new CommittedOffset(50, 3, null, now)), now).join())
                .isEqualTo(Errors.NONE);
        first.withConsumerGroup("kip848", true, now, g -> g.heartbeat(
                new org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData().setGroupId("kip848")
                        .setMemberId("m").setMemberEpoch(0).setRebalanceTimeoutMs(1000)
                        .setSubscribedTopicNames(List.of("orders")), (short) 1, "c", "/h", topic -> true, now));

        GroupShard rebuilt = shard();

        assertThat(rebuilt.committed("g", null)).containsEntry(TP0, new CommittedOffset(50, 3, null, now))
                .containsEntry(TP1, new CommittedOffset(7, -1, "", now));
        assertThat(rebuilt.group("g")).isInstanceOf(ClassicGroup.class);
        assertThat(rebuilt.group("kip848")).isInstanceOf(ConsumerGroup.class);
        assertThat(((ConsumerGroup) rebuilt.group("kip848")).groupEpoch()).isEqualTo(1);
        assertThat(((ConsumerGroup) rebuilt.group("kip848")).members()).containsOnlyKeys("m");
    }

    /**
     * As Kafka's coordinator loads a consumer-protocol group: its members come back at their epochs with what they
     * own, must revoke and are to get, so a member mid-revocation goes on revoking and the other gets the partitions
     * once they are released, with no new group epoch; a member that says nothing is removed a session after the
     * first tick of the new coordinator.
     */
    @Test
    void aConsumerProtocolGroupKeepsItsMembersEpochsAndAssignmentsAcrossARebuild() {
        GroupShard first = shard();
        ConsumerGroupHeartbeatResponseData a = consumerHeartbeat(first, "a", 0, Set.of());
        assertThat(a.memberEpoch()).isEqualTo(1);
        assertThat(owned(a)).containsExactly(0, 1, 2, 3, 4, 5);
        ConsumerGroupHeartbeatResponseData b = consumerHeartbeat(first, "b", 0, Set.of());
        assertThat(b.memberEpoch()).isEqualTo(2);
        ConsumerGroupHeartbeatResponseData aRevoking = consumerHeartbeat(first, "a", 1, Set.of(0, 1, 2, 3, 4, 5));
        Set<Integer> aKeeps = owned(aRevoking);
        assertThat(aKeeps).hasSize(3);
        int written = partition.size();
        consumerHeartbeat(first, "a", 1, Set.of(0, 1, 2, 3, 4, 5));
        assertThat(partition).as("a heartbeat that changes nothing writes nothing").hasSize(written);

        now += 120_000; // longer than the sessions: the new coordinator's clock starts them again
        GroupShard rebuilt = shard();
        rebuilt.tick(now);
        ConsumerGroup group = (ConsumerGroup) rebuilt.group("kip848");
        assertThat(group.groupEpoch()).isEqualTo(2);
        assertThat(group.assignmentEpoch()).isEqualTo(2);
        assertThat(group.members()).containsOnlyKeys("a", "b");
        assertThat(group.stateName()).isEqualTo("Reconciling");
        assertThat(owned(consumerHeartbeat(rebuilt, "b", 2, Set.of()))).as("a has not revoked yet").isEmpty();
        ConsumerGroupHeartbeatResponseData aDone = consumerHeartbeat(rebuilt, "a", 1, aKeeps);
        assertThat(aDone.errorCode()).isZero();
        assertThat(aDone.memberEpoch()).isEqualTo(2);
        assertThat(owned(aDone)).isEqualTo(aKeeps);
        Set<Integer> bGets = owned(consumerHeartbeat(rebuilt, "b", 2, Set.of()));
        assertThat(bGets).hasSize(3).doesNotContainAnyElementsOf(aKeeps);
        consumerHeartbeat(rebuilt, "b", 2, bGets);
        assertThat(group.stateName()).isEqualTo("Stable");
        assertThat(group.groupEpoch()).as("no rebalance").isEqualTo(2);

        GroupShard again = shard();
        assertThat(((ConsumerGroup) again.group("kip848")).member("b").orElseThrow().assigned.values())
                .as("b's assignment written").containsExactly(new java.util.TreeSet<>(bGets));
        again.tick(now);
        now += GroupConfig.defaults().consumerSessionTimeout().toMillis();
        again.tick(now);
        assertThat(again.group("kip848").isEmpty()).as("sessions counted from the load's first tick").isFalse();
        now += 1;
        again.tick(now);
        assertThat(again.group("kip848").isEmpty()).isTrue();
    }

    private ConsumerGroupHeartbeatResponseData consumerHeartbeat(GroupShard shard, String member, int epoch,
                                                                 Set<Integer> owned) {
        ConsumerGroupHeartbeatRequestData request = new ConsumerGroupHeartbeatRequestData().setGroupId("kip848")
                .setMemberId(member).setMemberEpoch(epoch).setTopicPartitions(List.of(
                        new ConsumerGroupHeartbeatRequestData.TopicPartitions().setTopicId(ConsumerGroupTest.TOPIC_ID)
                                .setPartitions(new ArrayList<>(owned))));
        if (epoch == 0) {
            request.setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of("orders"));
        }
        return shard.withConsumerGroupWritten("kip848", epoch == 0, now, g -> g.heartbeat(request, (short) 1,
                "client-" + member, "/127.0.0.1", topic -> true, now), (answer, failure) -> null).join();
    }

    private static Set<Integer> owned(ConsumerGroupHeartbeatResponseData response) {
        Set<Integer> out = new java.util.TreeSet<>();
        response.assignment().topicPartitions().forEach(tp -> out.addAll(tp.partitions()));
        return out;
    }

    /**
     * As Kafka's coordinator loads a group: a classic group written in Stable comes back Stable with its generation,
     * leader, members (a static one too) and assignments, so heartbeats and commits of that generation go on without a
     * rejoin; a group written while it rebalanced comes back empty. Restored sessions count from the first tick.
     */
    @Test
    void aStableClassicGroupKeepsItsMembersAcrossARebuild() {
        GroupShard first = shard();
        CompletableFuture<JoinGroupResponseData> joinA = first.withClassicGroup("app", true, now,
                g -> g.join(join(null), now));
        CompletableFuture<JoinGroupResponseData> joinB = first.withClassicGroup("app", true, now,
                g -> g.join(join("instance-b"), now));
        now += config.initialRebalanceDelay().toMillis() + 1;
        first.tick(now);
        String a = joinA.join().memberId();
        String b = joinB.join().memberId();
        assertThat(joinA.join().generationId()).isEqualTo(1);
        assertThat(shard().group("app").isEmpty()).as("written while rebalancing: members rejoin").isTrue();

        CompletableFuture<SyncGroupResponseData> syncB = first.withClassicGroup("app", false, now,
                g -> g.sync(b, "instance-b", 1, "consumer", "range", Map.of(), now));
        first.withClassicGroup("app", false, now, g -> g.sync(a, null, 1, "consumer", "range",
                Map.of(a, "to-a".getBytes(StandardCharsets.UTF_8), b, "to-b".getBytes(StandardCharsets.UTF_8)), now));
        assertThat(syncB.join().assignment()).isEqualTo("to-b".getBytes(StandardCharsets.UTF_8));

        now += 60_000; // longer than the sessions: the new coordinator's clock starts them again
        GroupShard rebuilt = shard();
        rebuilt.tick(now);
        ClassicGroup group = (ClassicGroup) rebuilt.group("app");
        assertThat(group.state()).isEqualTo(ClassicGroup.State.STABLE);
        assertThat(group.generation()).isEqualTo(1);
        assertThat(group.leaderId()).isEqualTo(a);
        assertThat(group.protocolName()).isEqualTo("range");
        assertThat(group.members()).containsOnlyKeys(a, b);
        assertThat(group.members().get(b).instanceId).isEqualTo("instance-b");
        assertThat(group.members().get(a).protocols.get("range")).isEqualTo("sub-a".getBytes(StandardCharsets.UTF_8));
        Errors heartbeat = rebuilt.withClassicGroup("app", false, now, g -> g.heartbeat(a, null, 1, now));
        assertThat(heartbeat).isEqualTo(Errors.NONE);
        assertThat(rebuilt.withClassicGroup("app", false, now,
                g -> g.sync(b, "instance-b", 1, "consumer", "range", Map.of(), now)).join().assignment())
                .isEqualTo("to-b".getBytes(StandardCharsets.UTF_8));
        assertThat(rebuilt.commit("app", a, null, 1, Map.of(TP0, new CommittedOffset(9, -1, "", now)), now).join())
                .isEqualTo(Errors.NONE);
        assertThat(rebuilt.commit("app", a, null, 0, Map.of(TP0, new CommittedOffset(9, -1, "", now)), now).join())
                .isEqualTo(Errors.ILLEGAL_GENERATION);

        now += 6_000;
        rebuilt.withClassicGroup("app", false, now, g -> g.heartbeat(a, null, 1, now));
        now += 4_001; // b's session (10 s from the first tick) is over, a heartbeated 4 s ago
        rebuilt.tick(now);
        assertThat(group.members()).containsOnlyKeys(a);
        assertThat(group.state()).isEqualTo(ClassicGroup.State.PREPARING_REBALANCE);
    }

    private static ClassicGroup.Join join(String instanceId) {
        String name = instanceId == null ? "a" : "b";
        return new ClassicGroup.Join("", instanceId, "client-" + name, "/127.0.0.1", 10_000, 30_000, "consumer",
                Map.of("range", ("sub-" + name).getBytes(StandardCharsets.UTF_8)), (short) 3);
    }

    @Test
    void deletingAGroupWritesTombstones() {
        GroupShard first = shard();
        first.commit("g", "", null, -1, Map.of(TP0, new CommittedOffset(1, -1, "", now)), now).join();
        assertThat(first.deleteGroup("nope", now).join()).isEqualTo(Errors.GROUP_ID_NOT_FOUND);
        assertThat(first.deleteGroup("g", now).join()).isEqualTo(Errors.NONE);
        assertThat(first.group("g")).isNull();

        GroupShard rebuilt = shard();
        assertThat(rebuilt.group("g")).isNull();
        assertThat(rebuilt.committed("g", null)).isEmpty();
    }

    @Test
    void offsetsOfAnEmptyGroupExpireAfterTheRetentionAndTheGroupGoes() {
        GroupShard first = shard();
        first.commit("g", "", null, -1, Map.of(TP0, new CommittedOffset(1, -1, "", now)), now).join();
        now += config.offsetsRetention().toMillis() - 1;
        first.tick(now);
        assertThat(first.committed("g", null)).hasSize(1);
        now += config.offsetsRetentionCheckInterval().toMillis() + 1;
        first.tick(now);

        assertThat(first.committed("g", null)).isEmpty();
        assertThat(first.group("g")).isNull();
        assertThat(shard().hasOffsets("g")).isFalse();
    }

    @Test
    void commitsFromOutsideTheGroupAreRefusedWhileItHasMembers() {
        GroupShard shard = shard();
        shard.withClassicGroup("busy", true, now, g -> g.join(new ClassicGroup.Join("", null, "c", "/h", 10_000,
                10_000, "consumer", Map.of("range", new byte[0]), (short) 3), now));
        assertThat(shard.commit("busy", "", null, -1, Map.of(TP0, new CommittedOffset(1, -1, "", now)), now).join())
                .isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(shard.commit("unknown", "m", null, 4, Map.of(TP0, new CommittedOffset(1, -1, "", now)), now)
                .join()).isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(Duration.ofMillis(now)).isPositive();
    }
}
