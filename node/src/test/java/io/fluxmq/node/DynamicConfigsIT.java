package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.AlterConfigsResponse;
import org.apache.kafka.common.requests.DescribeConfigsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Topic configs changed at runtime on a three-process cluster with the Kafka Admin client: DescribeConfigs reports
 * every value's source with synonyms and documentation; IncrementalAlterConfigs (SET, DELETE, APPEND) and the legacy
 * AlterConfigs (sent raw: Admin 4.x no longer has it) change them through cluster metadata, validate_only changes
 * nothing, bad values, unknown keys, unknown topics and read-only broker configs are refused with Kafka's errors;
 * a lowered retention (the topic's, or the cluster-wide default set with {@code kafka-configs --entity-default})
 * deletes records and a lowered segment.bytes rolls segments on every replica, without a restart.
 */
class DynamicConfigsIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static TestCluster cluster;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir, Map.of("log.retention.check.interval.ms", "500"));
        admin = cluster.admin();
    }

    @AfterAll
    static void stop() throws Exception {
        if (admin != null) {
            admin.close();
        }
        cluster.close();
    }

    private static ConfigResource topic(String name) {
        return new ConfigResource(ConfigResource.Type.TOPIC, name);
    }

    private static Config describe(ConfigResource resource) throws Exception {
        return admin.describeConfigs(List.of(resource), new DescribeConfigsOptions().includeSynonyms(true)
                .includeDocumentation(true)).all().get(30, TimeUnit.SECONDS).get(resource);
    }

    /**
     * The value of a topic config as each node reports it (DescribeConfigs sent raw to every node: the Admin client
     * picks a node itself, and a node applies a metadata change a moment after the one that made it).
     */
    private static List<String> valueOnEveryNode(String topic, String key) throws Exception {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < cluster.size(); i++) {
            try (RawKafkaConnection c = RawKafkaConnection.open(port(i))) {
                RequestHeader header = new RequestHeader(ApiKeys.DESCRIBE_CONFIGS, (short) 4, "raw", 1);
                c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(),
                        new DescribeConfigsRequestData().setResources(List.of(new DescribeConfigsResource()
                                .setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName(topic)
                                .setConfigurationKeys(List.of(key)))), (short) 4));
                DescribeConfigsResponseData data = ((DescribeConfigsResponse) AbstractResponse.parseResponse(
                        c.readFrame(), header)).data();
                values.add(data.results().get(0).configs().get(0).value());
            }
        }
        return values;
    }

    /** Waits until every node reports {@code value} for the topic config. */
    private static void awaitEverywhere(String topic, String key, String value) throws Exception {
        eventually(() -> {
            assertThat(valueOnEveryNode(topic, key)).as("%s of %s on each node", key, topic).containsOnly(value);
            return true;
        });
    }

    private static int port(int node) {
        return Integer.parseInt(cluster.node(node).bootstrap().split(":")[1]);
    }

    private static void alter(ConfigResource resource, boolean validateOnly, AlterConfigOp... ops) throws Exception {
        admin.incrementalAlterConfigs(Map.of(resource, List.of(ops)), new AlterConfigsOptions()
                .validateOnly(validateOnly)).all().get(30, TimeUnit.SECONDS);
    }

    private static AlterConfigOp op(String key, String value, OpType type) {
        return new AlterConfigOp(new ConfigEntry(key, value), type);
    }

    private static void create(String name, Map<String, String> configs) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, 1, (short) 3).configs(configs))).all().get(60, TimeUnit.SECONDS);
    }

    @Test
    void describeReportsSourcesSynonymsAndDocumentation() throws Exception {
        create("described", Map.of("retention.ms", "3600000"));
        awaitEverywhere("described", "retention.ms", "3600000");
        Config config = describe(topic("described"));

        ConfigEntry retention = config.get("retention.ms");
        assertThat(retention.value()).isEqualTo("3600000");
        assertThat(retention.source()).isEqualTo(ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(retention.synonyms()).extracting(s -> s.name() + "=" + s.value() + " " + s.source())
                .containsExactly("retention.ms=3600000 DYNAMIC_TOPIC_CONFIG",
                        "log.retention.ms=604800000 DEFAULT_CONFIG");
        assertThat(retention.type()).isEqualTo(ConfigEntry.ConfigType.LONG);
        assertThat(retention.documentation()).contains("retain a log");
        assertThat(retention.isReadOnly()).isFalse();
        ConfigEntry segmentBytes = config.get("segment.bytes");
        assertThat(segmentBytes.source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
        assertThat(segmentBytes.value()).isEqualTo("1073741824");
        assertThat(config.get("cleanup.policy").value()).isEqualTo("delete");

        Config broker = describe(new ConfigResource(ConfigResource.Type.BROKER, "0"));
        ConfigEntry check = broker.get("log.retention.check.interval.ms");
        assertThat(check.value()).isEqualTo("500");
        assertThat(check.source()).isEqualTo(ConfigSource.STATIC_BROKER_CONFIG);
        assertThat(check.isReadOnly()).isTrue();
        assertThat(broker.get("log.retention.ms").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);

        assertThatThrownBy(() -> describe(topic("no-such-topic")))
                .cause().isInstanceOf(UnknownTopicOrPartitionException.class);
    }

    @Test
    void incrementalAlterConfigsSetsDeletesAndAppendsAndRefusesWhatFluxMqCannotHonour() throws Exception {
        create("altered", Map.of("retention.ms", "3600000", "segment.ms", "86400000"));
        ConfigResource t = topic("altered");

        alter(t, false, op("retention.ms", "7200000", OpType.SET), op("segment.ms", null, OpType.DELETE),
                op("cleanup.policy", "delete", OpType.APPEND));
        awaitEverywhere("altered", "retention.ms", "7200000");
        awaitEverywhere("altered", "segment.ms", "604800000");
        Config after = describe(t);
        assertThat(after.get("retention.ms").value()).isEqualTo("7200000");
        assertThat(after.get("retention.ms").source()).isEqualTo(ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(after.get("segment.ms").value()).isEqualTo("604800000");
        assertThat(after.get("segment.ms").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
        assertThat(after.get("cleanup.policy").source()).isEqualTo(ConfigSource.DYNAMIC_TOPIC_CONFIG);

        alter(t, true, op("retention.ms", "1", OpType.SET));
        assertThat(valueOnEveryNode("altered", "retention.ms")).as("validate_only changes nothing").containsOnly(
                "7200000");

        assertRefused(t, op("retention.ms", "soon", OpType.SET), InvalidConfigurationException.class,
                "Invalid value soon for configuration retention.ms");
        assertRefused(t, op("no.such.config", "1", OpType.SET), InvalidConfigurationException.class,
                "Unknown topic config name: no.such.config");
        assertRefused(t, op("min.cleanable.dirty.ratio", "2", OpType.SET), InvalidConfigurationException.class,
                "min.cleanable.dirty.ratio");
        assertRefused(t, op("cleanup.policy", "compress", OpType.APPEND), InvalidConfigurationException.class,
                "cleanup.policy");
        assertRefused(t, op("retention.ms", "5", OpType.APPEND), InvalidConfigurationException.class, "not LIST");
        assertRefused(t, op("max.message.bytes", "999999999", OpType.SET), InvalidConfigurationException.class,
                "message.max.bytes");
        assertRefused(t, op("message.timestamp.type", "LogAppendTime", OpType.SET),
                InvalidConfigurationException.class, "CreateTime");
        assertRefused(topic("no-such-topic"), op("retention.ms", "1", OpType.SET),
                UnknownTopicOrPartitionException.class, "does not exist");
        assertRefused(new ConfigResource(ConfigResource.Type.BROKER, "0"), op("num.partitions", "1", OpType.SET),
                InvalidRequestException.class, "Cannot update these configs dynamically: [num.partitions]");
        assertRefused(new ConfigResource(ConfigResource.Type.BROKER, "0"), op("log.retention.ms", "1", OpType.SET),
                InvalidConfigurationException.class, "log.retention.ms is a cluster-wide default in FluxMQ");
        assertRefused(new ConfigResource(ConfigResource.Type.BROKER, ""), op("log.retention.ms", "soon",
                OpType.SET), InvalidConfigurationException.class, "log.retention.ms");
        assertThat(valueOnEveryNode("altered", "retention.ms")).as("refused changes change nothing")
                .containsOnly("7200000");
    }

    private static void assertRefused(ConfigResource resource, AlterConfigOp op, Class<? extends Throwable> error,
                                      String message) {
        for (boolean validateOnly : new boolean[] {true, false}) {
            assertThatThrownBy(() -> alter(resource, validateOnly, op)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(error).hasMessageContaining(message);
        }
    }

    @Test
    void legacyAlterConfigsReplacesEveryOverride() throws Exception {
        create("replaced", Map.of("retention.ms", "3600000"));
        try (RawKafkaConnection c = RawKafkaConnection.open(port(0))) {
            awaitEverywhere("replaced", "retention.ms", "3600000");
            AlterConfigsResponseData checked = alterConfigs(c, "replaced", Map.of("segment.ms", "60000"), true);
            assertThat(checked.responses().get(0).errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(valueOnEveryNode("replaced", "segment.ms")).as("validate_only changes nothing")
                    .containsOnly("604800000");

            AlterConfigsResponseData done = alterConfigs(c, "replaced", Map.of("segment.ms", "60000"), false);
            assertThat(done.responses().get(0).errorCode()).isEqualTo(Errors.NONE.code());
            awaitEverywhere("replaced", "segment.ms", "60000");
            awaitEverywhere("replaced", "retention.ms", "604800000");
            Config config = describe(topic("replaced"));
            assertThat(config.get("segment.ms").value()).isEqualTo("60000");
            assertThat(config.get("retention.ms").source()).as("not listed: back to the default")
                    .isEqualTo(ConfigSource.DEFAULT_CONFIG);

            assertThat(alterConfigs(c, "no-such-topic", Map.of("segment.ms", "1"), false).responses().get(0)
                    .errorCode()).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            assertThat(alterConfigs(c, "replaced", Map.of("segment.ms", "-5"), false).responses().get(0)
                    .errorCode()).isEqualTo(Errors.INVALID_CONFIG.code());
        }
    }

    private static AlterConfigsResponseData alterConfigs(RawKafkaConnection c, String topic,
                                                         Map<String, String> configs, boolean validateOnly)
            throws Exception {
        AlterConfigsRequestData.AlterableConfigCollection entries = new AlterConfigsRequestData.AlterableConfigCollection();
        configs.forEach((k, v) -> entries.add(new AlterConfigsRequestData.AlterableConfig().setName(k).setValue(v)));
        AlterConfigsRequestData.AlterConfigsResourceCollection resources =
                new AlterConfigsRequestData.AlterConfigsResourceCollection();
        resources.add(new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName(topic).setConfigs(entries));
        RequestHeader header = new RequestHeader(ApiKeys.ALTER_CONFIGS, (short) 2, "raw", 1);
        c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(),
                new AlterConfigsRequestData().setResources(resources).setValidateOnly(validateOnly), (short) 2));
        return ((AlterConfigsResponse) AbstractResponse.parseResponse(c.readFrame(), header)).data();
    }

    @Test
    void aLoweredRetentionDeletesRecordsOnEveryReplicaWithoutRestart() throws Exception {
        TopicPartition tp = manySegments("shrinking");
        assertThat(earliest(tp)).isZero();

        alter(topic("shrinking"), false, op("retention.ms", "1", OpType.SET));
        awaitRetentionApplied(tp, 200);
    }

    /**
     * Waits until retention moved the log start of {@code tp} (to at most {@code written}, the records produced) and
     * left at most 2 segments on every replica.
     */
    private static void awaitRetentionApplied(TopicPartition tp, long written) throws Exception {
        long start = eventually(() -> {
            long earliest = earliest(tp);
            assertThat(earliest).isPositive();
            return earliest;
        });
        assertThat(start).isLessThanOrEqualTo(written);
        eventually(() -> {
            assertThat(segmentCounts(tp)).as("segments left on each replica").allSatisfy(n -> assertThat(n)
                    .isLessThanOrEqualTo(2));
            return true;
        });
    }

    /** Produces 200 records of 1,000 bytes to a new topic of 16 KiB segments; waits until each replica has 6 or more. */
    private static TopicPartition manySegments(String topic) throws Exception {
        create(topic, Map.of("segment.bytes", "16384"));
        TopicPartition tp = new TopicPartition(topic, 0);
        produce(topic, 200, 1000);
        eventually(() -> { // the third replica may trail the two that acknowledged
            assertThat(segmentCounts(tp)).allSatisfy(n -> assertThat(n).isGreaterThan(5));
            return true;
        });
        return tp;
    }

    /**
     * Dynamic broker configs: Kafka's {@code kafka-configs --entity-type brokers --entity-default} lowers the
     * cluster-wide {@code log.retention.ms}, and a topic without an override of its own deletes its old segments on
     * every replica without a restart; DescribeConfigs reports the value's source on the broker and on the topic; a
     * node's own {@code leader.replication.throttled.rate} is set and deleted; the default is deleted again at the end.
     */
    @Test
    void aLoweredClusterDefaultRetentionDeletesRecordsWithoutRestart() throws Exception {
        TopicPartition tp = manySegments("defaulted");
        assertThat(earliest(tp)).isZero();
        String bootstrap = cluster.bootstrap();
        ConfigResource defaultBroker = new ConfigResource(ConfigResource.Type.BROKER, "");
        try {
            String altered = KafkaTools.kafkaConfigs("--bootstrap-server", bootstrap, "--entity-type", "brokers",
                    "--entity-default", "--alter", "--add-config", "log.retention.ms=1");
            assertThat(altered).contains("Completed updating default config for brokers in the cluster.");
            awaitRetentionApplied(tp, 200);
            ConfigEntry onDefault = describe(defaultBroker).get("log.retention.ms");
            assertThat(onDefault.value()).isEqualTo("1");
            assertThat(onDefault.source()).isEqualTo(ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
            ConfigEntry onBroker = describe(new ConfigResource(ConfigResource.Type.BROKER, "1"))
                    .get("log.retention.ms");
            assertThat(onBroker.source()).isEqualTo(ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
            assertThat(onBroker.isReadOnly()).isFalse();
            assertThat(onBroker.synonyms().stream().map(ConfigEntry.ConfigSynonym::source)).containsExactly(
                    ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, ConfigSource.DEFAULT_CONFIG);
            awaitEverywhere("defaulted", "retention.ms", "1");
            ConfigEntry onTopic = describe(topic("defaulted")).get("retention.ms");
            assertThat(onTopic.source()).isEqualTo(ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
            assertThat(onTopic.synonyms().get(0).name()).isEqualTo("log.retention.ms");
            assertThat(KafkaTools.kafkaConfigs("--bootstrap-server", bootstrap, "--entity-type", "brokers",
                    "--entity-default", "--describe")).contains("log.retention.ms=1");

            ConfigResource broker0 = new ConfigResource(ConfigResource.Type.BROKER, "0");
            alter(broker0, false, op("leader.replication.throttled.rate", "1048576", OpType.SET));
            ConfigEntry throttle = describe(broker0).get("leader.replication.throttled.rate");
            assertThat(throttle.value()).isEqualTo("1048576");
            assertThat(throttle.source()).isEqualTo(ConfigSource.DYNAMIC_BROKER_CONFIG);
            alter(broker0, false, op("leader.replication.throttled.rate", null, OpType.DELETE));
            assertThat(describe(broker0).get("leader.replication.throttled.rate").source())
                    .isEqualTo(ConfigSource.DEFAULT_CONFIG);
        } finally {
            alter(defaultBroker, false, op("log.retention.ms", null, OpType.DELETE));
        }
        eventually(() -> { // the node asked may apply the deletion a moment after the one that made it
            assertThat(describe(defaultBroker).entries()).isEmpty();
            return true;
        });
        awaitEverywhere("defaulted", "retention.ms", "604800000");
    }

    @Test
    void aLoweredSegmentBytesRollsSegmentsOnEveryReplicaWithoutRestart() throws Exception {
        create("rolling", Map.of());
        TopicPartition tp = new TopicPartition("rolling", 0);
        produce("rolling", 20, 1000);
        assertThat(segmentCounts(tp)).containsOnly(1L);

        alter(topic("rolling"), false, op("segment.bytes", "16384", OpType.SET),
                op("max.message.bytes", "16384", OpType.SET));
        eventually(() -> {
            produce("rolling", 40, 1000);
            assertThat(segmentCounts(tp)).as("segments on each replica").allSatisfy(n -> assertThat(n)
                    .isGreaterThanOrEqualTo(3));
            return true;
        });
        assertRefused(topic("rolling"), op("segment.bytes", "8192", OpType.SET), InvalidConfigurationException.class,
                "segment.bytes=8192 is below max.message.bytes=16384");
    }

    private static void produce(String topic, int records, int valueBytes) throws Exception {
        String value = "x".repeat(valueBytes);
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of())) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, value));
            }
            producer.flush();
            producer.send(new ProducerRecord<>(topic, 0, null, value)).get(30, TimeUnit.SECONDS);
        }
    }

    private static long earliest(TopicPartition tp) throws Exception {
        return admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get(30, TimeUnit.SECONDS)
                .offset();
    }

    /** The number of .log segment files of {@code tp} in each node's data directory. */
    private static List<Long> segmentCounts(TopicPartition tp) throws IOException {
        List<Long> counts = new ArrayList<>();
        for (int i = 0; i < cluster.size(); i++) {
            Path partitionDir = PartitionDirs.of(cluster.node(i).dataDir(), tp.topic(), tp.partition());
            try (Stream<Path> files = Files.list(partitionDir)) {
                counts.add(files.filter(f -> f.toString().endsWith(".log")).count());
            }
        }
        return counts;
    }

    /** Retries {@code check} (assertions included) until it passes, for at most {@link #WAIT}. */
    static <T> T eventually(Callable<T> check) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                return check.call();
            } catch (Exception | AssertionError e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }
}
