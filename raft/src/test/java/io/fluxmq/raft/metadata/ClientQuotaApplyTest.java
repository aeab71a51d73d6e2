package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.junit.jupiter.api.Test;

/** AlterClientQuotas (type 19) as the metadata state machine applies it, its encoding, and quotas in snapshots (v8). */
class ClientQuotaApplyTest {
    private static final ClientQuotaEntity ALICE = ClientQuotaRecords.entity(Map.of(ClientQuotaEntity.USER, "alice"));
    private static final ClientQuotaEntity DEFAULT_CLIENT = defaultOf(ClientQuotaEntity.CLIENT_ID);
    private static final ClientQuotaEntity ALICE_APP = ClientQuotaRecords.entity(Map.of(ClientQuotaEntity.USER,
            "alice", ClientQuotaEntity.CLIENT_ID, "app"));

    private final MetadataStateMachine sm = new MetadataStateMachine();

    private static ClientQuotaEntity defaultOf(String type) {
        Map<String, String> m = new HashMap<>();
        m.put(type, null);
        return ClientQuotaRecords.entity(m);
    }

    private static MetadataCommand.QuotaAlteration set(ClientQuotaEntity e, Map<String, Double> values) {
        return new MetadataCommand.QuotaAlteration(e, values, List.of());
    }



    @Test
    void commandRoundTripsThroughItsEncodingWithDefaultEntities() throws IOException {
        MetadataCommand c = new MetadataCommand.AlterClientQuotas(List.of(
                set(ALICE_APP, Map.of("producer_byte_rate", 1024.0, "request_percentage", 12.5)),
                new MetadataCommand.QuotaAlteration(DEFAULT_CLIENT, Map.of(), List.of("consumer_byte_rate"))));
        byte[] bytes = c.encode();
        assertThat(bytes[0]).isEqualTo((byte) 19);
        MetadataCommand decoded = MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(bytes)));
        assertThat(decoded).isEqualTo(c);
        ClientQuotaEntity entity = ((MetadataCommand.AlterClientQuotas) decoded).alterations().get(1).entity();
        assertThat(entity.entries()).containsEntry(ClientQuotaEntity.CLIENT_ID, null).hasSize(1);
    }

    @Test
    void setsReplacesRemovesAndDropsAnEntityLeftWithoutValues() {
        sm.apply(new MetadataCommand.AlterClientQuotas(List.of(
                set(ALICE, Map.of("producer_byte_rate", 1000.0, "consumer_byte_rate", 2000.0)),
                set(DEFAULT_CLIENT, Map.of("producer_byte_rate", 500.0)))));
        assertThat(sm.state().clientQuotas()).isEqualTo(Map.of(
                ALICE, Map.of("producer_byte_rate", 1000.0, "consumer_byte_rate", 2000.0),
                DEFAULT_CLIENT, Map.of("producer_byte_rate", 500.0)));

        sm.apply(new MetadataCommand.AlterClientQuotas(List.of(
                new MetadataCommand.QuotaAlteration(ALICE, Map.of("producer_byte_rate", 3000.0),
                        List.of("consumer_byte_rate", "request_percentage")),
                new MetadataCommand.QuotaAlteration(DEFAULT_CLIENT, Map.of(), List.of("producer_byte_rate")))));
        assertThat(sm.state().clientQuotas()).isEqualTo(Map.of(ALICE, Map.of("producer_byte_rate", 3000.0)));
    }

    @Test
    void snapshotIsVersion8OnlyWhileQuotasExistAndRoundTrips() throws IOException {
        assertThat(MetadataSnapshots.version(sm.state())).isEqualTo((short) 2);
        sm.apply(new MetadataCommand.AlterClientQuotas(List.of(set(ALICE_APP, Map.of("producer_byte_rate", 1.0)),
                set(DEFAULT_CLIENT, Map.of("consumer_byte_rate", 2.0)))));
        assertThat(MetadataSnapshots.version(sm.state())).isEqualTo((short) 8);
        ClusterState read = MetadataSnapshots.roundTrip(sm.state());
        assertThat(read).isEqualTo(sm.state());
        assertThat(read.clientQuotas()).hasSize(2);

        sm.apply(new MetadataCommand.AlterClientQuotas(List.of(
                new MetadataCommand.QuotaAlteration(ALICE_APP, Map.of(), List.of("producer_byte_rate")),
                new MetadataCommand.QuotaAlteration(DEFAULT_CLIENT, Map.of(), List.of("consumer_byte_rate")))));
        assertThat(sm.state().clientQuotas()).isEmpty();
        assertThat(MetadataSnapshots.version(sm.state())).isEqualTo((short) 2);
    }
}
