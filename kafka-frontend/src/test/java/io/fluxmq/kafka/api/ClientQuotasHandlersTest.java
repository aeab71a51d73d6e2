package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.auth.AclAuthorizer;
import io.fluxmq.kafka.auth.AuthorizerConfig;
import io.fluxmq.kafka.server.FakeBrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterClientQuotasRequestData.EntityData;
import org.apache.kafka.common.message.AlterClientQuotasRequestData.EntryData;
import org.apache.kafka.common.message.AlterClientQuotasRequestData.OpData;
import org.apache.kafka.common.message.AlterClientQuotasResponseData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData.ComponentData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

/** AlterClientQuotas (Kafka's checks, messages, validate_only, authorization) and DescribeClientQuotas' matching. */
class ClientQuotasHandlersTest {
    private final FakeBrokerServices broker = new FakeBrokerServices();

    private static RequestContext context(ApiKeys api) {
        return new RequestContext(new RequestHeader(api, (short) 1, "test", 1), "EXTERNAL",
                new InetSocketAddress("127.0.0.1", 40000), KafkaPrincipal.ANONYMOUS);
    }

    private static AlterClientQuotasResponseData alter(FakeBrokerServices broker, boolean validateOnly,
                                                       EntryData... entries) {
        return (AlterClientQuotasResponseData) new AlterClientQuotasHandler(broker).handle(
                context(ApiKeys.ALTER_CLIENT_QUOTAS), new AlterClientQuotasRequestData()
                        .setEntries(Arrays.asList(entries)).setValidateOnly(validateOnly)).join();
    }

    private DescribeClientQuotasResponseData describe(boolean strict, ComponentData... components) {
        return (DescribeClientQuotasResponseData) new DescribeClientQuotasHandler(broker).handle(
                context(ApiKeys.DESCRIBE_CLIENT_QUOTAS), new DescribeClientQuotasRequestData()
                        .setComponents(Arrays.asList(components)).setStrict(strict)).join();
    }

    /** An entry: components as type, name pairs (a null name: the default entity), then ops. */
    private static EntryData entry(List<String> entity, OpData... ops) {
        List<EntityData> components = new ArrayList<>();
        for (int i = 0; i < entity.size(); i += 2) {
            components.add(new EntityData().setEntityType(entity.get(i)).setEntityName(entity.get(i + 1)));
        }
        return new EntryData().setEntity(components).setOps(Arrays.asList(ops));
    }

    private static List<String> entity(String... typeAndName) {
        return Arrays.asList(typeAndName);
    }

    private static OpData set(String key, double value) {
        return new OpData().setKey(key).setValue(value);
    }

    private static OpData remove(String key) {
        return new OpData().setKey(key).setRemove(true);
    }

    private static ComponentData component(String type, int matchType, String match) {
        return new ComponentData().setEntityType(type).setMatchType((byte) matchType).setMatch(match);
    }

    private static ClientQuotaEntity quotaEntity(String... typeAndName) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < typeAndName.length; i += 2) {
            m.put(typeAndName[i], typeAndName[i + 1]);
        }
        return new ClientQuotaEntity(m);
    }

    /** The error message of each entry, by its first component's name (or "default"). */
    private static Map<String, String> messages(AlterClientQuotasResponseData r) {
        Map<String, String> out = new HashMap<>();
        r.entries().forEach(e -> out.put(e.entity().isEmpty() ? "empty" : e.entity().get(0).entityName() == null
                ? "default" : e.entity().get(0).entityName(), e.errorCode() == 0 ? "NONE" : e.errorMessage()));
        return out;
    }

    @Test
    void storesValidQuotasWithDefaultEntitiesAndRemovesThem() {
        AlterClientQuotasResponseData r = alter(broker, false,
                entry(entity("user", "alice", "client-id", "app"), set("producer_byte_rate", 1024),
                        set("request_percentage", 12.5)),
                entry(entity("client-id", null), set("consumer_byte_rate", 2048)));
        assertThat(r.entries()).hasSize(2).allMatch(e -> e.errorCode() == Errors.NONE.code());
        assertThat(broker.clientQuotas()).isEqualTo(Map.of(
                quotaEntity("user", "alice", "client-id", "app"),
                Map.of("producer_byte_rate", 1024.0, "request_percentage", 12.5),
                quotaEntity("client-id", null), Map.of("consumer_byte_rate", 2048.0)));

        alter(broker, false, entry(entity("client-id", null), remove("consumer_byte_rate")),
                entry(entity("user", "nobody"), remove("producer_byte_rate")));
        assertThat(broker.clientQuotas()).containsOnlyKeys(quotaEntity("user", "alice", "client-id", "app"));
    }

    @Test
    void validateOnlyChecksAndStoresNothing() {
        AlterClientQuotasResponseData r = alter(broker, true, entry(entity("user", "alice"),
                set("producer_byte_rate", 1024)), entry(entity("user", "bob"), set("producer_byte_rate", -1)));
        assertThat(messages(r)).isEqualTo(Map.of("alice", "NONE", "bob", "Quota producer_byte_rate must be greater "
                + "than 0"));
        assertThat(broker.clientQuotas()).isEmpty();
    }

    @Test
    void kafkasChecksWithItsMessagesAndTheValidRestStored() {
        AlterClientQuotasResponseData r = alter(broker, false,
                entry(entity(), set("producer_byte_rate", 1)),
                entry(entity("group", "g"), set("producer_byte_rate", 1)),
                entry(entity("user", ""), set("producer_byte_rate", 1)),
                entry(entity("ip", "1.2.3.4", "user", "u1"), set("connection_creation_rate", 1)),
                entry(entity("user", "u2"), set("connection_creation_rate", 1)),
                entry(entity("user", "u3"), set("producer_byte_rate", 0)),
                entry(entity("user", "u4"), set("producer_byte_rate", 1.5)),
                entry(entity("user", "u5"), set("producer_byte_rate", 1e30)),
                entry(entity("user", "u6"), set("producer_byte_rate", 1), set("producer_byte_rate", 2)),
                entry(entity("user", "u7"), set("request_percentage", 0.5)),
                entry(entity("user", "u7"), set("request_percentage", 1.5)),
                entry(entity("ip", "10.1.1.1"), set("connection_creation_rate", 1.5)),
                entry(entity("client-id", "ok"), set("controller_mutation_rate", 0.5)));
        Map<String, String> m = messages(r);
        assertThat(m.get("empty")).isEqualTo("Invalid empty client quota entity");
        assertThat(m.get("g")).isEqualTo("Unhandled client quota entity type: group");
        assertThat(m.get("")).isEqualTo("Empty user not supported");
        assertThat(r.entries().stream().filter(e -> e.entity().size() == 2).findFirst().orElseThrow().errorMessage())
                .isEqualTo("Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId");
        assertThat(m.get("u2")).isEqualTo("Invalid configuration key connection_creation_rate");
        assertThat(m.get("u3")).isEqualTo("Quota producer_byte_rate must be greater than 0");
        assertThat(m.get("u4")).isEqualTo("producer_byte_rate cannot be a fractional value.");
        assertThat(m.get("u5")).isEqualTo("Proposed value for producer_byte_rate is too large for a LONG.");
        assertThat(m.get("u6")).isEqualTo("Ignoring duplicate entity " + quotaEntity("user", "u6"));
        assertThat(m.get("u7")).isEqualTo("Ignoring duplicate entity " + quotaEntity("user", "u7"));
        assertThat(m.get("10.1.1.1")).isEqualTo("connection_creation_rate cannot be a fractional value.");
        assertThat(m.get("ok")).isEqualTo("NONE");
        assertThat(r.entries()).allMatch(e -> e.errorCode() == (e.errorMessage() == null ? Errors.NONE.code()
                : Errors.INVALID_REQUEST.code()));
        assertThat(broker.clientQuotas()).isEqualTo(Map.of(quotaEntity("client-id", "ok"),
                Map.of("controller_mutation_rate", 0.5)));
    }

    @Test
    void withAnAuthorizerAlterNeedsAlterConfigsOnTheCluster() {
        FakeBrokerServices secured = new FakeBrokerServices(new AclAuthorizer(new AuthorizerConfig(true, Set.of(),
                false)));
        AlterClientQuotasResponseData r = alter(secured, false, entry(entity("user", "a"),
                set("producer_byte_rate", 1)), entry(entity("user", "b"), set("producer_byte_rate", -1)));
        assertThat(r.entries()).hasSize(2).allMatch(e -> e.errorCode() == Errors.CLUSTER_AUTHORIZATION_FAILED.code());
        assertThat(secured.clientQuotas()).isEmpty();
    }

    @Test
    void describeMatchesExactDefaultSpecifiedAndStrictAsKafka() {
        alter(broker, false,
                entry(entity("user", "alice"), set("producer_byte_rate", 1)),
                entry(entity("user", "alice", "client-id", "app"), set("producer_byte_rate", 2)),
                entry(entity("user", null), set("producer_byte_rate", 3)),
                entry(entity("user", null, "client-id", null), set("producer_byte_rate", 4)),
                entry(entity("client-id", "app"), set("consumer_byte_rate", 5)),
                entry(entity("ip", "10.0.0.1"), set("connection_creation_rate", 6)));
        assertThat(values(describe(false))).containsExactlyInAnyOrder(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
        assertThat(values(describe(false, component("user", 0, "alice")))).containsExactlyInAnyOrder(1.0, 2.0);
        assertThat(values(describe(true, component("user", 0, "alice")))).containsExactly(1.0);
        assertThat(values(describe(false, component("user", 1, null)))).containsExactlyInAnyOrder(3.0, 4.0);
        assertThat(values(describe(true, component("user", 1, null)))).containsExactly(3.0);
        assertThat(values(describe(false, component("user", 2, null)))).containsExactlyInAnyOrder(1.0, 2.0, 3.0, 4.0);
        assertThat(values(describe(false, component("client-id", 2, null)))).containsExactlyInAnyOrder(2.0, 4.0, 5.0);
        assertThat(values(describe(true, component("client-id", 0, "app")))).containsExactly(5.0);
        assertThat(values(describe(false, component("user", 2, null), component("client-id", 1, null))))
                .containsExactly(4.0);
        assertThat(values(describe(true, component("ip", 2, null)))).containsExactly(6.0);
        DescribeClientQuotasResponseData one = describe(true, component("user", 0, "alice"),
                component("client-id", 0, "app"));
        assertThat(one.entries()).hasSize(1);
        assertThat(one.entries().get(0).entity()).hasSize(2);
        assertThat(one.entries().get(0).values().get(0).key()).isEqualTo("producer_byte_rate");
        DescribeClientQuotasResponseData defaults = describe(true, component("user", 1, null));
        assertThat(defaults.entries().get(0).entity().get(0).entityName()).isNull();
    }

    private static List<Double> values(DescribeClientQuotasResponseData r) {
        assertThat(r.errorCode()).isEqualTo(Errors.NONE.code());
        List<Double> out = new ArrayList<>();
        r.entries().forEach(e -> e.values().forEach(v -> out.add(v.value())));
        return out;
    }
}
