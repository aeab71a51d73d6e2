package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** AlterBrokerConfigs (type 21) as the metadata state machine applies it, its encoding, and snapshots (v9). */
class BrokerConfigApplyTest {
    private final MetadataStateMachine sm = new MetadataStateMachine();



    @Test
    void commandRoundTripsThroughItsEncoding() throws IOException {
        MetadataCommand c = new MetadataCommand.AlterBrokerConfigs("", Map.of("log.retention.ms", "60000"),
                List.of("log.retention.bytes"));
        assertThat(MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(c.encode())))).isEqualTo(c);
    }

    @Test
    void setsDeletesPerEntityAndDropsAnEntityLeftWithoutConfigs() {
        sm.apply(new MetadataCommand.AlterBrokerConfigs("", Map.of("log.retention.ms", "60000",
                "log.retention.bytes", "1024"), List.of()));
        sm.apply(new MetadataCommand.AlterBrokerConfigs("2", Map.of("leader.replication.throttled.rate", "1000"),
                List.of()));
        sm.apply(new MetadataCommand.AlterBrokerConfigs("", Map.of("log.retention.ms", "120000"),
                List.of("log.retention.bytes")));
        assertThat(sm.state().brokerConfigs(ClusterState.DEFAULT_BROKER))
                .isEqualTo(Map.of("log.retention.ms", "120000"));
        assertThat(sm.state().brokerConfigs("2")).isEqualTo(Map.of("leader.replication.throttled.rate", "1000"));
        assertThat(sm.state().brokerConfigs("1")).isEmpty();

        sm.apply(new MetadataCommand.AlterBrokerConfigs("2", Map.of(), List.of("leader.replication.throttled.rate")));
        assertThat(sm.state().brokerConfigs()).containsOnlyKeys(ClusterState.DEFAULT_BROKER);
    }

    @Test
    void snapshotIsVersion9OnlyWhileConfigsExistAndRoundTrips() throws IOException {
        assertThat(MetadataSnapshots.version(sm.state())).isEqualTo((short) 2);
        sm.apply(new MetadataCommand.AlterBrokerConfigs("", Map.of("log.retention.ms", "60000"), List.of()));
        sm.apply(new MetadataCommand.AlterBrokerConfigs("0", Map.of("leader.replication.throttled.rate", "5"),
                List.of()));
        assertThat(MetadataSnapshots.version(sm.state())).isEqualTo((short) 9);
        ClusterState read = MetadataSnapshots.roundTrip(sm.state());
        assertThat(read).isEqualTo(sm.state());
        assertThat(read.brokerConfigs()).hasSize(2);

        sm.apply(new MetadataCommand.AlterBrokerConfigs("", Map.of(), List.of("log.retention.ms")));
        sm.apply(new MetadataCommand.AlterBrokerConfigs("0", Map.of(), List.of("leader.replication.throttled.rate")));
        assertThat(MetadataSnapshots.version(sm.state())).isEqualTo((short) 2);
    }
}
