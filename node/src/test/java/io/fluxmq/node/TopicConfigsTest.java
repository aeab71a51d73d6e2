package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.kafka.broker.ConfigChange;
import io.fluxmq.kafka.broker.ConfigValue;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Topic configs are honoured or refused with INVALID_CONFIG naming the key, never accepted and ignored. */
class TopicConfigsTest {
    private final TopicConfigs configs = new TopicConfigs(NodeConfig.from(Map.of("message.max.bytes", "2000000")));

    private void assertRefused(String key, String value, int replicationFactor) {
        assertThatThrownBy(() -> configs.validate(Map.of(key, value), replicationFactor))
                .isInstanceOfSatisfying(AdminException.class,
                        e -> assertThat(e.error()).isEqualTo(Errors.INVALID_CONFIG))
                .hasMessageContaining(key);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = ';', value = {
            "cleanup.policy; ''", "cleanup.policy; compress", "delete.retention.ms; -1",
            "min.cleanable.dirty.ratio; 1.5", "min.cleanable.dirty.ratio; -0.1", "min.compaction.lag.ms; -1",
            "compression.type; gzip", "compression.type; zstd", "compression.type; uncompressed",
            "message.timestamp.type; LogAppendTime", "message.timestamp.type; bogus",
            "max.message.bytes; 2000001", "max.message.bytes; -1", "max.message.bytes; lots",
            "min.insync.replicas; 0", "min.insync.replicas; 3", "segment.bytes; 10", "segment.bytes; 99999999999",
            "segment.ms; 0", "unclean.leader.election.enable; true"})
    void refusedConfigsNameTheirKey(String key, String value) {
        assertRefused(key, value, 3);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = ';', value = {
            "cleanup.policy; delete", "cleanup.policy; compact", "cleanup.policy; 'compact,delete'",
            "cleanup.policy; 'delete, compact'", "delete.retention.ms; 0", "min.cleanable.dirty.ratio; 0.01",
            "min.compaction.lag.ms; 60000", "compression.type; producer", "message.timestamp.type; CreateTime",
            "max.message.bytes; 2000000", "max.message.bytes; 1024", "min.insync.replicas; 1",
            "min.insync.replicas; 2", "retention.ms; -1", "segment.bytes; 1048576"})
    void honouredConfigsAreAccepted(String key, String value) {
        assertThatCode(() -> configs.validate(Map.of(key, value), 3)).doesNotThrowAnyException();
    }

    @Test
    void compactionIsAcceptedOnEitherEngine() {
        TopicConfigs multiraft = new TopicConfigs(NodeConfig.from(Map.of("partition.engine", "multiraft")));
        assertThatCode(() -> multiraft.validate(Map.of("cleanup.policy", "compact,delete"), 3))
                .doesNotThrowAnyException();
        assertThatCode(() -> configs.validate(Map.of("cleanup.policy", "compact"), 3)).doesNotThrowAnyException();
        assertThat(configs.compacted(Map.of("cleanup.policy", "compact"))).isTrue();
        assertThat(configs.deletes(Map.of("cleanup.policy", "compact"))).isFalse();
        assertThat(configs.deletes(Map.of("cleanup.policy", "compact,delete"))).isTrue();
        assertThat(configs.compacted(Map.of())).isFalse();
        assertThat(configs.compactionPolicy(Map.of("min.compaction.lag.ms", "5")))
                .isEqualTo(new io.fluxmq.raft.log.CompactionPolicy(86_400_000L, 0.5, 5));
    }

    @Test
    void minInSyncReplicasIsBoundedByTheRaftMajority() {
        assertThat(TopicConfigs.majority(1)).isEqualTo(1);
        assertThat(TopicConfigs.majority(2)).isEqualTo(2);
        assertThat(TopicConfigs.majority(3)).isEqualTo(2);
        assertThat(TopicConfigs.majority(5)).isEqualTo(3);
        assertRefused("min.insync.replicas", "2", 1);
        assertThatCode(() -> configs.validate(Map.of("min.insync.replicas", "2"), 2)).doesNotThrowAnyException();
        assertRefused("min.insync.replicas", "3", 2);
        assertThatCode(() -> configs.validate(Map.of("min.insync.replicas", "3"), 5)).doesNotThrowAnyException();
        assertRefused("min.insync.replicas", "4", 5);
    }

    private static ConfigChange change(String key, OpType op, String value) {
        return new ConfigChange(key, op, value);
    }

    @Test
    void incrementalChangesApplyToTheCurrentOverrides() {
        Map<String, String> current = Map.of("retention.ms", "1000", "segment.ms", "5000");
        Map<String, String> next = configs.alter(current, List.of(change("retention.ms", OpType.SET, "2000"),
                change("segment.ms", OpType.DELETE, null), change("retention.bytes", OpType.SET, "4096")), true, 3);
        assertThat(next).containsExactlyInAnyOrderEntriesOf(Map.of("retention.ms", "2000", "retention.bytes", "4096"));
    }

    @Test
    void alterConfigsReplacesEveryOverride() {
        Map<String, String> next = configs.alter(Map.of("retention.ms", "1000"),
                List.of(change("segment.ms", OpType.SET, "60000")), false, 3);
        assertThat(next).containsExactlyInAnyOrderEntriesOf(Map.of("segment.ms", "60000"));
    }

    @Test
    void appendAndSubtractWorkOnListConfigsFromTheirCurrentValue() {
        assertThat(configs.alter(Map.of(), List.of(change("cleanup.policy", OpType.APPEND, "delete")), true, 3))
                .containsEntry("cleanup.policy", "delete");
        assertThat(configs.alter(Map.of(), List.of(change("cleanup.policy", OpType.APPEND, "compact")), true, 3))
                .containsEntry("cleanup.policy", "delete,compact");
        assertThatThrownBy(() -> configs.alter(Map.of(), List.of(change("cleanup.policy", OpType.SUBTRACT, "delete")),
                true, 3)).isInstanceOf(AdminException.class).hasMessageContaining("cleanup.policy");
        assertThatThrownBy(() -> configs.alter(Map.of(), List.of(change("retention.ms", OpType.APPEND, "5")), true, 3))
                .isInstanceOfSatisfying(AdminException.class, e -> assertThat(e.error()).isEqualTo(Errors.INVALID_CONFIG))
                .hasMessageContaining("retention.ms").hasMessageContaining("not LIST");
    }

    @Test
    void badValuesAndUnknownKeysAreRefusedWithKafkasMessages() {
        assertThatThrownBy(() -> configs.alter(Map.of(), List.of(change("retention.ms", OpType.SET, "soon")), true, 3))
                .isInstanceOfSatisfying(AdminException.class, e -> assertThat(e.error()).isEqualTo(Errors.INVALID_CONFIG))
                .hasMessage("Invalid value soon for configuration retention.ms: Not a number of type LONG");
        assertThatThrownBy(() -> configs.alter(Map.of(), List.of(change("no.such.key", OpType.DELETE, null)), true, 3))
                .isInstanceOfSatisfying(AdminException.class, e -> assertThat(e.error()).isEqualTo(Errors.INVALID_CONFIG))
                .hasMessage("Unknown topic config name: no.such.key");
    }

    @Test
    void aSegmentMustHoldTheLargestBatchAfterAChange() {
        assertThatThrownBy(() -> configs.alter(Map.of(), List.of(change("segment.bytes", OpType.SET, "65536")), true,
                3)).isInstanceOf(AdminException.class).hasMessageContaining("segment.bytes=65536 is below");
        assertThat(configs.alter(Map.of(), List.of(change("segment.bytes", OpType.SET, "65536"),
                change("max.message.bytes", OpType.SET, "65536")), true, 3)).containsEntry("segment.bytes", "65536");
    }

    @Test
    void describeReportsTheSourceOfEveryValueWithSynonyms() {
        TopicConfigs withNodeRetention = new TopicConfigs(NodeConfig.from(Map.of("log.retention.ms", "3600000")));
        Map<String, ConfigValue> described = new java.util.HashMap<>();
        withNodeRetention.describe(Map.of("segment.ms", "60000")).forEach(v -> described.put(v.name(), v));

        assertThat(described).containsOnlyKeys(withNodeRetention.defaults().keySet());
        ConfigValue segmentMs = described.get("segment.ms");
        assertThat(segmentMs.value()).isEqualTo("60000");
        assertThat(segmentMs.source()).isEqualTo(ConfigSource.TOPIC_CONFIG);
        assertThat(segmentMs.synonyms()).containsExactly(
                new ConfigValue.Synonym("segment.ms", "60000", ConfigSource.TOPIC_CONFIG),
                new ConfigValue.Synonym("log.segment.ms", "604800000", ConfigSource.DEFAULT_CONFIG));
        ConfigValue retention = described.get("retention.ms");
        assertThat(retention.value()).isEqualTo("3600000");
        assertThat(retention.source()).isEqualTo(ConfigSource.STATIC_BROKER_CONFIG);
        assertThat(retention.synonyms()).containsExactly(
                new ConfigValue.Synonym("log.retention.ms", "3600000", ConfigSource.STATIC_BROKER_CONFIG),
                new ConfigValue.Synonym("log.retention.ms", "604800000", ConfigSource.DEFAULT_CONFIG));
        assertThat(retention.type()).isEqualTo(ConfigType.LONG);
        assertThat(retention.documentation()).isNotBlank();
        assertThat(described.get("cleanup.policy").source()).isEqualTo(ConfigSource.DEFAULT_CONFIG);
        assertThat(described.get("cleanup.policy").type()).isEqualTo(ConfigType.LIST);
    }
}
