package io.fluxmq.kafka.group;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** The KIP-848 protocol: epochs, server-side assignment and revoke-before-reassign, with explicit time. */
class ConsumerGroupTest {
    static final Uuid TOPIC_ID = new Uuid(1, 2);
    static final TopicLookup TOPICS = new TopicLookup() {
        final Topic topic = new Topic("orders", TOPIC_ID, 6, false);

        @Override
        public Optional<Topic> byName(String name) {
            return name.equals("orders") ? Optional.of(topic) : Optional.empty();
        }

        @Override
        public Optional<Topic> byId(Uuid id) {
            return id.equals(TOPIC_ID) ? Optional.of(topic) : Optional.empty();
        }

        @Override
        public Collection<Topic> all() {
            return List.of(topic);
        }
    };

    private long now = 5_000_000;
    private final ConsumerGroup group = new ConsumerGroup("g", GroupConfig.defaults(), TOPICS, now);

    private ConsumerGroupHeartbeatResponseData heartbeat(String member, int epoch, Set<Integer> owned) {
        ConsumerGroupHeartbeatRequestData request = new ConsumerGroupHeartbeatRequestData().setGroupId("g")
                .setMemberId(member).setMemberEpoch(epoch);
        if (epoch == 0) {
            request.setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of("orders"));
        }
        if (owned != null) {
            request.setTopicPartitions(List.of(new ConsumerGroupHeartbeatRequestData.TopicPartitions()
                    .setTopicId(TOPIC_ID).setPartitions(new ArrayList<>(owned))));
        }
        return group.heartbeat(request, (short) 1, "client", "/127.0.0.1", topic -> true, now);
    }

    private static Set<Integer> assigned(ConsumerGroupHeartbeatResponseData response) {
        Set<Integer> out = new TreeSet<>();
        response.assignment().topicPartitions().forEach(tp -> out.addAll(tp.partitions()));
        return out;
    }

    @Test
    void aJoiningMemberGetsPartitionsOnlyAfterTheirOwnerRevokedThem() {
        ConsumerGroupHeartbeatResponseData a = heartbeat("a", 0, Set.of());
        assertThat(a.errorCode()).isZero();
        assertThat(a.memberEpoch()).isEqualTo(1);
        assertThat(assigned(a)).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(a.heartbeatIntervalMs()).isEqualTo(5000);

        ConsumerGroupHeartbeatResponseData b = heartbeat("b", 0, Set.of());
        assertThat(b.memberEpoch()).isEqualTo(2);
        assertThat(assigned(b)).as("a still owns everything").isEmpty();
        assertThat(group.stateName()).isEqualTo("Reconciling");

        ConsumerGroupHeartbeatResponseData aRevoking = heartbeat("a", 1, Set.of(0, 1, 2, 3, 4, 5));
        assertThat(aRevoking.memberEpoch()).as("epoch held until the revocation is reported").isEqualTo(1);
        Set<Integer> aKeeps = assigned(aRevoking);
        assertThat(aKeeps).hasSize(3);
        assertThat(assigned(heartbeat("b", 2, Set.of()))).as("still not released").isEmpty();

        ConsumerGroupHeartbeatResponseData aDone = heartbeat("a", 1, aKeeps);
        assertThat(aDone.memberEpoch()).isEqualTo(2);
        ConsumerGroupHeartbeatResponseData bNow = heartbeat("b", 2, Set.of());
        Set<Integer> bGets = assigned(bNow);
        assertThat(bGets).hasSize(3).doesNotContainAnyElementsOf(aKeeps);
        heartbeat("b", 2, bGets);
        assertThat(group.stateName()).isEqualTo("Stable");
    }

    @Test
    void staleEpochsAreFencedAndUnknownMembersRejected() {
        heartbeat("a", 0, Set.of());
        assertThat(heartbeat("a", 7, null).errorCode()).isEqualTo(Errors.FENCED_MEMBER_EPOCH.code());
        assertThat(heartbeat("ghost", 1, null).errorCode()).isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
        assertThat(group.validateMemberEpoch("a", 1)).isEqualTo(Errors.NONE);
        assertThat(group.validateMemberEpoch("a", 0)).isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(group.validateMemberEpoch("a", 2)).isEqualTo(Errors.FENCED_MEMBER_EPOCH);
    }

    @Test
    void aLeavingMemberIsRemovedAndItsPartitionsGoToTheOthers() {
        heartbeat("a", 0, Set.of());
        heartbeat("b", 0, Set.of());
        Set<Integer> aKeeps = assigned(heartbeat("a", 1, Set.of(0, 1, 2, 3, 4, 5)));
        heartbeat("a", 1, aKeeps);
        heartbeat("b", 2, Set.of());

        ConsumerGroupHeartbeatResponseData left = heartbeat("b", -1, null);
        assertThat(left.memberEpoch()).isEqualTo(-1);
        ConsumerGroupHeartbeatResponseData a = heartbeat("a", 2, aKeeps);
        assertThat(assigned(a)).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(a.memberEpoch()).isEqualTo(3);
    }

    @Test
    void aSilentMemberIsRemovedAfterTheSessionTimeout() {
        heartbeat("a", 0, Set.of());
        heartbeat("b", 0, Set.of());
        now += 44_000;
        heartbeat("a", 1, Set.of(0, 1, 2, 3, 4, 5));
        now += 2_000;
        group.tick(now);
        assertThat(group.members()).containsOnlyKeys("a");
        assertThat(group.subscribedTopics()).containsExactly("orders");
    }

    @Test
    void aRegexMatchesOnlyTopicsTheMemberMayDescribeAndFollowsGrantsAndRevocations() {
        Set<String> describable = new HashSet<>();
        ConsumerGroupHeartbeatRequestData join = new ConsumerGroupHeartbeatRequestData().setGroupId("g")
                .setMemberId("a").setMemberEpoch(0).setRebalanceTimeoutMs(30_000).setSubscribedTopicRegex("ord.*");
        ConsumerGroupHeartbeatResponseData r = group.heartbeat(join, (short) 1, "c", "/h", describable::contains,
                now);
        assertThat(r.errorCode()).isZero();
        assertThat(group.subscribedTopics()).as("orders matches but may not be described").isEmpty();
        assertThat(r.assignment().topicPartitions()).isEmpty();

        describable.add("orders");
        ConsumerGroupHeartbeatRequestData beat = new ConsumerGroupHeartbeatRequestData().setGroupId("g")
                .setMemberId("a").setMemberEpoch(r.memberEpoch()).setTopicPartitions(List.of());
        r = group.heartbeat(beat, (short) 1, "c", "/h", describable::contains, now);
        assertThat(group.subscribedTopics()).containsExactly("orders");
        assertThat(assigned(r)).as("DESCRIBE granted: the next heartbeat gets the partitions")
                .containsExactly(0, 1, 2, 3, 4, 5);

        describable.clear();
        beat.setMemberEpoch(r.memberEpoch()).setTopicPartitions(List.of(new ConsumerGroupHeartbeatRequestData
                .TopicPartitions().setTopicId(TOPIC_ID).setPartitions(List.of(0, 1, 2, 3, 4, 5))));
        r = group.heartbeat(beat, (short) 1, "c", "/h", describable::contains, now);
        assertThat(group.subscribedTopics()).isEmpty();
        assertThat(r.assignment().topicPartitions()).as("DESCRIBE revoked: the partitions are taken back")
                .isEmpty();
    }

    @Test
    void unknownAssignorsAndBadFirstHeartbeatsAreRefused() {
        ConsumerGroupHeartbeatResponseData r = group.heartbeat(new ConsumerGroupHeartbeatRequestData()
                .setGroupId("g").setMemberId("a").setMemberEpoch(0).setRebalanceTimeoutMs(1000)
                .setSubscribedTopicNames(List.of("orders")).setServerAssignor("sticky"), (short) 1, "c", "/h",
                topic -> true, now);
        assertThat(r.errorCode()).isEqualTo(Errors.UNSUPPORTED_ASSIGNOR.code());
        r = group.heartbeat(new ConsumerGroupHeartbeatRequestData().setGroupId("g").setMemberId("a")
                .setMemberEpoch(0), (short) 1, "c", "/h", topic -> true, now);
        assertThat(r.errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
        r = group.heartbeat(new ConsumerGroupHeartbeatRequestData().setGroupId("g").setMemberId("")
                .setMemberEpoch(0).setRebalanceTimeoutMs(1000).setSubscribedTopicNames(List.of("orders")),
                (short) 0, "c", "/h", topic -> true, now);
        assertThat(r.errorCode()).isZero();
        assertThat(r.memberId()).as("v0: the server chooses the member id").isNotEmpty();
    }

    @Test
    void assignorsSpreadEvenlyAndUniformIsSticky() {
        Map<String, Assignors.MemberSpec> members = new TreeMap<>();
        Map<Uuid, Set<Integer>> aHad = Map.of(TOPIC_ID, new TreeSet<>(Set.of(0, 1, 2)));
        Map<Uuid, Set<Integer>> bHad = Map.of(TOPIC_ID, new TreeSet<>(Set.of(3, 4, 5)));
        members.put("a", new Assignors.MemberSpec("a", Set.of(TOPIC_ID), aHad));
        members.put("b", new Assignors.MemberSpec("b", Set.of(TOPIC_ID), bHad));
        members.put("c", new Assignors.MemberSpec("c", Set.of(TOPIC_ID), Map.of()));

        var uniform = Assignors.assign("uniform", members, Map.of(TOPIC_ID, 6));
        assertThat(uniform.values()).allSatisfy(m -> assertThat(m.get(TOPIC_ID)).hasSize(2));
        assertThat(aHad.get(TOPIC_ID)).containsAll(uniform.get("a").get(TOPIC_ID));
        assertThat(bHad.get(TOPIC_ID)).containsAll(uniform.get("b").get(TOPIC_ID));
        Set<Integer> all = new HashSet<>();
        uniform.values().forEach(m -> all.addAll(m.get(TOPIC_ID)));
        assertThat(all).hasSize(6);

        var range = Assignors.assign("range", members, Map.of(TOPIC_ID, 7));
        assertThat(range.get("a").get(TOPIC_ID)).containsExactly(0, 1, 2);
        assertThat(range.get("b").get(TOPIC_ID)).containsExactly(3, 4);
        assertThat(range.get("c").get(TOPIC_ID)).containsExactly(5, 6);
    }
}
