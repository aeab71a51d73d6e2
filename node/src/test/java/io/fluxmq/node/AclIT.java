package io.fluxmq.node;

import static io.fluxmq.node.DynamicConfigsIT.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's ACLs on a three-process cluster with the real Admin, producer and consumer, as User:ANONYMOUS (PLAINTEXT):
 * the cluster starts with {@code super.users=User:ANONYMOUS} only to grant ANONYMOUS the ACL administration (ALTER and
 * DESCRIBE on the cluster), then every node restarts without super users, so ANONYMOUS is a plain user with no topic
 * or group ACL. Produce, consume in a group and topic creation are refused with Kafka's exceptions; after
 * {@code Admin.createAcls} (literal and prefixed) they succeed; {@code describeAcls} returns exactly the ACLs; after
 * {@code deleteAcls} access is refused again; ACLs survive restarts; Kafka's {@code kafka-acls} tool adds and lists one.
 * A transactional producer is refused without WRITE on its transactional id, and refused sending offsets for a group
 * it may not READ; with both it commits.
 */
class AclIT {
    private static final String ANONYMOUS = "User:ANONYMOUS";
    private static final String TOPIC = "acl-orders";
    private static final String GROUP = "acl-group";
    private static final int RECORDS = 10;
    private static final String TRANSACTIONAL_ID = "acl-txn";

    private static AclBinding allow(ResourceType type, String name, PatternType pattern, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(ANONYMOUS, "*", op, AclPermissionType.ALLOW));
    }

    private static final List<AclBinding> ADMIN = List.of(
            allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, AclOperation.ALTER),
            allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, AclOperation.DESCRIBE));
    private static final List<AclBinding> ACCESS = List.of(
            allow(ResourceType.TOPIC, TOPIC, PatternType.LITERAL, AclOperation.CREATE),
            allow(ResourceType.TOPIC, "acl-", PatternType.PREFIXED, AclOperation.WRITE),
            allow(ResourceType.TOPIC, "acl-", PatternType.PREFIXED, AclOperation.READ),
            allow(ResourceType.GROUP, GROUP, PatternType.LITERAL, AclOperation.READ));
    private static final AclBindingFilter TOPICS_AND_GROUPS_OF_ANONYMOUS = new AclBindingFilter(
            ResourcePatternFilter.ANY, new AccessControlEntryFilter(ANONYMOUS, null, AclOperation.ANY,
            AclPermissionType.ANY));

    @Test
    void aclsRefuseAllowAndRefuseAgainAndSurviveRestarts(@TempDir Path dir) throws Exception {
        Map<String, String> settings = Map.of("authorizer.class.name",
                "org.apache.kafka.metadata.authorizer.StandardAuthorizer", "super.users", ANONYMOUS,
                "allow.everyone.if.no.acl.found", "false");
        try (TestCluster cluster = TestCluster.start(3, dir, settings)) {
            try (Admin admin = cluster.admin()) {
                admin.createAcls(ADMIN).all().get(30, TimeUnit.SECONDS);
            }
            for (int i = 0; i < cluster.size(); i++) { // rolling restart without super users
                cluster.node(i).stop();
                cluster.node(i).set("super.users", "");
                cluster.restart(i);
            }
            eventually(() -> {
                try (Admin admin = cluster.admin()) {
                    assertThat(admin.describeAcls(AclBindingFilter.ANY).values().get(10, TimeUnit.SECONDS))
                            .as("the ACLs survived the restarts").containsExactlyInAnyOrderElementsOf(ADMIN);
                }
                return null;
            });

            try (Admin admin = cluster.admin()) {
                assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 3))).all()
                        .get(30, TimeUnit.SECONDS)).cause().isInstanceOf(TopicAuthorizationException.class);
            }
            assertProduceRefused(cluster.bootstrap());
            // as Kafka: the consumer's metadata request for the topic is refused first
            assertGroupConsumeRefused(cluster.bootstrap(), TopicAuthorizationException.class);

            try (Admin admin = cluster.admin()) {
                admin.createAcls(ACCESS.subList(0, 3)).all().get(30, TimeUnit.SECONDS); // the topic ACLs
            }
            eventually(() -> {
                assertGroupConsumeRefused(cluster.bootstrap(), GroupAuthorizationException.class);
                return null;
            });
            try (Admin admin = cluster.admin()) {
                admin.createAcls(ACCESS.subList(3, 4)).all().get(30, TimeUnit.SECONDS); // and the group's
                assertThat(admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS))
                        .containsExactlyInAnyOrderElementsOf(concat(ADMIN, ACCESS));
                assertThat(admin.describeAcls(new AclBindingFilter(new ResourcePatternFilter(ResourceType.TOPIC,
                        TOPIC, PatternType.MATCH), AccessControlEntryFilter.ANY)).values().get(30, TimeUnit.SECONDS))
                        .as("MATCH: the literal and the prefixed ACLs that apply to the topic")
                        .containsExactlyInAnyOrderElementsOf(ACCESS.subList(0, 3));
                // retried while the node that answers has not applied the CREATE ACL yet, and only then: any other
                // failure is the test's (a CI run retried everything and ended on "already exists", hiding the first)
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (true) {
                    try {
                        admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 3))).all().get(60, TimeUnit.SECONDS);
                        break;
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof TopicAuthorizationException) || System.nanoTime() > deadline) {
                            throw e;
                        }
                        Thread.sleep(200);
                    }
                }
            }
            eventually(() -> {
                produce(cluster.bootstrap(), Map.of()); // the default (idempotent) producer: WRITE on a topic
                return null;
            });
            assertThat(consumeInGroup(cluster.bootstrap())).hasSizeGreaterThanOrEqualTo(RECORDS);
            assertTransactionsNeedTheirAcls(cluster);

            assertThat(kafkaAcls(cluster.bootstrap(), "--add", "--allow-principal", ANONYMOUS, "--operation",
                    "Describe", "--topic", "acl-tool")).contains("acl-tool");
            assertThat(kafkaAcls(cluster.bootstrap(), "--list", "--topic", "acl-tool"))
                    .contains("principal=User:ANONYMOUS").contains("operation=DESCRIBE")
                    .contains("permissionType=ALLOW");
            AclBinding tool = allow(ResourceType.TOPIC, "acl-tool", PatternType.LITERAL, AclOperation.DESCRIBE);

            try (Admin admin = cluster.admin()) {
                List<AclBindingFilter> filters = new ArrayList<>();
                for (AclBinding b : ACCESS) {
                    filters.add(b.toFilter());
                }
                assertThat(admin.deleteAcls(filters).all().get(30, TimeUnit.SECONDS))
                        .containsExactlyInAnyOrderElementsOf(ACCESS);
                assertThat(admin.describeAcls(TOPICS_AND_GROUPS_OF_ANONYMOUS).values().get(30, TimeUnit.SECONDS))
                        .containsExactlyInAnyOrderElementsOf(concat(ADMIN, List.of(tool)));
            }
            eventually(() -> {
                assertProduceRefused(cluster.bootstrap());
                assertGroupConsumeRefused(cluster.bootstrap(), TopicAuthorizationException.class);
                return null;
            });

            cluster.node(0).stop();
            cluster.restart(0);
            eventually(() -> {
                try (Admin admin = cluster.admin()) {
                    assertThat(admin.describeAcls(AclBindingFilter.ANY).values().get(10, TimeUnit.SECONDS))
                            .containsExactlyInAnyOrderElementsOf(concat(ADMIN, List.of(tool)));
                }
                return null;
            });
        }
    }

    /**
     * Without WRITE on its transactional id a producer cannot start (InitProducerId); with it, AddOffsetsToTxn for a
     * group without READ is refused and the transaction aborted; with READ on the group the records and the group's
     * offset commit together. The transactional id's ACL is deleted again afterwards.
     */
    private static void assertTransactionsNeedTheirAcls(TestCluster cluster) throws Exception {
        Map<String, Object> transactional = Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TRANSACTIONAL_ID,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), transactional)) {
            assertThat(causes(catchThrowable(producer::initTransactions)))
                    .hasAtLeastOneElementOfType(TransactionalIdAuthorizationException.class);
        }
        AclBinding write = allow(ResourceType.TRANSACTIONAL_ID, TRANSACTIONAL_ID, PatternType.LITERAL,
                AclOperation.WRITE);
        try (Admin admin = cluster.admin()) {
            admin.createAcls(List.of(write)).all().get(30, TimeUnit.SECONDS);
        }
        TopicPartition partition = new TopicPartition(TOPIC, 0);
        Map<TopicPartition, OffsetAndMetadata> offsets = Map.of(partition, new OffsetAndMetadata(1_000));
        eventually(() -> {
            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), transactional)) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, 0, "k", "refused"));
                assertThat(causes(catchThrowable(() -> producer.sendOffsetsToTransaction(offsets,
                        new ConsumerGroupMetadata("acl-unreadable-group")))))
                        .hasAtLeastOneElementOfType(GroupAuthorizationException.class);
                producer.abortTransaction();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, 0, "k", "committed"));
                producer.sendOffsetsToTransaction(offsets, new ConsumerGroupMetadata(GROUP));
                producer.commitTransaction();
            }
            return null;
        });
        try (Admin admin = cluster.admin()) {
            eventually(() -> {
                assertThat(admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata()
                        .get(30, TimeUnit.SECONDS).get(partition).offset()).as("the transaction's offset took effect")
                        .isEqualTo(1_000L);
                return null;
            });
            admin.deleteAcls(List.of(write.toFilter())).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static List<Throwable> causes(Throwable thrown) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = thrown; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    private static List<AclBinding> concat(List<AclBinding> a, List<AclBinding> b) {
        List<AclBinding> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static void produce(String bootstrap, Map<String, Object> overrides) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, overrides)) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(TOPIC, "k" + i, "v" + i)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Without idempotence (whose InitProducerId would fail first, with CLUSTER_AUTHORIZATION_FAILED, as in Kafka). */
    private static void assertProduceRefused(String bootstrap) {
        assertThatThrownBy(() -> produce(bootstrap, Map.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000)))
                .hasRootCauseInstanceOf(TopicAuthorizationException.class);
    }

    private static KafkaConsumer<String, String> groupConsumer(String bootstrap) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    }

    private static void assertGroupConsumeRefused(String bootstrap, Class<? extends Exception> refusal) {
        try (KafkaConsumer<String, String> consumer = groupConsumer(bootstrap)) {
            consumer.subscribe(List.of(TOPIC));
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100; i++) {
                    consumer.poll(Duration.ofMillis(200));
                }
            }).isInstanceOf(refusal);
        }
    }

    private static List<ConsumerRecord<String, String>> consumeInGroup(String bootstrap) {
        List<ConsumerRecord<String, String>> read = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = groupConsumer(bootstrap)) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (read.size() < RECORDS && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(read::add);
            }
            consumer.commitSync(Duration.ofSeconds(30));
        }
        return read;
    }

    /** Kafka's {@code kafka-acls.sh} (AclCommand from kafka-tools 4.1.1) in its own JVM; returns what it printed. */
    private static String kafkaAcls(String bootstrap, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.apache.kafka.tools.AclCommand",
                "--bootstrap-server", bootstrap));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String printed = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(printed).isZero();
        return printed;
    }

}
