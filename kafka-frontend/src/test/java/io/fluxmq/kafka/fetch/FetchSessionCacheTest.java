package io.fluxmq.kafka.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;

/** KIP-227 sessions as Kafka's FetchManager keeps them: creation, epochs, incremental updates, eviction. */
class FetchSessionCacheTest {
    private static final short V = 17;
    private static final Uuid TOPIC = Uuid.fromString("AAAAAAAAAAAAAAAAAAAAAQ");
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AtomicInteger nextId = new AtomicInteger(100);

    private FetchSessionCache cache(int slots) {
        return new FetchSessionCache(slots, 120_000, now::get, nextId::incrementAndGet);
    }

    private static FetchRequestData request(int sessionId, int epoch, long... offsets) {
        List<FetchRequestData.FetchPartition> partitions = new ArrayList<>();
        for (int p = 0; p < offsets.length; p++) {
            if (offsets[p] >= 0) {
                partitions.add(new FetchRequestData.FetchPartition().setPartition(p).setFetchOffset(offsets[p])
                        .setPartitionMaxBytes(1 << 20).setCurrentLeaderEpoch(3));
            }
        }
        return new FetchRequestData().setSessionId(sessionId).setSessionEpoch(epoch).setTopics(List.of(
                new FetchRequestData.FetchTopic().setTopicId(TOPIC).setPartitions(partitions)));
    }

    /** Results for the context's partitions: {@code withData} partitions got records, all have this high watermark. */
    private static List<PartitionResult> results(FetchContext context, long hw, int... withData) {
        List<PartitionResult> out = new ArrayList<>();
        for (FetchPosition p : context.partitions()) {
            boolean data = false;
            for (int d : withData) {
                data |= d == p.key().partition();
            }
            out.add(new PartitionResult(p.key(), new FetchResponseData.PartitionData()
                    .setPartitionIndex(p.key().partition()).setHighWatermark(hw).setLogStartOffset(0)
                    .setRecords(data ? MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("v".getBytes()))
                            : MemoryRecords.EMPTY)));
        }
        return out;
    }

    private static List<Integer> partitionsOf(FetchResponseData response) {
        return response.responses().stream().flatMap(t -> t.partitions().stream())
                .map(FetchResponseData.PartitionData::partitionIndex).toList();
    }

    @Test
    void aFullFetchWithEpochZeroOpensASessionAndIncrementalFetchesFollowItsEpochs() {
        FetchSessionCache cache = cache(10);
        FetchContext full = cache.newContext(V, request(0, 0, 5, 7));
        assertThat(full).isInstanceOf(FetchContext.Full.class);
        FetchResponseData first = full.respond(results(full, 10));
        int id = first.sessionId();
        assertThat(id).isEqualTo(101);
        assertThat(partitionsOf(first)).containsExactly(0, 1);

        // incremental, epoch 1, nothing named: both partitions are read at the session's positions
        FetchContext inc = cache.newContext(V, request(id, 1));
        assertThat(inc).isInstanceOf(FetchContext.Incremental.class);
        assertThat(inc.partitions()).extracting(FetchPosition::fetchOffset).containsExactly(5L, 7L);
        // nothing changed: the response is empty but keeps the session
        FetchResponseData quiet = inc.respond(results(inc, 10));
        assertThat(quiet.sessionId()).isEqualTo(id);
        assertThat(partitionsOf(quiet)).isEmpty();

        // the next epoch is 2; a replayed epoch 1 is refused, so is an unknown id
        assertThat(cache.newContext(V, request(id, 1))).isEqualTo(
                new FetchContext.SessionError(Errors.INVALID_FETCH_SESSION_EPOCH));
        assertThat(cache.newContext(V, request(id + 1, 1))).isEqualTo(
                new FetchContext.SessionError(Errors.FETCH_SESSION_ID_NOT_FOUND));
        FetchResponseData error = new FetchContext.SessionError(Errors.FETCH_SESSION_ID_NOT_FOUND).respond(List.of());
        assertThat(error.errorCode()).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND.code());
        assertThat(error.sessionId()).isZero();

        // partition 1 moved on (named with its new offset); only data or a changed high watermark answers
        FetchContext moved = cache.newContext(V, request(id, 2, -1, 9));
        assertThat(moved.partitions()).extracting(FetchPosition::fetchOffset).containsExactly(5L, 9L);
        assertThat(partitionsOf(moved.respond(results(moved, 10, 1)))).containsExactly(1);
        // partition 1 returned data, so it is read last from now on
        FetchContext rotated = cache.newContext(V, request(id, 3));
        assertThat(rotated.partitions()).extracting(p -> p.key().partition()).containsExactly(0, 1);
        assertThat(partitionsOf(rotated.respond(results(rotated, 12)))).containsExactly(0, 1);
    }

    @Test
    void partitionsAddedAnswerOnceForgottenOnesLeaveAndAnEmptiedSessionCloses() {
        FetchSessionCache cache = cache(10);
        FetchContext full = cache.newContext(V, request(0, 0, 5));
        int id = full.respond(results(full, 5)).sessionId();
        FetchContext added = cache.newContext(V, request(id, 1, -1, 0));
        assertThat(partitionsOf(added.respond(results(added, 5)))).containsExactly(1);

        FetchRequestData forget = request(id, 2).setForgottenTopicsData(List.of(new FetchRequestData.ForgottenTopic()
                .setTopicId(TOPIC).setPartitions(List.of(0))));
        assertThat(cache.newContext(V, forget).partitions()).extracting(p -> p.key().partition()).containsExactly(1);

        FetchRequestData forgetAll = request(id, 3).setForgottenTopicsData(List.of(new FetchRequestData.ForgottenTopic()
                .setTopicId(TOPIC).setPartitions(List.of(1))));
        FetchContext emptied = cache.newContext(V, forgetAll);
        assertThat(emptied).isInstanceOf(FetchContext.Sessionless.class);
        assertThat(emptied.respond(List.of()).sessionId()).isZero();
        assertThat(cache.size()).isZero();
    }

    @Test
    void anErrorAnswersEveryTimeAndThePartitionAnswersAgainWhenItClears() {
        FetchSessionCache cache = cache(10);
        FetchContext full = cache.newContext(V, request(0, 0, 5));
        int id = full.respond(results(full, 5)).sessionId();
        for (int epoch = 1; epoch <= 2; epoch++) {
            FetchContext inc = cache.newContext(V, request(id, epoch));
            List<PartitionResult> failed = results(inc, -1);
            failed.get(0).data().setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
            assertThat(partitionsOf(inc.respond(failed))).containsExactly(0);
        }
        FetchContext healed = cache.newContext(V, request(id, 3));
        assertThat(partitionsOf(healed.respond(results(healed, 5)))).containsExactly(0);
    }

    @Test
    void epochMinusOneClosesTheSessionAndFetchesWithoutOne() {
        FetchSessionCache cache = cache(10);
        FetchContext full = cache.newContext(V, request(0, 0, 5));
        int id = full.respond(results(full, 5)).sessionId();
        FetchContext close = cache.newContext(V, request(id, -1, 5));
        assertThat(close).isInstanceOf(FetchContext.Sessionless.class);
        assertThat(close.respond(results(close, 5)).sessionId()).isZero();
        assertThat(cache.size()).isZero();
        assertThat(cache.newContext(V, request(id, 1))).isEqualTo(
                new FetchContext.SessionError(Errors.FETCH_SESSION_ID_NOT_FOUND));
    }

    @Test
    void aSessionOpenedWithTopicIdsRefusesRequestsByName() {
        FetchSessionCache cache = cache(10);
        FetchContext full = cache.newContext(V, request(0, 0, 5));
        int id = full.respond(results(full, 5)).sessionId();
        assertThat(cache.newContext((short) 12, request(id, 1))).isEqualTo(
                new FetchContext.SessionError(Errors.FETCH_SESSION_TOPIC_ID_ERROR));
    }

    @Test
    void whenEverySlotIsTakenStaleSessionsGoFirstThenSmallerOldOnesForLargerNewOnes() {
        FetchSessionCache cache = cache(2);
        int a = open(cache, 5);          // 1 partition
        now.addAndGet(1000);
        int b = open(cache, 5, 5);       // 2 partitions
        // full and nothing evictable (both younger than the eviction time): no session, full fetches go on
        assertThat(open(cache, 5, 5, 5)).isZero();
        assertThat(cache.size()).isEqualTo(2);

        // both used just now (none idle), a created longer than the eviction time ago: it gives way to a larger session
        now.addAndGet(120_000);
        cache.newContext(V, request(a, 1)).respond(List.of());
        cache.newContext(V, request(b, 1)).respond(List.of());
        assertThat(open(cache, 5)).as("not larger than the smallest evictable session").isZero();
        int c = open(cache, 5, 5, 5);
        assertThat(c).isPositive();
        assertThat(cache.newContext(V, request(a, 2))).isEqualTo(
                new FetchContext.SessionError(Errors.FETCH_SESSION_ID_NOT_FOUND));

        // idle longer than the eviction time: the least recently used session goes, whatever its size
        now.addAndGet(120_001);
        cache.newContext(V, request(c, 1)).respond(List.of());
        assertThat(open(cache, 5)).isPositive();
        assertThat(cache.newContext(V, request(b, 2))).isEqualTo(
                new FetchContext.SessionError(Errors.FETCH_SESSION_ID_NOT_FOUND));
        assertThat(cache.newContext(V, request(c, 2))).isInstanceOf(FetchContext.Incremental.class);
    }

    @Test
    void zeroSlotsMeansNoSessions() {
        assertThat(open(cache(0), 5)).isZero();
    }

    private int open(FetchSessionCache cache, long... offsets) {
        FetchContext full = cache.newContext(V, request(0, 0, offsets));
        return full.respond(results(full, 5)).sessionId();
    }
}
