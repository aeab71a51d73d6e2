package io.fluxmq.kafka.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.fluxmq.kafka.api.ConsumerGroupHeartbeatHandler;
import io.fluxmq.kafka.api.JoinGroupHandler;
import io.fluxmq.kafka.api.OffsetCommitHandler;
import io.fluxmq.kafka.api.SyncGroupHandler;
import io.fluxmq.kafka.broker.StubBrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.raft.partition.AppendResult;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Group writes never run on the caller's thread (a Netty event loop in the node): with an offsets partition whose
 * Raft submit blocks, OffsetCommit, JoinGroup, SyncGroup and ConsumerGroupHeartbeat handlers still return at once;
 * the writes happen on the partition's append thread, and OffsetCommit and ConsumerGroupHeartbeat answer once their
 * write is committed.
 */
class GroupWritesOffEventLoopTest {
    private static final String TOPIC = "orders";
    private static final int OFFSETS_PARTITIONS = 10;
    private static final Duration NO_BLOCKING = Duration.ofSeconds(5);
    private static final String APPEND_THREAD = "test-offsets-append";

    /** Node 1 alone, leading every partition; its offsets appends block until {@link #release} is counted down. */
    private static final class StuckOffsetsBroker extends StubBrokerServices {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch firstAppend = new CountDownLatch(1);
        final Set<String> appendThreads = ConcurrentHashMap.newKeySet();
        final List<MemoryRecords> appended = Collections.synchronizedList(new ArrayList<>());
        final AtomicLong nextOffset = new AtomicLong();

        @Override
        public CompletableFuture<AppendResult> append(TopicPartition tp, MemoryRecords records) {
            appendThreads.add(Thread.currentThread().getName());
            firstAppend.countDown();
            try {
                // stands for Ratis' submit blocking, e.g. while the leader steps down; bounded so a bug fails, not hangs
                if (!release.await(30, TimeUnit.SECONDS)) {
                    return CompletableFuture.failedFuture(new IllegalStateException("never released"));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return CompletableFuture.failedFuture(e);
            }
            appended.add(records);
            return CompletableFuture.completedFuture(new AppendResult(nextOffset.getAndIncrement(), 0));
        }

        @Override
        public Collection<TopicInfo> topics() {
            return List.of(topic(TOPIC).orElseThrow(), topic(GroupCoordinator.OFFSETS_TOPIC).orElseThrow());
        }

        @Override
        public Optional<TopicInfo> topic(String name) {
            if (name.equals(GroupCoordinator.OFFSETS_TOPIC)) {
                return Optional.of(new TopicInfo(name, new Uuid(3, 4), OFFSETS_PARTITIONS, (short) 1, Map.of(), true));
            }
            return name.equals(TOPIC) ? Optional.of(new TopicInfo(name, new Uuid(5, 6), 3, (short) 1, Map.of(), false))
                    : Optional.empty();
        }
    }

    private final StuckOffsetsBroker broker = new StuckOffsetsBroker();
    private final ExecutorService appendThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, APPEND_THREAD);
        t.setDaemon(true);
        return t;
    });
    /** Kafka's defaults, but no initial rebalance delay, so a lone classic member's join completes at once. */
    private final GroupConfig config = new GroupConfig(OFFSETS_PARTITIONS, (short) 1, Duration.ofDays(7),
            Duration.ofMinutes(10), 4096, Duration.ofSeconds(6), Duration.ofMinutes(30), Duration.ZERO,
            Duration.ofSeconds(45), Duration.ofSeconds(5), List.of("uniform", "range"), Integer.MAX_VALUE,
            GroupConfig.DEFAULT_OFFSETS_TOPIC_SEGMENT_BYTES);
    private final GroupCoordinator coordinator = new GroupCoordinator(broker, config, () -> 1_700_000_000_000L,
            tp -> appendThread);

    @AfterEach
    void tearDown() {
        broker.release.countDown();
        appendThread.shutdownNow();
        coordinator.close();
    }

    private void serve(String groupId) {
        GroupShard shard = coordinator.newShard(GroupCoordinator.partitionFor(groupId, OFFSETS_PARTITIONS), 1);
        coordinator.install(shard);
        shard.activate();
    }

    private static RequestContext context(ApiKeys key, int version) {
        return new RequestContext(new RequestHeader(key, (short) version, "client", 1), "EXTERNAL",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 50_000), KafkaPrincipal.ANONYMOUS);
    }

    private void assertTheWriteRunsOnTheAppendThreadAndIsStuck() throws InterruptedException {
        assertThat(broker.firstAppend.await(5, TimeUnit.SECONDS)).as("the write reached Raft").isTrue();
        assertThat(broker.appendThreads).containsOnly(APPEND_THREAD);
        assertThat(broker.appended).isEmpty();
    }

    @Test
    void offsetCommitReturnsAtOnceAndAnswersWhenTheWriteCommits() throws Exception {
        serve("payments");
        OffsetCommitHandler handler = new OffsetCommitHandler(new OffsetOperations(coordinator));
        OffsetCommitRequestData request = new OffsetCommitRequestData().setGroupId("payments")
                .setGenerationIdOrMemberEpoch(-1).setMemberId("")
                .setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC)
                        .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                .setPartitionIndex(0).setCommittedOffset(42)))));

        CompletableFuture<ApiMessage> response = assertTimeoutPreemptively(NO_BLOCKING,
                () -> handler.handle(context(ApiKeys.OFFSET_COMMIT, 9), request));

        assertTheWriteRunsOnTheAppendThreadAndIsStuck();
        assertThat(response).as("answered only once the commit is replicated").isNotDone();
        broker.release.countDown();
        OffsetCommitResponseData answer = (OffsetCommitResponseData) response.get(5, TimeUnit.SECONDS);
        assertThat(answer.topics().get(0).partitions().get(0).errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(broker.appended).hasSize(1);
        assertThat(new OffsetOperations(coordinator).fetch("payments", null, -1, null).offsets())
                .containsEntry(new TopicPartition(TOPIC, 0), new CommittedOffset(42, -1, "", 1_700_000_000_000L));
    }

    @Test
    void classicJoinAndSyncReturnWhileTheirGroupWritesWait() throws Exception {
        serve("billing");
        JoinGroupRequestData join = new JoinGroupRequestData().setGroupId("billing").setMemberId("")
                .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000).setProtocolType("consumer")
                .setProtocols(new JoinGroupRequestData.JoinGroupRequestProtocolCollection(List.of(
                        new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                                .setMetadata(new byte[0])).iterator()));

        CompletableFuture<ApiMessage> joined = assertTimeoutPreemptively(NO_BLOCKING,
                () -> new JoinGroupHandler(new GroupOperations(coordinator)).handle(context(ApiKeys.JOIN_GROUP, 3),
                        join));

        assertTheWriteRunsOnTheAppendThreadAndIsStuck();
        JoinGroupResponseData member = (JoinGroupResponseData) joined.get(5, TimeUnit.SECONDS);
        assertThat(member.errorCode()).isEqualTo(Errors.NONE.code());
        SyncGroupRequestData sync = new SyncGroupRequestData().setGroupId("billing").setMemberId(member.memberId())
                .setGenerationId(member.generationId()).setAssignments(List.of(
                        new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId(member.memberId())
                                .setAssignment(new byte[] {1, 2, 3})));

        CompletableFuture<ApiMessage> synced = assertTimeoutPreemptively(NO_BLOCKING,
                () -> new SyncGroupHandler(new GroupOperations(coordinator)).handle(context(ApiKeys.SYNC_GROUP, 3),
                        sync));

        assertThat(((SyncGroupResponseData) synced.get(5, TimeUnit.SECONDS)).assignment())
                .containsExactly(1, 2, 3);
        broker.release.countDown();
        waitUntilAppended(2); // the group after the join, and after the sync (with its assignment)
    }

    @Test
    void consumerGroupHeartbeatReturnsAtOnceAndAnswersWhenItsGroupWriteCommits() throws Exception {
        serve("shipping");
        ConsumerGroupHeartbeatRequestData heartbeat = new ConsumerGroupHeartbeatRequestData().setGroupId("shipping")
                .setMemberId(Uuid.randomUuid().toString()).setMemberEpoch(0).setRebalanceTimeoutMs(30_000)
                .setSubscribedTopicNames(List.of(TOPIC)).setTopicPartitions(List.of());

        CompletableFuture<ApiMessage> answered = assertTimeoutPreemptively(NO_BLOCKING,
                () -> new ConsumerGroupHeartbeatHandler(new GroupOperations(coordinator))
                        .handle(context(ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1), heartbeat));

        assertTheWriteRunsOnTheAppendThreadAndIsStuck();
        assertThat(answered).as("answered only once the member's new epoch is replicated").isNotDone();
        broker.release.countDown();
        ConsumerGroupHeartbeatResponseData response =
                (ConsumerGroupHeartbeatResponseData) answered.get(5, TimeUnit.SECONDS);
        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(response.memberEpoch()).isPositive();
        waitUntilAppended(1);
    }

    private void waitUntilAppended(int batches) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (broker.appended.size() < batches && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(broker.appended).hasSizeGreaterThanOrEqualTo(batches);
        assertThat(broker.appendThreads).containsOnly(APPEND_THREAD);
    }
}
