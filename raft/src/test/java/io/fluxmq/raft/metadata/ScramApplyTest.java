package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.junit.jupiter.api.Test;

/** AlterScramCredentials as the metadata state machine applies it, its encoding, and credentials in snapshots. */
class ScramApplyTest {
    private static final ScramCredentialRecord ALICE_512 = credential("alice", ScramMechanism.SCRAM_SHA_512, 8192);
    private static final ScramCredentialRecord ALICE_256 = credential("alice", ScramMechanism.SCRAM_SHA_256, 4096);
    private static final ScramCredentialRecord BOB_512 = credential("bob", ScramMechanism.SCRAM_SHA_512, 4096);

    private final MetadataStateMachine sm = new MetadataStateMachine();

    static ScramCredentialRecord credential(String user, ScramMechanism mechanism, int iterations) {
        byte seed = (byte) (user.hashCode() + mechanism.type());
        return new ScramCredentialRecord(user, mechanism, new byte[] {seed, 1, 2}, new byte[] {seed, 3},
                new byte[] {seed, 4}, iterations);
    }



    @Test
    void commandRoundTripsThroughItsEncoding() throws IOException {
        MetadataCommand c = new MetadataCommand.AlterScramCredentials(List.of(BOB_512.key()),
                List.of(ALICE_512, ALICE_256));
        byte[] bytes = c.encode();
        assertThat(bytes[0]).isEqualTo((byte) 16);
        assertThat(MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(bytes)))).isEqualTo(c);
    }

    @Test
    void upsertReplacesDeleteRemovesAndAMissingDeletionIsSkipped() {
        sm.apply(new MetadataCommand.AlterScramCredentials(List.of(), List.of(ALICE_512, BOB_512)));
        assertThat(sm.state().scramCredentials()).isEqualTo(Map.of(ALICE_512.key(), ALICE_512,
                BOB_512.key(), BOB_512));

        ScramCredentialRecord newAlice = credential("alice", ScramMechanism.SCRAM_SHA_512, 10_000);
        assertThat(sm.apply(new MetadataCommand.AlterScramCredentials(List.of(BOB_512.key(), ALICE_256.key()),
                List.of(newAlice))).isOk()).isTrue();
        assertThat(sm.state().scramCredentials()).isEqualTo(Map.of(newAlice.key(), newAlice));
    }

    @Test
    void snapshotsCarryCredentialsOnlyWhileSomeExist() throws IOException {
        assertThat(MetadataSnapshots.version(sm.state())).as("no credentials: the older format")
                .isEqualTo((short) 2);
        sm.apply(new MetadataCommand.AlterScramCredentials(List.of(), List.of(ALICE_512, ALICE_256, BOB_512)));
        assertThat(MetadataSnapshots.version(sm.state())).isEqualTo((short) 6);
        ClusterState read = MetadataSnapshots.roundTrip(sm.state());
        assertThat(read).isEqualTo(sm.state());
        assertThat(read.scramCredentials().get(ALICE_512.key()).iterations()).isEqualTo(8192);

        sm.apply(new MetadataCommand.AlterScramCredentials(List.of(ALICE_512.key(), ALICE_256.key(), BOB_512.key()),
                List.of()));
        assertThat(MetadataSnapshots.version(sm.state())).isEqualTo((short) 2);
        assertThat(MetadataSnapshots.roundTrip(sm.state()).scramCredentials()).isEmpty();
    }

    @Test
    void theSecretsStayOutOfToStringAndOversizedFieldsAreRefused() {
        assertThat(ALICE_512.toString()).isEqualTo("ScramCredentialRecord(user=alice, mechanism=SCRAM-SHA-512, "
                + "iterations=8192)");
        assertThatThrownBy(() -> new ScramCredentialRecord("alice", ScramMechanism.SCRAM_SHA_256,
                new byte[ScramCredentialRecord.MAX_FIELD_BYTES + 1], new byte[32], new byte[32], 4096))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScramCredentialRecord.Key("alice", ScramMechanism.UNKNOWN))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
