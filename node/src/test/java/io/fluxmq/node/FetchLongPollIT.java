package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.protocol.ApiMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetch long polls: an empty fetch waits for max_wait_ms; a record produced meanwhile ends the wait early; a request
 * pipelined behind a waiting fetch is answered after it, in request order. Fetch sessions on a running node: epoch 0
 * opens one, incremental fetches get only partitions with news, a replayed epoch is refused.
 */
class FetchLongPollIT {
    private static final short FETCH_VERSION = 12;
    @TempDir
    static Path dataDir;
    static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.start(dataDir);
        node.createTopic("poll", 1);
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static FetchRequestData fetch(long offset, int maxWaitMs) {
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(maxWaitMs).setMinBytes(1)
                .setMaxBytes(1 << 20).setIsolationLevel((byte) 0).setSessionId(0).setSessionEpoch(-1)
                .setTopics(List.of(new FetchRequestData.FetchTopic().setTopic("poll").setTopicId(Uuid.ZERO_UUID)
                        .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0)
                                .setFetchOffset(offset).setPartitionMaxBytes(1 << 20).setLogStartOffset(-1)))));
    }

    private static void send(RawKafkaConnection c, RequestHeader header, ApiMessage body) throws Exception {
        c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(), body, header.apiVersion()));
    }

    @Test
    void emptyFetchWaitsAndPipelinedResponsesKeepRequestOrder() throws Exception {
        try (RawKafkaConnection c = RawKafkaConnection.open(node.kafkaPort())) {
            RequestHeader fetchHeader = new RequestHeader(ApiKeys.FETCH, FETCH_VERSION, "poll", 1);
            RequestHeader versionsHeader = new RequestHeader(ApiKeys.API_VERSIONS, (short) 3, "poll", 2);
            long end = currentEnd(c);
            long start = System.nanoTime();
            send(c, fetchHeader, fetch(end, 1500));
            send(c, versionsHeader, new ApiVersionsRequestData().setClientSoftwareName("t")
                    .setClientSoftwareVersion("1"));
            FetchResponse first = (FetchResponse) AbstractResponse.parseResponse(c.readFrame(), fetchHeader);
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            AbstractResponse second = AbstractResponse.parseResponse(c.readFrame(), versionsHeader);
            assertThat(waitedMs).as("an empty fetch waits for max_wait_ms").isGreaterThanOrEqualTo(1400);
            assertThat(first.data().responses().get(0).partitions().get(0).records().sizeInBytes()).isZero();
            assertThat(second).isInstanceOf(ApiVersionsResponse.class);
        }
    }

    @Test
    void produceEndsTheWaitEarly() throws Exception {
        try (RawKafkaConnection c = RawKafkaConnection.open(node.kafkaPort());
             KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
            long end = currentEnd(c);
            RequestHeader header = new RequestHeader(ApiKeys.FETCH, FETCH_VERSION, "poll", 3);
            long start = System.nanoTime();
            send(c, header, fetch(end, 20_000));
            Thread.sleep(300);
            producer.send(new ProducerRecord<>("poll", "k", "woken")).get();
            FetchResponse response = (FetchResponse) AbstractResponse.parseResponse(c.readFrame(), header);
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(waitedMs).as("woken by the produce, well before max_wait_ms").isLessThan(10_000);
            var partition = response.data().responses().get(0).partitions().get(0);
            assertThat(partition.records().sizeInBytes()).isPositive();
            assertThat(partition.highWatermark()).isEqualTo(end + 1);
        }
    }

    @Test
    void fetchSessionsServeIncrementalFetches() throws Exception {
        try (RawKafkaConnection c = RawKafkaConnection.open(node.kafkaPort());
             KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
            long end = currentEnd(c);
            RequestHeader full = new RequestHeader(ApiKeys.FETCH, FETCH_VERSION, "poll", 20);
            send(c, full, fetch(end, 0).setSessionEpoch(0));
            FetchResponse opened = (FetchResponse) AbstractResponse.parseResponse(c.readFrame(), full);
            int session = opened.data().sessionId();
            assertThat(session).as("epoch 0 opens a session").isNotZero();
            assertThat(opened.data().responses().get(0).partitions()).hasSize(1);

            FetchRequestData incremental = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1)
                    .setMaxBytes(1 << 20).setIsolationLevel((byte) 0).setSessionId(session).setSessionEpoch(1);
            RequestHeader quiet = new RequestHeader(ApiKeys.FETCH, FETCH_VERSION, "poll", 21);
            send(c, quiet, incremental);
            FetchResponse nothing = (FetchResponse) AbstractResponse.parseResponse(c.readFrame(), quiet);
            assertThat(nothing.data().sessionId()).isEqualTo(session);
            assertThat(nothing.data().responses()).as("no partition has news").isEmpty();

            producer.send(new ProducerRecord<>("poll", "k", "in session")).get();
            RequestHeader news = new RequestHeader(ApiKeys.FETCH, FETCH_VERSION, "poll", 22);
            send(c, news, incremental.setSessionEpoch(2).setMaxWaitMs(10_000));
            FetchResponse woken = (FetchResponse) AbstractResponse.parseResponse(c.readFrame(), news);
            var partition = woken.data().responses().get(0).partitions().get(0);
            assertThat(partition.records().sizeInBytes()).isPositive();
            assertThat(partition.highWatermark()).isEqualTo(end + 1);

            RequestHeader replay = new RequestHeader(ApiKeys.FETCH, FETCH_VERSION, "poll", 23);
            send(c, replay, incremental);
            FetchResponse refused = (FetchResponse) AbstractResponse.parseResponse(c.readFrame(), replay);
            assertThat(refused.error()).isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH);
        }
    }

    /**
     * The partition's high watermark, once its leader serves it (CreateTopics answers before the new partition's
     * leader is ready, as Kafka's does; a fetch until then is answered with an error and no high watermark).
     */
    private static long currentEnd(RawKafkaConnection c) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (true) {
            RequestHeader header = new RequestHeader(ApiKeys.FETCH, FETCH_VERSION, "poll", 9);
            send(c, header, fetch(0, 0));
            FetchResponse r = (FetchResponse) AbstractResponse.parseResponse(c.readFrame(), header);
            var partition = r.data().responses().get(0).partitions().get(0);
            if (partition.errorCode() == Errors.NONE.code()) {
                return partition.highWatermark();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("partition poll-0 not served within 30 s: " + Errors.forCode(
                        partition.errorCode()));
            }
            Thread.sleep(50);
        }
    }
}
