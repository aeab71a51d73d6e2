package io.fluxmq.kafka.group;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** The classic rebalance protocol, driven with explicit time. */
class ClassicGroupTest {
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;

    private long now = 1_000_000;
    private ClassicGroup group = new ClassicGroup("g", config(Duration.ZERO), now);

    static GroupConfig config(Duration initialDelay) {
        GroupConfig d = GroupConfig.defaults();
        return new GroupConfig(d.offsetsTopicPartitions(), d.offsetsTopicReplicationFactor(), d.offsetsRetention(),
                d.offsetsRetentionCheckInterval(), d.offsetMetadataMaxBytes(), d.minSessionTimeout(),
                d.maxSessionTimeout(), initialDelay, d.consumerSessionTimeout(), d.consumerHeartbeatInterval(),
                d.consumerAssignors(), d.maxGroupSize(), d.offsetsTopicSegmentBytes());
    }

    private static Map<String, byte[]> protocols(String... namesAndMetadata) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (int i = 0; i < namesAndMetadata.length; i += 2) {
            out.put(namesAndMetadata[i], namesAndMetadata[i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    private CompletableFuture<JoinGroupResponseData> join(String memberId, String instanceId, Map<String, byte[]> p) {
        return group.join(new ClassicGroup.Join(memberId, instanceId, "client", "/127.0.0.1", SESSION_MS, REBALANCE_MS,
                "consumer", p, (short) 9), now);
    }

    /** First join of a dynamic member: MEMBER_ID_REQUIRED, then the real join. Returns the completed response. */
    private String joinNew(Map<String, byte[]> p) {
        JoinGroupResponseData first = join("", null, p).join();
        assertThat(first.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
        assertThat(first.memberId()).startsWith("client-");
        return first.memberId();
    }

    private SyncGroupResponseData sync(String memberId, int generation, Map<String, byte[]> assignments) {
        return group.sync(memberId, null, generation, "consumer", "range", assignments, now).join();
    }

    @Test
    void firstMemberNeedsAMemberIdThenLeadsGenerationOneWithItsMetadataUntouched() {
        String a = joinNew(protocols("range", "meta-a", "roundrobin", "rr-a"));
        JoinGroupResponseData joined = join(a, null, protocols("range", "meta-a", "roundrobin", "rr-a")).join();

        assertThat(joined.errorCode()).isZero();
        assertThat(joined.generationId()).isEqualTo(1);
        assertThat(joined.leader()).isEqualTo(a);
        assertThat(joined.protocolName()).isEqualTo("range");
        assertThat(joined.members()).singleElement().satisfies(m -> {
            assertThat(m.memberId()).isEqualTo(a);
            assertThat(new String(m.metadata(), StandardCharsets.UTF_8)).isEqualTo("meta-a");
        });
        assertThat(group.state()).isEqualTo(ClassicGroup.State.COMPLETING_REBALANCE);
        assertThat(sync(a, 1, Map.of(a, "asg".getBytes())).assignment()).isEqualTo("asg".getBytes());
        assertThat(group.state()).isEqualTo(ClassicGroup.State.STABLE);
    }

    @Test
    void aSecondMemberTriggersARebalanceThatWaitsForTheFirstToRejoin() {
        String a = stableSingleMember();
        String b = joinNew(protocols("range", "meta-b"));
        CompletableFuture<JoinGroupResponseData> bJoin = join(b, null, protocols("range", "meta-b"));
        assertThat(bJoin).isNotDone();
        assertThat(group.heartbeat(a, null, 1, now)).isEqualTo(Errors.REBALANCE_IN_PROGRESS);

        JoinGroupResponseData aJoined = join(a, null, protocols("range", "meta-a")).join();
        JoinGroupResponseData bJoined = bJoin.join();

        assertThat(aJoined.generationId()).isEqualTo(2).isEqualTo(bJoined.generationId());
        assertThat(aJoined.leader()).isEqualTo(a).isEqualTo(bJoined.leader());
        assertThat(aJoined.members()).extracting(JoinGroupResponseData.JoinGroupResponseMember::memberId)
                .containsExactlyInAnyOrder(a, b);
        assertThat(bJoined.members()).isEmpty();
        CompletableFuture<SyncGroupResponseData> bSync = group.sync(b, null, 2, "consumer", "range", Map.of(), now);
        assertThat(bSync).isNotDone();
        sync(a, 2, Map.of(a, "pa".getBytes(), b, "pb".getBytes()));
        assertThat(bSync.join().assignment()).isEqualTo("pb".getBytes());
        assertThat(group.heartbeat(b, null, 1, now)).isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(group.heartbeat(b, null, 2, now)).isEqualTo(Errors.NONE);
    }

    @Test
    void aMemberWhoseSessionExpiresIsRemovedAndTheRestRebalance() {
        String a = stableSingleMember();
        String b = joinNew(protocols("range", "meta-b"));
        CompletableFuture<JoinGroupResponseData> bJoin = join(b, null, protocols("range", "meta-b"));
        join(a, null, protocols("range", "meta-a")).join();
        bJoin.join();
        sync(a, 2, Map.of());
        group.sync(b, null, 2, "consumer", "range", Map.of(), now).join();

        now += SESSION_MS / 2;
        assertThat(group.heartbeat(a, null, 2, now)).isEqualTo(Errors.NONE);
        now += SESSION_MS / 2 + 1;
        group.tick(now);

        assertThat(group.members()).containsOnlyKeys(a);
        assertThat(group.state()).isEqualTo(ClassicGroup.State.PREPARING_REBALANCE);
        assertThat(group.heartbeat(b, null, 2, now)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        JoinGroupResponseData rejoined = join(a, null, protocols("range", "meta-a")).join();
        assertThat(rejoined.generationId()).isEqualTo(3);
        assertThat(rejoined.members()).hasSize(1);
    }

    @Test
    void membersThatDoNotRejoinWithinTheRebalanceTimeoutAreDropped() {
        String a = stableSingleMember();
        String b = joinNew(protocols("range", "meta-b"));
        CompletableFuture<JoinGroupResponseData> bJoin = join(b, null, protocols("range", "meta-b"));
        long deadline = now + REBALANCE_MS;
        while (now + 5000 < deadline) {
            now += 5000;
            assertThat(group.heartbeat(a, null, 1, now)).as("a is alive but does not rejoin")
                    .isEqualTo(Errors.REBALANCE_IN_PROGRESS);
            group.tick(now);
        }
        now = deadline - 1;
        group.tick(now);
        assertThat(bJoin).isNotDone();
        now += 2;
        group.tick(now);

        assertThat(bJoin.join().generationId()).isEqualTo(2);
        assertThat(bJoin.join().leader()).isEqualTo(b);
        assertThat(group.members()).containsOnlyKeys(b);
        assertThat(group.heartbeat(a, null, 1, now)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void aRestartedStaticMemberGetsItsAssignmentBackWithoutARebalanceAndFencesItsOldId() {
        JoinGroupResponseData first = join("", "instance-1", protocols("range", "meta")).join();
        String old = first.memberId();
        assertThat(first.errorCode()).isZero();
        sync(old, 1, Map.of(old, "alone".getBytes()));
        String follower = joinNew(protocols("range", "meta-f"));
        CompletableFuture<JoinGroupResponseData> followerJoin = join(follower, null, protocols("range", "meta-f"));
        JoinGroupResponseData leaderJoin = join(old, "instance-1", protocols("range", "meta")).join();
        int generation = leaderJoin.generationId();
        assertThat(followerJoin.join().generationId()).isEqualTo(generation).isEqualTo(2);
        assertThat(leaderJoin.leader()).isEqualTo(old);
        group.sync(follower, null, generation, "consumer", "range", Map.of(), now);
        sync(old, generation, Map.of(old, "static-asg".getBytes(), follower, "f".getBytes()));

        JoinGroupResponseData again = join("", "instance-1", protocols("range", "meta")).join();

        assertThat(again.errorCode()).isZero();
        assertThat(again.memberId()).isNotEqualTo(old);
        assertThat(again.generationId()).isEqualTo(generation);
        assertThat(group.state()).isEqualTo(ClassicGroup.State.STABLE);
        assertThat(group.heartbeat(old, "instance-1", generation, now)).isEqualTo(Errors.FENCED_INSTANCE_ID);
        assertThat(group.sync(again.memberId(), "instance-1", generation, "consumer", "range", Map.of(), now).join()
                .assignment()).isEqualTo("static-asg".getBytes());
    }

    @Test
    void leavingByMemberOrInstanceIdAndTheLastLeaveEmptiesTheGroup() {
        String a = stableSingleMember();
        assertThat(group.leave("nobody", null, now)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(group.leave("", "no-instance", now)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(group.leave(a, null, now)).isEqualTo(Errors.NONE);

        assertThat(group.state()).isEqualTo(ClassicGroup.State.EMPTY);
        assertThat(group.generation()).isEqualTo(2);
        assertThat(group.isEmpty()).isTrue();
        assertThat(group.takeDirty()).isTrue();
    }

    @Test
    void commitsAreCheckedAgainstMemberAndGeneration() {
        assertThat(group.validateCommit("", null, -1, now)).as("admin commit to an empty group").isEqualTo(Errors.NONE);
        String a = stableSingleMember();
        assertThat(group.validateCommit("", null, -1, now)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(group.validateCommit(a, null, 0, now)).isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(group.validateCommit("ghost", null, 1, now)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(group.validateCommit(a, null, 1, now)).isEqualTo(Errors.NONE);
    }

    @Test
    void aNewGroupWaitsForTheInitialRebalanceDelay() {
        group = new ClassicGroup("g", config(Duration.ofMillis(3000)), now);
        String a = joinNew(protocols("range", "meta-a"));
        CompletableFuture<JoinGroupResponseData> aJoin = join(a, null, protocols("range", "meta-a"));
        now += 2000;
        group.tick(now);
        String b = joinNew(protocols("range", "meta-b"));
        CompletableFuture<JoinGroupResponseData> bJoin = join(b, null, protocols("range", "meta-b"));
        now += 2999;
        group.tick(now);
        assertThat(aJoin).isNotDone();
        now += 1;
        group.tick(now);

        assertThat(aJoin.join().generationId()).isEqualTo(1);
        assertThat(bJoin.join().generationId()).isEqualTo(1);
        assertThat(aJoin.join().members()).hasSize(2);
    }

    @Test
    void incompatibleProtocolsAndSessionTimeoutsAreRefused() {
        stableSingleMember();
        assertThat(group.join(new ClassicGroup.Join("", null, "c", "/h", SESSION_MS, REBALANCE_MS, "connect",
                protocols("range", "x"), (short) 9), now).join().errorCode())
                .isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL.code());
        assertThat(join("", null, protocols("sticky", "x")).join().errorCode())
                .isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL.code());
        assertThat(group.join(new ClassicGroup.Join("", null, "c", "/h", 10, REBALANCE_MS, "consumer",
                protocols("range", "x"), (short) 9), now).join().errorCode())
                .isEqualTo(Errors.INVALID_SESSION_TIMEOUT.code());
    }

    private String stableSingleMember() {
        String a = joinNew(protocols("range", "meta-a"));
        JoinGroupResponseData joined = join(a, null, protocols("range", "meta-a")).join();
        sync(a, joined.generationId(), Map.of(a, "pa".getBytes()));
        assertThat(group.state()).isEqualTo(ClassicGroup.State.STABLE);
        assertThat(List.of(joined.generationId())).containsExactly(1);
        return a;
    }
}
