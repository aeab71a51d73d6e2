package io.fluxmq.raft.metadata;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/** Metadata snapshots as the apply tests look at them: written and read back, and the format version written. */
final class MetadataSnapshots {
    private MetadataSnapshots() {
    }

    static byte[] write(ClusterState s) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MetadataStateMachine.writeSnapshot(new DataOutputStream(bytes), s);
        return bytes.toByteArray();
    }

    /** {@code s} written to a snapshot and read back, at its own version. */
    static ClusterState roundTrip(ClusterState s) throws IOException {
        return MetadataStateMachine.readSnapshot(new DataInputStream(new ByteArrayInputStream(write(s))),
                s.version());
    }

    /** The format version the snapshot of {@code s} is written in. */
    static short version(ClusterState s) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(write(s)));
        in.readInt();
        return in.readShort();
    }
}
