package io.fluxmq.raft.metadata;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.clients.admin.ScramMechanism;

/**
 * The encoding of SCRAM credentials in metadata commands and snapshots. Credentials: {@code count:int32} then per
 * credential {@code user UTF | mechanism:int8 | salt bytes | storedKey bytes | serverKey bytes | iterations:int32},
 * bytes being {@code length:int32} and the bytes; keys (deletions): {@code count:int32} then {@code user UTF |
 * mechanism:int8}. The mechanism is kafka-clients' {@link ScramMechanism#type()} (1 SCRAM-SHA-256, 2 SCRAM-SHA-512),
 * as in Kafka's own records. Stateless.
 */
final class ScramRecords {
    private ScramRecords() {
    }

    static void writeCredentials(DataOutput out, Collection<ScramCredentialRecord> credentials) throws IOException {
        out.writeInt(credentials.size());
        for (ScramCredentialRecord c : credentials) {
            out.writeUTF(c.user());
            out.writeByte(c.mechanism().type());
            writeBytes(out, c.salt());
            writeBytes(out, c.storedKey());
            writeBytes(out, c.serverKey());
            out.writeInt(c.iterations());
        }
    }

    static List<ScramCredentialRecord> readCredentials(DataInput in) throws IOException {
        int n = in.readInt();
        List<ScramCredentialRecord> out = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) {
            String user = in.readUTF();
            ScramMechanism mechanism = readMechanism(in);
            out.add(new ScramCredentialRecord(user, mechanism, readBytes(in), readBytes(in), readBytes(in),
                    in.readInt()));
        }
        return out;
    }

    static void writeKeys(DataOutput out, Collection<ScramCredentialRecord.Key> keys) throws IOException {
        out.writeInt(keys.size());
        for (ScramCredentialRecord.Key k : keys) {
            out.writeUTF(k.user());
            out.writeByte(k.mechanism().type());
        }
    }

    static List<ScramCredentialRecord.Key> readKeys(DataInput in) throws IOException {
        int n = in.readInt();
        List<ScramCredentialRecord.Key> out = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) {
            out.add(new ScramCredentialRecord.Key(in.readUTF(), readMechanism(in)));
        }
        return out;
    }

    private static ScramMechanism readMechanism(DataInput in) throws IOException {
        ScramMechanism mechanism = ScramMechanism.fromType(in.readByte());
        if (mechanism == ScramMechanism.UNKNOWN) {
            throw new IOException("unknown SCRAM mechanism in metadata");
        }
        return mechanism;
    }

    private static void writeBytes(DataOutput out, byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static byte[] readBytes(DataInput in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > ScramCredentialRecord.MAX_FIELD_BYTES) {
            throw new IOException("SCRAM credential field of " + length + " bytes");
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return bytes;
    }
}
