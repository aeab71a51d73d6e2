package io.fluxmq.node;

import static io.fluxmq.node.DynamicConfigsIT.eventually;
import static io.fluxmq.node.KafkaTools.kafkaConfigs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterUserScramCredentialsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.UnacceptableCredentialException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SCRAM credentials in cluster metadata on a three-process cluster with SASL_PLAINTEXT listeners and ACLs on, driven by
 * the real Admin client and Kafka's {@code kafka-configs} tool. {@code User:admin} (a PLAIN user of the node setting,
 * super user) upserts a credential for a new user through one node; a SCRAM-SHA-512 producer as that user succeeds
 * through another node; a wrong password fails with {@link SaslAuthenticationException}; describe lists exactly the
 * mechanism and iterations; Kafka's validation errors arrive as Kafka's exceptions; a user without cluster ACLs is
 * refused; a metadata credential wins over the node setting's user of the same name; after a deletion a new login
 * fails; {@code kafka-configs --alter --add-config 'SCRAM-SHA-512=[...]'} and {@code --describe --entity-type users}
 * work.
 */
class ScramCredentialsIT {
    private static final String TOPIC = "scram-orders";
    private static final String SHA512 = "SCRAM-SHA-512";

    private TestCluster cluster;
    private final List<String> nodeAddresses = new ArrayList<>();

    @Test
    void credentialsInMetadataAuthenticateOnEveryNode(@TempDir Path dir) throws Exception {
        int[] kafka = new int[3];
        for (int i = 0; i < kafka.length; i++) {
            kafka[i] = TestNode.freePort();
        }
        for (int port : kafka) {
            nodeAddresses.add("127.0.0.1:" + port);
        }
        Map<String, String> settings = new HashMap<>();
        settings.put("sasl.enabled.mechanisms", "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN");
        settings.put("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required user_admin=\"admin-secret\";");
        settings.put("listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required user_bob=\"bob-node-secret\";");
        settings.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        settings.put("super.users", "User:admin");
        settings.put("allow.everyone.if.no.acl.found", "true"); // topics have no ACLs; the cluster gets some below
        try (TestCluster c = TestCluster.start(dir, settings, kafka,
                i -> Map.of("listeners", "SASL_PLAINTEXT://127.0.0.1:" + kafka[i]))) {
            cluster = c;
            int through;
            try (Admin admin = admin(cluster.bootstrap(), "PLAIN", "admin", "admin-secret")) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 3))).all().get(60, TimeUnit.SECONDS);
                // with an ACL on the cluster, allow.everyone.if.no.acl.found no longer opens it to alice
                admin.createAcls(List.of(adminAcl(AclOperation.ALTER), adminAcl(AclOperation.DESCRIBE))).all()
                        .get(30, TimeUnit.SECONDS);
                assertLoginRefused(nodeAddresses.get(0), "alice", "alice-secret");

                AlterUserScramCredentialsResult upsert = admin.alterUserScramCredentials(List.of(
                        new UserScramCredentialUpsertion("alice", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512,
                                8192), "alice-secret")));
                upsert.all().get(30, TimeUnit.SECONDS);
                through = admin.describeCluster().controller().get(30, TimeUnit.SECONDS).id();
            }
            String another = nodeAddresses.get((through + 1) % 3);
            eventually(() -> {
                produce(another, "alice", "alice-secret"); // another node than the one that took the change
                return null;
            });
            produce(cluster.bootstrap(), "alice", "alice-secret");
            assertLoginRefused(another, "alice", "alice-wrong");

            try (Admin admin = admin(cluster.bootstrap(), "PLAIN", "admin", "admin-secret")) {
                Map<String, UserScramCredentialsDescription> described = admin.describeUserScramCredentials().all()
                        .get(30, TimeUnit.SECONDS);
                assertThat(described).containsOnlyKeys("alice");
                assertThat(described.get("alice").credentialInfos())
                        .containsExactly(new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192));
                assertKafkaValidation(admin);
            }

            try (Admin alice = admin(cluster.bootstrap(), SHA512, "alice", "alice-secret")) {
                assertThatThrownBy(() -> alice.alterUserScramCredentials(List.of(new UserScramCredentialDeletion(
                        "alice", ScramMechanism.SCRAM_SHA_512))).all().get(30, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(ClusterAuthorizationException.class);
                assertThatThrownBy(() -> alice.describeUserScramCredentials().all().get(30, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(ClusterAuthorizationException.class);
            }

            assertMetadataWinsOverTheNodeSetting();

            try (Admin admin = admin(cluster.bootstrap(), "PLAIN", "admin", "admin-secret")) {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion("alice",
                        ScramMechanism.SCRAM_SHA_512))).all().get(30, TimeUnit.SECONDS);
                assertThat(admin.describeUserScramCredentials().all().get(30, TimeUnit.SECONDS)).isEmpty();
            }
            for (String node : nodeAddresses) {
                eventually(() -> {
                    assertLoginRefused(node, "alice", "alice-secret");
                    return null;
                });
            }

            Path adminConfig = dir.resolve("admin.properties");
            Files.writeString(adminConfig, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
                    + "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
                    + "username=\"admin\" password=\"admin-secret\";\n");
            String added = kafkaConfigs("--bootstrap-server", cluster.bootstrap(), "--command-config",
                    adminConfig.toString(), "--alter", "--add-config",
                    "SCRAM-SHA-512=[iterations=8192,password=frank-secret]", "--entity-type", "users",
                    "--entity-name", "frank");
            assertThat(added).contains("Completed updating config for user frank.");
            String listed = kafkaConfigs("--bootstrap-server", cluster.bootstrap(), "--command-config",
                    adminConfig.toString(), "--describe", "--entity-type", "users");
            assertThat(listed).contains("SCRAM credential configs for user-principal 'frank' are "
                    + "SCRAM-SHA-512=iterations=8192");
            eventually(() -> {
                produce(nodeAddresses.get(2), "frank", "frank-secret");
                return null;
            });
        }
    }

    /** Kafka's checks, through the real Admin (which checks empty names and unknown mechanisms itself). */
    private static void assertKafkaValidation(Admin admin) {
        AlterUserScramCredentialsResult r = admin.alterUserScramCredentials(List.of(
                new UserScramCredentialUpsertion("carol", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4095),
                        "carol-secret"),
                new UserScramCredentialUpsertion("dave", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 16385),
                        "dave-secret"),
                new UserScramCredentialDeletion("erin", ScramMechanism.SCRAM_SHA_256),
                new UserScramCredentialUpsertion("gina", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096),
                        "gina-secret"),
                new UserScramCredentialDeletion("gina", ScramMechanism.SCRAM_SHA_512)));
        assertFailsWith(r, "carol", UnacceptableCredentialException.class, "Too few iterations");
        assertFailsWith(r, "dave", UnacceptableCredentialException.class, "Too many iterations");
        assertFailsWith(r, "erin", ResourceNotFoundException.class,
                "Attempt to delete a user credential that does not exist");
        assertFailsWith(r, "gina", DuplicateResourceException.class,
                "A user credential cannot be altered twice in the same request");
    }

    private static void assertFailsWith(AlterUserScramCredentialsResult r, String user,
                                        Class<? extends Exception> type, String message) {
        assertThatThrownBy(() -> r.values().get(user).get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(type).hasMessage(message);
    }

    /** bob is a node-setting SCRAM user; a credential for him in metadata replaces that one until it is deleted. */
    private void assertMetadataWinsOverTheNodeSetting() throws Exception {
        String node = nodeAddresses.get(1);
        assertLoginWorks(node, "bob", "bob-node-secret");
        try (Admin admin = admin(cluster.bootstrap(), "PLAIN", "admin", "admin-secret")) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("bob",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "bob-meta-secret"))).all()
                    .get(30, TimeUnit.SECONDS);
        }
        eventually(() -> {
            assertLoginWorks(node, "bob", "bob-meta-secret");
            return null;
        });
        assertLoginRefused(node, "bob", "bob-node-secret");
        try (Admin admin = admin(cluster.bootstrap(), "PLAIN", "admin", "admin-secret")) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion("bob",
                    ScramMechanism.SCRAM_SHA_512))).all().get(30, TimeUnit.SECONDS);
        }
        eventually(() -> {
            assertLoginWorks(node, "bob", "bob-node-secret");
            return null;
        });
    }

    private static AclBinding adminAcl(AclOperation op) {
        return new AclBinding(new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL),
                new AccessControlEntry("User:admin", "*", op, AclPermissionType.ALLOW));
    }

    private static Map<String, Object> sasl(String bootstrap, String mechanism, String user, String password) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        p.put(SaslConfigs.SASL_MECHANISM, mechanism);
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        p.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\"" + user + "\" password=\"" + password
                + "\";");
        return p;
    }

    private static Admin admin(String bootstrap, String mechanism, String user, String password) {
        Map<String, Object> p = sasl(bootstrap, mechanism, user, password);
        p.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        return Admin.create(p);
    }

    /** A SCRAM-SHA-512 login at one node: an Admin bootstrapped there alone describes the cluster. */
    private static void assertLoginWorks(String node, String user, String password) throws Exception {
        try (Admin admin = admin(node, SHA512, user, password)) {
            assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(3);
        }
    }

    private static void assertLoginRefused(String node, String user, String password) {
        try (Admin admin = admin(node, SHA512, user, password)) {
            assertThatThrownBy(() -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SaslAuthenticationException.class);
        }
    }

    /** Ten records with acks=all through a SCRAM-SHA-512 producer bootstrapped at {@code bootstrap}. */
    private static void produce(String bootstrap, String user, String password) throws Exception {
        Map<String, Object> p = sasl(bootstrap, SHA512, user, password);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false); // IDEMPOTENT_WRITE on the cluster is not granted
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(TOPIC, "k" + i, user + i)).get(30, TimeUnit.SECONDS);
            }
        }
    }
}
