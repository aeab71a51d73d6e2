package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.kafka.broker.ConfigChange;
import io.fluxmq.kafka.broker.ConfigValue;
import io.fluxmq.raft.metadata.ClusterState;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.junit.jupiter.api.Test;

/** Dynamic broker configs: which may change, for which entity, their validation, sources and effective values. */
class BrokerConfigsTest {
    private final AtomicReference<ClusterState> state = new AtomicReference<>(ClusterState.EMPTY);
    private final BrokerConfigs configs = new BrokerConfigs(NodeConfig.from(Map.of("node.id", "0",
            "leader.replication.throttled.rate", "1000")), state::get);

    private void hold(Map<String, Map<String, String>> brokerConfigs) {
        ClusterState s = ClusterState.EMPTY;
        state.set(new ClusterState(1, s.topics(), s.leaders(), 0, s.nodes(), s.reassignments(), s.acls(),
                s.scramCredentials(), s.isrs(), s.clientQuotas(), brokerConfigs));
    }

    private static ConfigChange set(String key, String value) {
        return new ConfigChange(key, OpType.SET, value);
    }

    private static Errors refusal(Runnable change) {
        try {
            change.run();
        } catch (AdminException e) {
            return e.error();
        }
        throw new AssertionError("not refused");
    }

    @Test
    void onlyDynamicConfigsChangeAndTopicDefaultsOnlyForTheDefaultBroker() {
        assertThat(refusal(() -> configs.alter("", List.of(set("num.partitions", "3")), true)))
                .isEqualTo(Errors.INVALID_REQUEST);
        assertThat(refusal(() -> configs.alter("0", List.of(set("log.retention.ms", "1")), true)))
                .isEqualTo(Errors.INVALID_CONFIG);
        assertThat(refusal(() -> configs.alter("", List.of(set("log.retention.ms", "soon")), true)))
                .isEqualTo(Errors.INVALID_CONFIG);
        assertThat(refusal(() -> configs.alter("", List.of(set("log.cleaner.delete.retention.ms", "-1")), true)))
                .isEqualTo(Errors.INVALID_CONFIG);
        assertThat(refusal(() -> configs.alter("", List.of(set("log.cleaner.min.cleanable.ratio", "1.5")), true)))
                .isEqualTo(Errors.INVALID_CONFIG);
        assertThat(refusal(() -> configs.alter("0", List.of(set("leader.replication.throttled.rate", "0")), true)))
                .isEqualTo(Errors.INVALID_CONFIG);
        assertThat(refusal(() -> configs.alter("0", List.of(new ConfigChange("leader.replication.throttled.rate",
                OpType.APPEND, "5")), true))).isEqualTo(Errors.INVALID_CONFIG);

        BrokerConfigs.Change change = configs.alter("", List.of(set("log.retention.ms", "-1"),
                new ConfigChange("log.retention.bytes", OpType.DELETE, null)), true);
        assertThat(change.set()).isEqualTo(Map.of("log.retention.ms", "-1"));
        assertThat(change.delete()).containsExactly("log.retention.bytes");
    }

    @Test
    void alterConfigsReplacesEveryDynamicConfigOfTheEntity() {
        hold(Map.of("0", Map.of("leader.replication.throttled.rate", "5", "follower.replication.throttled.rate", "6")));
        BrokerConfigs.Change change = configs.alter("0", List.of(set("leader.replication.throttled.rate", "7")),
                false);
        assertThat(change.set()).isEqualTo(Map.of("leader.replication.throttled.rate", "7"));
        assertThat(change.delete()).containsExactly("follower.replication.throttled.rate");
    }

    @Test
    void theNodesOwnValueWinsOverTheDefaultOverTheSetting() {
        assertThat(configs.effective(BrokerConfigs.LEADER_THROTTLE, 0)).isEqualTo("1000");
        hold(Map.of("", Map.of("leader.replication.throttled.rate", "2000", "log.retention.ms", "60000")));
        assertThat(configs.effective(BrokerConfigs.LEADER_THROTTLE, 0)).isEqualTo("2000");
        assertThat(BrokerConfigs.topicDefaults(state.get())).isEqualTo(Map.of("retention.ms", "60000"));
        hold(Map.of("", Map.of("leader.replication.throttled.rate", "2000"),
                "0", Map.of("leader.replication.throttled.rate", "3000")));
        assertThat(configs.effective(BrokerConfigs.LEADER_THROTTLE, 0)).isEqualTo("3000");
        assertThat(configs.effective(BrokerConfigs.LEADER_THROTTLE, 1)).isEqualTo("2000");

        ConfigValue rate = configs.describe("0").stream().filter(v -> v.name().equals(BrokerConfigs.LEADER_THROTTLE))
                .findFirst().orElseThrow();
        assertThat(rate.value()).isEqualTo("3000");
        assertThat(rate.source()).isEqualTo(ConfigSource.DYNAMIC_BROKER_CONFIG);
        assertThat(rate.synonyms()).extracting(ConfigValue.Synonym::source).containsExactly(
                ConfigSource.DYNAMIC_BROKER_CONFIG, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
                ConfigSource.STATIC_BROKER_CONFIG);
        assertThat(configs.describe("")).extracting(ConfigValue::name).containsExactly(
                BrokerConfigs.LEADER_THROTTLE);
    }
}
