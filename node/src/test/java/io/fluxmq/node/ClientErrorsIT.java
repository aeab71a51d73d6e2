package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Errors a client can act on, seen through Kafka's own clients against one node: topic configs FluxMQ cannot honour
 * are refused at CreateTopics with INVALID_CONFIG naming the key, a topic's max.message.bytes is enforced, and an
 * acks=0 produce that fails closes the connection (Kafka's behaviour) while one that succeeds does not.
 */
class ClientErrorsIT {
    private static final String SMALL = "small-messages";
    private static final int SMALL_MAX = 4096;
    @TempDir
    static Path dataDir;
    static TestNode node;

    @BeforeAll
    static void startNode() throws Exception {
        node = TestNode.start(dataDir);
        try (Admin admin = node.admin()) {
            admin.createTopics(List.of(new NewTopic(SMALL, 1, (short) 1).configs(Map.of(
                    "max.message.bytes", Integer.toString(SMALL_MAX), "cleanup.policy", "delete",
                    "min.insync.replicas", "1")))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stopNode() {
        node.close();
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = ';', value = {"min.cleanable.dirty.ratio; 2", "compression.type; zstd", "message.timestamp.type; LogAppendTime", "max.message.bytes; 99999999",
            "min.insync.replicas; 2"})
    void configsFluxMqCannotHonourAreRefusedNamingTheKey(String key, String value) throws Exception {
        String topic = "refused-" + key.replace('.', '-');
        try (Admin admin = node.admin()) {
            for (boolean validateOnly : new boolean[] {true, false}) {
                assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
                                .configs(Map.of(key, value))), new CreateTopicsOptions().validateOnly(validateOnly))
                        .all().get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(InvalidConfigurationException.class).hasMessageContaining(key);
            }
            assertThatThrownBy(() -> admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS))
                    .cause().isInstanceOf(UnknownTopicOrPartitionException.class);
        }
    }

    @Test
    void aTopicsMaxMessageBytesIsEnforcedAndReported() throws Exception {
        try (Admin admin = node.admin()) {
            Config config = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, SMALL)))
                    .all().get(30, TimeUnit.SECONDS).values().iterator().next();
            assertThat(config.get("max.message.bytes").value()).isEqualTo(Integer.toString(SMALL_MAX));
        }
        try (KafkaProducer<byte[], byte[]> producer = producer("all")) {
            long offset = producer.send(new ProducerRecord<>(SMALL, new byte[1000])).get(30, TimeUnit.SECONDS)
                    .offset();
            assertThat(offset).isGreaterThanOrEqualTo(0);
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(SMALL, new byte[3 * SMALL_MAX]))
                    .get(30, TimeUnit.SECONDS))
                    .cause().isInstanceOf(RecordTooLargeException.class);
            // the producer is not poisoned: the next record fits and is written
            assertThat(producer.send(new ProducerRecord<>(SMALL, new byte[1000])).get(30, TimeUnit.SECONDS)
                    .offset()).isGreaterThan(offset);
        }
    }

    @Test
    void aFailedAcksZeroProduceClosesTheRawConnection() throws Exception {
        try (RawKafkaConnection c = RawKafkaConnection.open(node.kafkaPort())) {
            assertThat(apiVersions(c, 1).data().errorCode()).isEqualTo(Errors.NONE.code());
            c.sendFrame(frame(new RequestHeader(ApiKeys.PRODUCE, (short) 9, "raw", 2), produce(SMALL, 7)));
            assertThat(c.awaitClose(Duration.ofSeconds(10)))
                    .as("unknown partition 7: closed, nothing answered").isEqualTo(
                            new RawKafkaConnection.Outcome(true, 0));
        }
        try (RawKafkaConnection c = RawKafkaConnection.open(node.kafkaPort())) {
            c.sendFrame(frame(new RequestHeader(ApiKeys.PRODUCE, (short) 9, "raw", 3), produce(SMALL, 0)));
            // a successful acks=0 produce gets no response and leaves the connection open
            assertThat(apiVersions(c, 4).data().errorCode()).isEqualTo(Errors.NONE.code());
        }
    }

    @Test
    void aJavaProducerWithAcksZeroReconnectsAfterAFailedBatchAndKeepsSending() throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = producer("0")) {
            producer.send(new ProducerRecord<>(SMALL, "before".getBytes())).get(30, TimeUnit.SECONDS);
            double closesBefore = connectionCloses(producer);
            producer.send(new ProducerRecord<>(SMALL, new byte[3 * SMALL_MAX])).get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (connectionCloses(producer) <= closesBefore && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(connectionCloses(producer)).as("the node closed the producer's connection")
                    .isGreaterThan(closesBefore);
            producer.send(new ProducerRecord<>(SMALL, "after".getBytes())).get(30, TimeUnit.SECONDS);
        }
        // acks=0: the send completes when the record is handed to the socket, so it becomes readable a little later
        // (once seen: read back before the node had appended it)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<String> read = readAll(SMALL);
        while (!read.contains("after") && System.nanoTime() < deadline) {
            Thread.sleep(100);
            read = readAll(SMALL);
        }
        assertThat(read).contains("before", "after");
    }

    private static KafkaProducer<byte[], byte[]> producer(String acks) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, acks);
        if (acks.equals("0")) {
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        }
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static double connectionCloses(KafkaProducer<?, ?> producer) {
        for (Map.Entry<MetricName, ? extends Metric> m : producer.metrics().entrySet()) {
            if (m.getKey().name().equals("connection-close-total") && m.getKey().group().equals("producer-metrics")) {
                return ((Number) m.getValue().metricValue()).doubleValue();
            }
        }
        throw new AssertionError("no connection-close-total metric");
    }

    private static List<String> readAll(String topic) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrap());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(new String(r.value()));
                }
            }
        }
        return values;
    }

    private static ProduceRequestData produce(String topic, int partition) {
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("raw".getBytes()));
        return new ProduceRequestData().setAcks((short) 0).setTimeoutMs(5000).setTopicData(
                new ProduceRequestData.TopicProduceDataCollection(List.of(new ProduceRequestData.TopicProduceData()
                        .setName(topic).setPartitionData(List.of(new ProduceRequestData.PartitionProduceData()
                                .setIndex(partition).setRecords(records)))).iterator()));
    }

    private static java.nio.ByteBuffer frame(RequestHeader header, ApiMessage body) {
        return RequestUtils.serialize(header.data(), header.headerVersion(), body, header.apiVersion());
    }

    private static ApiVersionsResponse apiVersions(RawKafkaConnection c, int correlationId) throws Exception {
        RequestHeader header = new RequestHeader(ApiKeys.API_VERSIONS, (short) 3, "raw", correlationId);
        c.sendFrame(frame(header, new ApiVersionsRequestData().setClientSoftwareName("raw")
                .setClientSoftwareVersion("1")));
        return (ApiVersionsResponse) AbstractResponse.parseResponse(c.readFrame(), header);
    }
}
