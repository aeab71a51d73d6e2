package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.broker.AdminException;
import java.util.Map;
import org.apache.kafka.common.protocol.Errors;
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
            "cleanup.policy; compact", "cleanup.policy; 'compact,delete'", "cleanup.policy; 'delete, compact'",
            "cleanup.policy; ''", "compression.type; gzip", "compression.type; zstd", "compression.type; uncompressed",
            "message.timestamp.type; LogAppendTime", "message.timestamp.type; bogus",
            "max.message.bytes; 2000001", "max.message.bytes; -1", "max.message.bytes; lots",
            "min.insync.replicas; 0", "min.insync.replicas; 3", "segment.bytes; 10", "segment.bytes; 99999999999",
            "segment.ms; 0", "unclean.leader.election.enable; true"})
    void refusedConfigsNameTheirKey(String key, String value) {
        assertRefused(key, value, 3);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = ';', value = {
            "cleanup.policy; delete", "compression.type; producer", "message.timestamp.type; CreateTime",
            "max.message.bytes; 2000000", "max.message.bytes; 1024", "min.insync.replicas; 1",
            "min.insync.replicas; 2", "retention.ms; -1", "segment.bytes; 1048576"})
    void honouredConfigsAreAccepted(String key, String value) {
        assertThatCode(() -> configs.validate(Map.of(key, value), 3)).doesNotThrowAnyException();
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
}
