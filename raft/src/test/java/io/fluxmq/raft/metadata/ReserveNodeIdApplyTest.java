package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** ReserveNodeId (type 22) as the metadata state machine applies it, its encoding, and snapshots (v10). */
class ReserveNodeIdApplyTest {
    private final MetadataStateMachine sm = new MetadataStateMachine();

    private static NodeRecord node(int id) {
        return new NodeRecord(id, "127.0.0.1", 9092, 9192, 9392, 9292, "0.1.0", 100, NodeRecord.NodeState.UP, "",
                NodeRecord.Membership.ACTIVE);
    }

    private long reserve(int atLeast) {
        MetadataReply reply = sm.apply(new MetadataCommand.ReserveNodeId(atLeast));
        assertThat(reply.isOk()).as(reply.message()).isTrue();
        return reply.value();
    }

    @Test
    void commandRoundTripsThroughItsEncoding() throws IOException {
        MetadataCommand c = new MetadataCommand.ReserveNodeId(1001);
        assertThat(MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(c.encode())))).isEqualTo(c);
    }

    @Test
    void eachReservationIsNewAndAboveTheFloorAndEveryKnownNode() {
        assertThat(reserve(1001)).isEqualTo(1001);
        assertThat(reserve(1001)).as("a reserved id is never given twice").isEqualTo(1002);
        assertThat(reserve(3)).as("the floor only raises").isEqualTo(1003);
        sm.apply(new MetadataCommand.RegisterNode(node(1500))); // a node registered with an id of its own choosing
        assertThat(reserve(1001)).as("above every node in metadata").isEqualTo(1501);
        assertThat(reserve(2000)).isEqualTo(2000);
        assertThat(sm.state().nodes()).as("a reservation adds no member").containsOnlyKeys(1500);
    }

    @Test
    void snapshotIsVersion10OnlyOnceAnIdWasReservedAndRoundTrips() throws IOException {
        assertThat(MetadataSnapshots.version(sm.state())).isEqualTo((short) 2);
        reserve(1001);
        assertThat(MetadataSnapshots.version(sm.state())).isEqualTo((short) 10);
        ClusterState read = MetadataSnapshots.roundTrip(sm.state());
        assertThat(read).isEqualTo(sm.state());
        assertThat(read.nextNodeId()).isEqualTo(1002);

        MetadataStateMachine restored = new MetadataStateMachine();
        restored.publish(read);
        assertThat(restored.apply(new MetadataCommand.ReserveNodeId(1001)).value())
                .as("a restored controller goes on after the last reservation").isEqualTo(1002);
    }
}
