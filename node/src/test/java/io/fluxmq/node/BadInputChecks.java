package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.ListOffsetsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bytes no well-behaved client sends, each on its own raw connection: the node answers as Kafka does or closes that
 * connection, and real clients before and after see every acknowledged record. The listener under test is the
 * subclass's: plaintext ({@link BadInputIT}) or TLS ({@link BadInputTlsIT}), where the same bytes travel inside TLS
 * records and must meet the same answers behind the TLS layer.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class BadInputChecks {
    private static final String TOPIC = "bad-input";
    private static final int PARTITIONS = 3;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    private final Map<TopicPartition, Map<Long, String>> acked = new HashMap<>();
    private TestNode node;

    /** Starts the node whose listener is under test, over {@code dataDir}; topics are created over plaintext. */
    abstract TestNode startNode(Path dataDir) throws Exception;

    /** A raw connection to the listener under test. */
    abstract RawKafkaConnection open() throws Exception;

    /** The bootstrap address of the listener under test and the client settings it needs. */
    abstract Properties clientSettings();

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        node = startNode(dataDir);
        node.createTopic(TOPIC, PARTITIONS);
    }

    @AfterAll
    void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    @Order(1)
    void clientsWorkBefore() throws Exception {
        produceAndReadBack("before", 300);
    }

    @ParameterizedTest(name = "seed {0}")
    @Order(2)
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void randomBytes(long seed) throws Exception {
        Random random = new Random(seed);
        byte[] bytes = new byte[1 + random.nextInt(4096)];
        random.nextBytes(bytes);
        int declared = bytes.length < 4 ? 0 : ByteBuffer.wrap(bytes).getInt();
        boolean completeOrTooLarge = bytes.length >= 4 && (declared < 0 || declared <= bytes.length - 4
                || declared > 100 << 20);
        try (RawKafkaConnection c = open().send(bytes)) {
            if (!completeOrTooLarge) {
                c.shutdownOutput();
            }
            assertClosedWithoutAnswer(c);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @Order(2)
    @ValueSource(longs = {11, 12, 13, 14, 15, 16, 17, 18})
    void randomFrame(long seed) throws Exception {
        Random random = new Random(seed);
        byte[] body = new byte[random.nextInt(2048)];
        random.nextBytes(body);
        try (RawKafkaConnection c = open().sendFrame(ByteBuffer.wrap(body))) {
            assertClosedWithoutAnswer(c);
        }
    }

    @Test
    @Order(2)
    void truncatedFrame() throws Exception {
        byte[] tenBytes = {0, 18, 0, 3, 0, 0, 0, 1, 0, 6};
        try (RawKafkaConnection c = open()) {
            c.send(ByteBuffer.allocate(4).putInt(100).array()).send(tenBytes);
            RawKafkaConnection.Outcome waiting = c.awaitClose(Duration.ofMillis(500));
            assertThat(waiting).as("a partial frame is waited for, not answered").isEqualTo(
                    new RawKafkaConnection.Outcome(false, 0));
            c.shutdownOutput();
            assertClosedWithoutAnswer(c);
        }
    }

    @ParameterizedTest(name = "length prefix {0}")
    @Order(2)
    @ValueSource(ints = {200_000_000, 104_857_601, Integer.MAX_VALUE, -1, -100, Integer.MIN_VALUE})
    void lengthPrefixOutOfRange(int length) throws Exception {
        try (RawKafkaConnection c = open()) {
            c.send(ByteBuffer.allocate(20).putInt(length).putShort((short) 18).putShort((short) 3).array());
            assertClosedWithoutAnswer(c);
        }
    }

    @Test
    @Order(2)
    void unknownApiKey() throws Exception {
        ByteBuffer frame = rawHeader((short) 999, (short) 0, 21).put(new byte[] {1, 2, 3, 4}).flip();
        try (RawKafkaConnection c = open().sendFrame(frame)) {
            assertClosedWithoutAnswer(c);
        }
    }

    @Test
    @Order(2)
    void produceV2IsUnsupported() throws Exception {
        ByteBuffer frame = rawHeader(ApiKeys.PRODUCE.id, (short) 2, 22)
                .putShort((short) 1).putInt(30_000).putInt(0).flip();
        try (RawKafkaConnection c = open().sendFrame(frame)) {
            assertClosedWithoutAnswer(c);
        }
    }

    @Test
    @Order(2)
    void apiVersionsV99GetsV0UnsupportedVersionThenV3Works() throws Exception {
        RequestHeaderData v99 = new RequestHeaderData().setRequestApiKey(ApiKeys.API_VERSIONS.id)
                .setRequestApiVersion((short) 99).setCorrelationId(4711).setClientId("future-client");
        ApiVersionsRequestData body = new ApiVersionsRequestData().setClientSoftwareName("future")
                .setClientSoftwareVersion("99.0");
        try (RawKafkaConnection c = open()) {
            c.sendFrame(RequestUtils.serialize(v99, (short) 2, body, (short) 4));
            ByteBuffer response = c.readFrame();
            assertThat(ResponseHeader.parse(response, (short) 0).correlationId()).isEqualTo(4711);
            ApiVersionsResponseData data = ApiVersionsResponse.parse(
                    new org.apache.kafka.common.protocol.ByteBufferAccessor(response), (short) 0).data();
            assertThat(data.errorCode()).isEqualTo((short) 35);
            assertThat(data.apiKeys().find(ApiKeys.PRODUCE.id)).isNotNull();
            assertThat(data.apiKeys().find(ApiKeys.API_VERSIONS.id).maxVersion()).isEqualTo((short) 4);

            ApiVersionsResponse retry = (ApiVersionsResponse) roundTrip(c,
                    new RequestHeader(ApiKeys.API_VERSIONS, (short) 3, "retry", 4712), body);
            assertThat(retry.data().errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(retry.data().apiKeys()).isEqualTo(data.apiKeys());
        }
    }

    @ParameterizedTest(name = "Metadata v{0}")
    @Order(2)
    @ValueSource(shorts = {1, 12})
    void metadataWithGarbageAfterTheHeader(short version) throws Exception {
        RequestHeader header = new RequestHeader(ApiKeys.METADATA, version, "garbage", 31);
        ByteBuffer valid = RequestUtils.serialize(header.data(), header.headerVersion(),
                new MetadataRequestData().setTopics(null), version);
        int headerSize = header.size();
        byte[] garbage = new byte[64];
        new Random(version).nextBytes(garbage);
        garbage[0] = (byte) 0xFF;
        ByteBuffer replaced = ByteBuffer.allocate(headerSize + garbage.length)
                .put(valid.duplicate().limit(headerSize)).put(garbage).flip();
        ByteBuffer appended = ByteBuffer.allocate(valid.remaining() + garbage.length)
                .put(valid.duplicate()).put(garbage).flip();
        for (ByteBuffer frame : List.of(replaced, appended)) {
            try (RawKafkaConnection c = open().sendFrame(frame)) {
                assertClosedWithoutAnswer(c);
            }
        }
    }

    @ParameterizedTest(name = "ListOffsets v{0}")
    @Order(3)
    @ValueSource(shorts = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
    void listOffsetsOfALivePartition(short version) throws Exception {
        assertListOffsetsAnswers(version);
    }

    @Test
    @Order(100)
    void clientsStillWorkAfter() throws Exception {
        produceAndReadBack("after", 300);
        try (RawKafkaConnection c = open()) {
            ApiVersionsResponse r = (ApiVersionsResponse) roundTrip(c, new RequestHeader(ApiKeys.API_VERSIONS,
                    (short) 3, "after", 1), new ApiVersionsRequestData().setClientSoftwareName("raw")
                    .setClientSoftwareVersion("1"));
            assertThat(r.data().errorCode()).isEqualTo(Errors.NONE.code());
        }
    }

    private void assertListOffsetsAnswers(short version) throws Exception {
        ListOffsetsRequestData request = new ListOffsetsRequestData().setReplicaId(-1).setTopics(List.of(
                new ListOffsetsRequestData.ListOffsetsTopic().setName(TOPIC).setPartitions(List.of(
                        new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1)))));
        try (RawKafkaConnection c = open()) {
            ListOffsetsResponse r = (ListOffsetsResponse) roundTrip(c,
                    new RequestHeader(ApiKeys.LIST_OFFSETS, version, "old-client", 41), request);
            var partition = r.data().topics().get(0).partitions().get(0);
            assertThat(partition.errorCode()).isEqualTo(Errors.NONE.code());
            if (version >= 4) {
                assertThat(partition.leaderEpoch()).as("Raft term").isPositive();
            } else {
                assertThat(partition.leaderEpoch()).as("field absent before v4").isEqualTo(-1);
            }
            // the end offset: one past the last acknowledged record (on multiraft a leader change takes an offset too)
            long end = acked.getOrDefault(new TopicPartition(TOPIC, 0), Map.of()).keySet().stream()
                    .mapToLong(offset -> offset + 1).max().orElse(partition.offset());
            assertThat(partition.offset()).isEqualTo(end);
        }
    }

    private static AbstractResponse roundTrip(RawKafkaConnection c, RequestHeader header, ApiMessage body)
            throws Exception {
        c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(), body, header.apiVersion()));
        return AbstractResponse.parseResponse(c.readFrame(), header);
    }

    /** A v1 request header (key, version, correlation id, client id "bad") with room for a body. */
    private static ByteBuffer rawHeader(short apiKey, short version, int correlationId) {
        return ByteBuffer.allocate(256).putShort(apiKey).putShort(version).putInt(correlationId)
                .putShort((short) 3).put("bad".getBytes(StandardCharsets.US_ASCII));
    }

    private static void assertClosedWithoutAnswer(RawKafkaConnection c) throws Exception {
        assertThat(c.awaitClose(CLOSE_WAIT)).isEqualTo(new RawKafkaConnection.Outcome(true, 0));
    }

    /** Produces {@code count} records with the default producer, then reads the whole topic back from the start. */
    private void produceAndReadBack(String prefix, int count) throws Exception {
        Properties p = clientSettings();
        List<Future<RecordMetadata>> sends = new ArrayList<>();
        try (KafkaProducer<String, String> producer =
                     new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                sends.add(producer.send(new ProducerRecord<>(TOPIC, "k" + i, prefix + "-" + i)));
            }
            producer.flush();
            for (int i = 0; i < count; i++) {
                RecordMetadata md = sends.get(i).get(30, TimeUnit.SECONDS);
                acked.computeIfAbsent(new TopicPartition(TOPIC, md.partition()), k -> new HashMap<>())
                        .put(md.offset(), prefix + "-" + i);
            }
        }
        Properties c = clientSettings();
        Map<TopicPartition, Map<Long, String>> seen = new HashMap<>();
        long expected = acked.values().stream().mapToLong(Map::size).sum();
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < PARTITIONS; i++) {
                tps.add(new TopicPartition(TOPIC, i));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            long got = 0;
            while (got < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    seen.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new HashMap<>())
                            .put(r.offset(), r.value());
                    got++;
                }
            }
        }
        assertThat(seen).isEqualTo(acked);
    }
}
