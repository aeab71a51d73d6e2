package io.fluxmq.kafka.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.Test;

/**
 * Kafka's quota precedence (most specific entity first, default entities per user or client id) and its throttle time
 * over a windowed rate, with time passed in. Kafka's default windows: 11 samples of 1 s, so a fresh rate divides by at
 * least 10 s and a bound of B bytes/s admits 10·B bytes at once.
 */
class ClientQuotaManagerTest {
    private static final long T0 = 1_700_000_000_000L;
    private final ClientQuotaManager manager = new ClientQuotaManager(ClientQuotaConfig.DEFAULTS, Time.SYSTEM);
    private final Map<ClientQuotaEntity, Map<String, Double>> quotas = new HashMap<>();

    private void quota(String user, String clientId, String key, double value) {
        Map<String, String> entity = new HashMap<>();
        if (user != null) {
            entity.put(ClientQuotaEntity.USER, user.equals("<default>") ? null : user);
        }
        if (clientId != null) {
            entity.put(ClientQuotaEntity.CLIENT_ID, clientId.equals("<default>") ? null : clientId);
        }
        quotas.put(new ClientQuotaEntity(entity), Map.of(key, value));
        manager.update(Map.copyOf(quotas));
    }

    private int produce(String user, String clientId, double bytes) {
        return manager.recordAndGetThrottleTimeMs(QuotaType.PRODUCE, new KafkaPrincipal("User", user), clientId,
                bytes, T0);
    }

    @Test
    void withoutQuotasNothingIsThrottled() {
        assertThat(manager.enabled(QuotaType.PRODUCE)).isFalse();
        assertThat(produce("alice", "app", 1e12)).isZero();
        quota(null, "other", "consumer_byte_rate", 1);
        assertThat(manager.enabled(QuotaType.PRODUCE)).isFalse();
        assertThat(manager.enabled(QuotaType.FETCH)).isTrue();
        assertThat(produce("alice", "app", 1e12)).isZero();
        assertThat(manager.maxValueInQuotaWindow(QuotaType.PRODUCE, new KafkaPrincipal("User", "a"), "app"))
                .isEqualTo(Double.MAX_VALUE);
    }

    @Test
    void throttleTimeIsKafkasOverTheWindow() {
        quota(null, "app", "producer_byte_rate", 1000);
        assertThat(produce("ANONYMOUS", "app", 10_000)).isZero(); // 10,000 B over the 10 s minimum window: at bound
        // 30,000 B over 10 s = 3,000 B/s: (3,000 - 1,000) / 1,000 * 10 s
        assertThat(produce("ANONYMOUS", "app", 20_000)).isEqualTo(20_000);
        assertThat(manager.maxValueInQuotaWindow(QuotaType.PRODUCE, new KafkaPrincipal("User", "ANONYMOUS"), "app"))
                .isEqualTo(10_000.0);
        // later samples: 11 s on, the first window has left the rate
        assertThat(manager.recordAndGetThrottleTimeMs(QuotaType.PRODUCE, new KafkaPrincipal("User", "ANONYMOUS"),
                "app", 5_000, T0 + 11_500)).isZero();
    }

    @Test
    void aDefaultClientIdBoundsEachClientOnItsOwn() {
        quota(null, "<default>", "producer_byte_rate", 1000);
        assertThat(produce("ANONYMOUS", "a", 10_000)).isZero();
        assertThat(produce("ANONYMOUS", "a", 1_000)).isPositive();
        assertThat(produce("ANONYMOUS", "b", 10_000)).isZero();
    }

    @Test
    void aUserQuotaIsSharedByTheUsersClientIds() {
        quota("alice", null, "producer_byte_rate", 1000);
        assertThat(produce("alice", "a", 10_000)).isZero();
        assertThat(produce("alice", "b", 1_000)).isPositive();
        assertThat(produce("bob", "a", 1e9)).isZero(); // bob has no quota
    }

    @Test
    void theMostSpecificEntityWinsInKafkasOrder() {
        quota(null, "<default>", "producer_byte_rate", 1);           // 8) clients/<default>
        quota(null, "app", "producer_byte_rate", 2);                 // 7) clients/app
        quota("<default>", null, "producer_byte_rate", 3);           // 6) users/<default>
        quota("<default>", "<default>", "producer_byte_rate", 4);    // 5) users/<default>/clients/<default>
        quota("<default>", "app", "producer_byte_rate", 5);          // 4) users/<default>/clients/app
        quota("alice", null, "producer_byte_rate", 6);               // 3) users/alice
        quota("alice", "<default>", "producer_byte_rate", 7);        // 2) users/alice/clients/<default>
        quota("alice", "app", "producer_byte_rate", 8);              // 1) users/alice/clients/app
        assertThat(boundOf("alice", "app")).isEqualTo(8);
        assertThat(boundOf("alice", "other")).isEqualTo(7);
        assertThat(boundOf("bob", "app")).isEqualTo(5);
        assertThat(boundOf("bob", "other")).isEqualTo(4);
        quotas.remove(new ClientQuotaEntity(withDefaults(true, true)));
        manager.update(Map.copyOf(quotas));
        assertThat(boundOf("bob", "other")).isEqualTo(3);
        quotas.remove(new ClientQuotaEntity(withDefaults(true, false)));
        manager.update(Map.copyOf(quotas));
        assertThat(boundOf("bob", "app")).isEqualTo(5);
        assertThat(boundOf("bob", "other")).isEqualTo(1); // clients/<default>
        assertThat(boundOf("alice", "x")).isEqualTo(7);
    }

    private static Map<String, String> withDefaults(boolean user, boolean client) {
        Map<String, String> m = new HashMap<>();
        if (user) {
            m.put(ClientQuotaEntity.USER, null);
        }
        if (client) {
            m.put(ClientQuotaEntity.CLIENT_ID, null);
        }
        return m;
    }

    /** The bound that applies, read back through the largest value a request may take: bound × 10 s. */
    private double boundOf(String user, String clientId) {
        return manager.maxValueInQuotaWindow(QuotaType.PRODUCE, new KafkaPrincipal("User", user), clientId) / 10;
    }

    @Test
    void anUpdateWithTheSameMapChangesNothingAndIpEntitiesBoundOnlyConnections() {
        Map<ClientQuotaEntity, Map<String, Double>> ip = Map.of(new ClientQuotaEntity(Map.of("ip", "10.0.0.1")),
                Map.of("connection_creation_rate", 5.0));
        manager.update(ip);
        assertThat(manager.enabled(QuotaType.PRODUCE)).isFalse();
        assertThat(manager.limitsConnections()).isTrue();
        manager.update(ip);
        assertThat(produce("ANONYMOUS", "app", 1e12)).isZero();
    }

    @Test
    void connectionsFromAnAddressOverItsRateAreThrottled() throws Exception {
        java.net.InetAddress limited = java.net.InetAddress.getByName("::1");
        java.net.InetAddress other = java.net.InetAddress.getByName("10.0.0.2");
        assertThat(manager.recordConnection(limited, T0)).as("no quota").isZero();
        Map<String, String> defaultIp = new HashMap<>();
        defaultIp.put(ClientQuotaEntity.IP, null);
        manager.update(Map.of(new ClientQuotaEntity(Map.of(ClientQuotaEntity.IP, "::1")),
                Map.of("connection_creation_rate", 2.0), new ClientQuotaEntity(defaultIp),
                Map.of("connection_creation_rate", 100.0)));
        // the entity "::1" is the address 0:0:0:0:0:0:0:1; 2/s over at least 10 s of Kafka's default windows: 20
        // connections at once pass
        for (int i = 0; i < 20; i++) {
            assertThat(manager.recordConnection(limited, T0)).as("connection %d", i + 1).isZero();
        }
        // the 21st: 21 over 10 s = 2.1/s, (2.1 - 2) / 2 * 10 s
        assertThat(manager.recordConnection(limited, T0)).isEqualTo(500);
        // at most the quota window (11 s): a burst holds its sockets for a bounded time
        for (int i = 0; i < 1000; i++) {
            manager.recordConnection(limited, T0);
        }
        assertThat(manager.recordConnection(limited, T0)).isEqualTo(11_000);
        // another address falls under the default ip entity's 100/s
        for (int i = 0; i < 100; i++) {
            assertThat(manager.recordConnection(other, T0)).isZero();
        }
    }

    private ClientQuotaManager.MutationCharge mutate(String clientId, double partitions, boolean strict, long nowMs) {
        return manager.chargeMutations(new KafkaPrincipal("User", "ANONYMOUS"), clientId, partitions, strict, nowMs);
    }

    @Test
    void controllerMutationsTakeTokensFromKafkasBucket() {
        assertThat(mutate("app", 1e9, true, T0)).as("no quota").isEqualTo(new ClientQuotaManager.MutationCharge(
                true, 0));
        // 2 partitions/s over Kafka's default 11 windows of 1 s: a bucket of 22
        quota(null, "app", "controller_mutation_rate", 2);
        assertThat(manager.enabled(QuotaType.CONTROLLER_MUTATION)).isTrue();
        assertThat(mutate("app", 20, true, T0)).as("within the burst").isEqualTo(
                new ClientQuotaManager.MutationCharge(true, 0));
        // 2 left: a strict mutation still goes ahead and leaves the bucket at -8
        assertThat(mutate("app", 10, true, T0)).isEqualTo(new ClientQuotaManager.MutationCharge(true, 0));
        // below zero: refused, 8 partitions at 2/s = 4 s until the bucket is back at zero
        assertThat(mutate("app", 1, true, T0)).isEqualTo(new ClientQuotaManager.MutationCharge(false, 4_000));
        assertThat(mutate("app", 1, true, T0 + 3_000)).isEqualTo(new ClientQuotaManager.MutationCharge(false, 1_000));
        assertThat(mutate("other", 100, true, T0)).as("another client id has no quota").isEqualTo(
                new ClientQuotaManager.MutationCharge(true, 0));
        // refilled to zero at T0 + 4 s: allowed again, and a version without the error is throttled instead
        assertThat(mutate("app", 4, true, T0 + 4_000)).isEqualTo(new ClientQuotaManager.MutationCharge(true, 0));
        assertThat(mutate("app", 6, false, T0 + 4_000)).isEqualTo(new ClientQuotaManager.MutationCharge(true,
                5_000));
        // the bucket never holds more than its burst, however long it was idle
        assertThat(mutate("app", 22, true, T0 + 3_600_000)).isEqualTo(new ClientQuotaManager.MutationCharge(true, 0));
        assertThat(mutate("app", 1, true, T0 + 3_600_000)).isEqualTo(new ClientQuotaManager.MutationCharge(true, 0));
        assertThat(mutate("app", 1, true, T0 + 3_600_000).allowed()).isFalse();
    }
}
