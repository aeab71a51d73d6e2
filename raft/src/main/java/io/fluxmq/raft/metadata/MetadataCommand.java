package io.fluxmq.raft.metadata;

import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * A change to cluster metadata, as carried in the metadata Raft log. Encoding: {@code type:int8} then the fields
 * in declaration order (strings as UTF, lists as int32 count + items, maps as int32 count + key/value UTF pairs).
 */
public sealed interface MetadataCommand {
    record CreateTopic(TopicRecord topic) implements MetadataCommand {}

    record DeleteTopic(String name) implements MetadataCommand {}

    record AddPartitions(String name, List<List<Integer>> newAssignments) implements MetadataCommand {}

    /** Reserves {@code count} producer ids; the reply carries the first one. */
    record AllocateProducerIds(int count) implements MetadataCommand {}

    /** A partition's Raft group reports its leader; applied only if the epoch is not older than the known one. */
    record ReportLeader(String topic, int partition, int leader, int epoch) implements MetadataCommand {}

    default byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            if (this instanceof CreateTopic c) {
                out.writeByte(1);
                writeTopic(out, c.topic());
            } else if (this instanceof DeleteTopic d) {
                out.writeByte(2);
                out.writeUTF(d.name());
            } else if (this instanceof AddPartitions a) {
                out.writeByte(3);
                out.writeUTF(a.name());
                writeAssignments(out, a.newAssignments());
            } else if (this instanceof AllocateProducerIds p) {
                out.writeByte(4);
                out.writeInt(p.count());
            } else if (this instanceof ReportLeader r) {
                out.writeByte(5);
                out.writeUTF(r.topic());
                out.writeInt(r.partition());
                out.writeInt(r.leader());
                out.writeInt(r.epoch());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static MetadataCommand decode(DataInput in) throws IOException {
        byte type = in.readByte();
        return switch (type) {
            case 1 -> new CreateTopic(readTopic(in));
            case 2 -> new DeleteTopic(in.readUTF());
            case 3 -> new AddPartitions(in.readUTF(), readAssignments(in));
            case 4 -> new AllocateProducerIds(in.readInt());
            case 5 -> new ReportLeader(in.readUTF(), in.readInt(), in.readInt(), in.readInt());
            default -> throw new IOException("unknown metadata command type " + type);
        };
    }

    static void writeTopic(DataOutput out, TopicRecord t) throws IOException {
        out.writeUTF(t.name());
        out.writeLong(t.topicId().getMostSignificantBits());
        out.writeLong(t.topicId().getLeastSignificantBits());
        out.writeShort(t.replicationFactor());
        out.writeBoolean(t.internal());
        out.writeInt(t.configs().size());
        for (Map.Entry<String, String> e : t.configs().entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
        writeAssignments(out, t.assignments());
    }

    static TopicRecord readTopic(DataInput in) throws IOException {
        String name = in.readUTF();
        Uuid id = new Uuid(in.readLong(), in.readLong());
        short rf = in.readShort();
        boolean internal = in.readBoolean();
        int n = in.readInt();
        Map<String, String> configs = new HashMap<>();
        for (int i = 0; i < n; i++) {
            configs.put(in.readUTF(), in.readUTF());
        }
        return new TopicRecord(name, id, rf, configs, internal, readAssignments(in));
    }

    static void writeAssignments(DataOutput out, List<List<Integer>> assignments) throws IOException {
        out.writeInt(assignments.size());
        for (List<Integer> replicas : assignments) {
            out.writeInt(replicas.size());
            for (int r : replicas) {
                out.writeInt(r);
            }
        }
    }

    static List<List<Integer>> readAssignments(DataInput in) throws IOException {
        int n = in.readInt();
        List<List<Integer>> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int m = in.readInt();
            List<Integer> replicas = new ArrayList<>(m);
            for (int j = 0; j < m; j++) {
                replicas.add(in.readInt());
            }
            out.add(replicas);
        }
        return out;
    }
}
