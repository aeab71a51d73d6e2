package io.fluxmq.node;

import static io.fluxmq.node.DynamicConfigsIT.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Re-authentication (KIP-368) with the real Java producer, on a one-node cluster whose SASL_PLAINTEXT listener sets
 * {@code listener.name.sasl_plaintext.scram-sha-512.connections.max.reauth.ms=2000} (PLAIN, the admin's mechanism,
 * keeps sessions without a lifetime). A SCRAM-SHA-512 producer keeps writing across at least three re-authentications
 * without opening a connection more; once its user's credential is deleted, its next re-authentication is refused
 * (the producer's {@code failed-reauthentication-total}) and a new producer's login fails with
 * {@link SaslAuthenticationException}.
 */
class ReauthenticationIT {
    private static final String TOPIC = "reauth-orders";
    private static final String SHA512 = "SCRAM-SHA-512";
    private static final long REAUTH_MS = 2_000;

    @Test
    void aProducerReauthenticatesOnItsConnectionsUntilItsCredentialIsDeleted(@TempDir Path dir) throws Exception {
        int[] kafka = {TestNode.freePort()};
        Map<String, String> settings = new HashMap<>();
        settings.put("sasl.enabled.mechanisms", "SCRAM-SHA-512,PLAIN");
        settings.put("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required user_admin=\"admin-secret\";");
        settings.put("listener.name.sasl_plaintext.scram-sha-512.connections.max.reauth.ms",
                Long.toString(REAUTH_MS));
        try (TestCluster cluster = TestCluster.start(dir, settings, kafka,
                i -> Map.of("listeners", "SASL_PLAINTEXT://127.0.0.1:" + kafka[i]));
             Admin admin = Admin.create(sasl(cluster.bootstrap(), "PLAIN", "admin", "admin-secret"))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("alice",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "alice-secret"))).all()
                    .get(30, TimeUnit.SECONDS);

            Map<String, Object> p = sasl(cluster.bootstrap(), SHA512, "alice", "alice-secret");
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                    new StringSerializer())) {
                eventually(() -> producer.send(new ProducerRecord<>(TOPIC, "k", "first")).get(30, TimeUnit.SECONDS));
                double connections = metric(producer, "connection-creation-total");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                int sent = 1;
                while (metric(producer, "successful-reauthentication-total") < 3 && System.nanoTime() < deadline) {
                    producer.send(new ProducerRecord<>(TOPIC, "k", "v" + sent++)).get(30, TimeUnit.SECONDS);
                }
                assertThat(metric(producer, "successful-reauthentication-total"))
                        .as("re-authenticated while %d records went through", sent).isGreaterThanOrEqualTo(3);
                assertThat(metric(producer, "failed-reauthentication-total")).isZero();
                assertThat(metric(producer, "connection-creation-total")).as("the same connections throughout")
                        .isEqualTo(connections);

                admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion("alice",
                        ScramMechanism.SCRAM_SHA_512))).all().get(30, TimeUnit.SECONDS);
                // the producer keeps its cached metadata, so its sends wait (as with Kafka, until
                // delivery.timeout.ms) while every login is refused; what matters here is the refused re-authentication
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (metric(producer, "failed-reauthentication-total") < 1 && System.nanoTime() < deadline) {
                    try {
                        producer.send(new ProducerRecord<>(TOPIC, "k", "after")).get(1, TimeUnit.SECONDS);
                    } catch (TimeoutException | ExecutionException e) {
                        // refused or waiting: the metric says which
                    }
                }
                assertThat(metric(producer, "failed-reauthentication-total"))
                        .as("refused at its next re-authentication").isGreaterThanOrEqualTo(1);
                producer.close(Duration.ZERO); // its waiting records cannot be delivered any more
            }
            try (KafkaProducer<String, String> fresh = new KafkaProducer<>(sasl(cluster.bootstrap(), SHA512, "alice",
                    "alice-secret"), new StringSerializer(), new StringSerializer())) {
                Throwable refused = catchThrowable(() -> fresh.send(new ProducerRecord<>(TOPIC, "k", "new"))
                        .get(30, TimeUnit.SECONDS));
                List<Throwable> causes = new ArrayList<>();
                for (Throwable t = refused; t != null; t = t.getCause()) {
                    causes.add(t);
                }
                assertThat(causes).as("and a new login too").hasAtLeastOneElementOfType(
                        SaslAuthenticationException.class);
            }
        }
    }

    private static double metric(KafkaProducer<?, ?> producer, String name) {
        for (Map.Entry<MetricName, ? extends Metric> e : producer.metrics().entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().equals("producer-metrics")) {
                return ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        throw new AssertionError("no producer metric " + name);
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
}
