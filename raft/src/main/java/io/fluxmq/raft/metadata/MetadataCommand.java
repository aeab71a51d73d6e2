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
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.quota.ClientQuotaEntity;

/**
 * A change to cluster metadata, as carried in the metadata Raft log. Encoding: {@code type:int8} then the fields
 * in declaration order (strings as UTF, lists as int32 count + items, maps as int32 count + key/value UTF pairs,
 * node states as int8 ordinal of {@link NodeRecord.NodeState}: 0 UP, 1 DOWN). Types: 1 CreateTopic, 2 DeleteTopic,
 * 3 AddPartitions, 4 AllocateProducerIds, 5 ReportLeader, 6 RegisterNode, 7 SetNodeState, 8 Barrier,
 * 9 AlterTopicConfigs ({@code name UTF | replace:bool | set map | delete list of UTF}),
 * 10 ReassignPartition ({@code topic UTF | partition int32 | cancel:bool | target list of int32}),
 * 11 CompleteReassignment ({@code topic UTF | partition int32 | target list of int32}),
 * 12 CreateAcls and 13 DeleteAcls (a list of ACL bindings as {@link AclRecords} writes it),
 * 14 RegisterNode of a node with a rack (the type 6 fields, then {@code rack UTF}; a node without a rack is written as
 * type 6, which older builds read), 15 SetNodeMembership ({@code nodeId int32 | membership int8}: ordinal of
 * {@link NodeRecord.Membership}), 16 AlterScramCredentials (deletions as keys, then upsertions as credentials, as
 * {@link ScramRecords} writes them), 17 AlterPartitionIsr ({@code leader int32 | count int32 | (topic UTF | partition
 * int32 | leaderEpoch int32 | partitionEpoch int32 | isr list of int32)*}), 18 ReportLeaders ({@code leader int32 |
 * count int32 | (topic UTF | partition int32 | epoch int32)*}), 19 AlterClientQuotas (a list of quota alterations as
 * {@link ClientQuotaRecords} writes them), 20 CreateTopic with a first leader epoch (the type 1 fields, then
 * {@code firstLeaderEpoch int32}; one without is written as type 1, which older builds read), 21 AlterBrokerConfigs
 * ({@code entity UTF | set map | delete list of UTF}), 22 ReserveNodeId ({@code atLeast int32}).
 */
public sealed interface MetadataCommand {
    /**
     * Creates a topic. With a {@code firstLeaderEpoch} above 0 (the multi-Raft engine, whose new group's preferred
     * replica campaigns at once and wins term 1 unless it is slow), metadata names each new partition's first replica
     * its leader at that epoch, as Kafka's controller names a new partition's leader: the leader that wins it has
     * nothing to report, and one that does not reports itself at that epoch or a later one, which replaces the guess.
     */
    record CreateTopic(TopicRecord topic, int firstLeaderEpoch) implements MetadataCommand {
        public CreateTopic(TopicRecord topic) {
            this(topic, 0);
        }
    }

    record DeleteTopic(String name) implements MetadataCommand {}

    record AddPartitions(String name, List<List<Integer>> newAssignments) implements MetadataCommand {}

    /** Reserves {@code count} producer ids; the reply carries the first one. */
    record AllocateProducerIds(int count) implements MetadataCommand {}

    /**
     * Reserves a node id for a node that joins with {@code node.id=-1}: the lowest id that is at least
     * {@code atLeast} (the controller's {@code reserved.broker.max.id} + 1, above every id in its {@code cluster.nodes}),
     * above every id reserved before and above every node in metadata; the reply carries it. The reservation is only a
     * number: the node becomes a member when it registers with it.
     */
    record ReserveNodeId(int atLeast) implements MetadataCommand {}

    /** A partition's Raft group reports its leader; applied only if the epoch is not older than the known one. */
    record ReportLeader(String topic, int partition, int leader, int epoch) implements MetadataCommand {}

    /**
     * Node {@code leader} reports itself the leader of many partitions at once (each applied as a {@link ReportLeader}
     * would be, in one metadata change): what a node sends when thousands of its groups elect together.
     */
    record ReportLeaders(int leader, List<LedPartition> partitions) implements MetadataCommand {
        public ReportLeaders {
            partitions = List.copyOf(partitions);
        }
    }

    /** One partition of a {@link ReportLeaders}: led at {@code epoch} (its Raft term). */
    record LedPartition(String topic, int partition, int epoch) {
    }

    /**
     * A node (re-)registers: its endpoint, rack, version and incarnation replace the old record, and it is UP. Its
     * membership is not part of a registration: a known node keeps its own, a new one is ACTIVE.
     */
    record RegisterNode(NodeRecord node) implements MetadataCommand {}

    /**
     * An operator decommissions (DECOMMISSIONING) or recommissions (ACTIVE) a node, or the controller records that a
     * decommissioning node holds no replica any more (DECOMMISSIONED; refused while it still holds one).
     */
    record SetNodeMembership(int nodeId, NodeRecord.Membership membership) implements MetadataCommand {}

    /**
     * The controller leader marks a node UP or DOWN. Applied only if {@code incarnation} is the registered one
     * ({@link NodeRecord#NEVER_REGISTERED} for a node without a record, which may only be marked DOWN), so a decision
     * about a process that has since re-registered is ignored.
     */
    record SetNodeState(int nodeId, long incarnation, NodeRecord.NodeState state) implements MetadataCommand {}

    /**
     * Changes nothing; its reply carries the Raft index it was committed at. A node whose metadata replica has applied
     * that index has seen every change committed before it was sent (the catch-up barrier of {@code Reconciler}).
     */
    record Barrier() implements MetadataCommand {}

    /**
     * Changes a topic's config overrides: with {@code replace} the overrides become exactly {@code set} (AlterConfigs),
     * otherwise {@code set} is put over the current ones and the keys in {@code delete} removed
     * (IncrementalAlterConfigs). Values were validated by the node that submitted it; the reply carries the Raft
     * index it applied at.
     */
    record AlterTopicConfigs(String name, boolean replace, Map<String, String> set, List<String> delete)
            implements MetadataCommand {
        public AlterTopicConfigs {
            set = Map.copyOf(set);
            delete = List.copyOf(delete);
        }
    }

    /**
     * Sets and deletes dynamic broker configs of {@code entity}: {@link ClusterState#DEFAULT_BROKER} for the
     * cluster-wide defaults (Kafka's {@code --entity-default}), else a node id. Values were validated by the node that
     * submitted it; the reply carries the Raft index it applied at.
     */
    record AlterBrokerConfigs(String entity, Map<String, String> set, List<String> delete) implements MetadataCommand {
        public AlterBrokerConfigs {
            set = Map.copyOf(set);
            delete = List.copyOf(delete);
        }
    }

    /**
     * Starts the reassignment of a partition to {@code target} (or moves the target of one in progress), or with
     * {@code target == null} cancels the one in progress: its target becomes the original replicas again. The
     * partition's Raft leader then changes the group's members toward the target and commits
     * {@link CompleteReassignment} (see {@code ReassignmentDriver} in the node).
     */
    record ReassignPartition(String topic, int partition, List<Integer> target) implements MetadataCommand {
        public ReassignPartition {
            target = target == null ? null : List.copyOf(target);
        }
    }

    /**
     * The partition's Raft group has exactly the members {@code target}: its assignment becomes the target and the
     * reassignment ends. Ignored (with an error reply) unless a reassignment to that target is in progress.
     */
    record CompleteReassignment(String topic, int partition, List<Integer> target) implements MetadataCommand {
        public CompleteReassignment {
            target = List.copyOf(target);
        }
    }

    /**
     * Adds ACL bindings (an existing one stays, as in Kafka). Validated by the node that submitted it; the reply
     * carries the Raft index it applied at.
     */
    record CreateAcls(List<AclBinding> acls) implements MetadataCommand {
        public CreateAcls {
            acls = List.copyOf(acls);
        }
    }

    /**
     * Removes exactly these ACL bindings (those absent are skipped). The submitting node chose them with Kafka's
     * filters from a copy of the metadata caught up with a barrier; the reply carries the Raft index it applied at.
     */
    record DeleteAcls(List<AclBinding> acls) implements MetadataCommand {
        public DeleteAcls {
            acls = List.copyOf(acls);
        }
    }

    /**
     * Removes the SCRAM credentials of {@code deletions} (those absent are skipped) and adds or replaces
     * {@code upsertions}, as one change (Kafka's AlterUserScramCredentials). Validated by the node that submitted it,
     * which also checked the deletions against a copy of the metadata caught up with a barrier; the reply carries the
     * Raft index it applied at.
     */
    record AlterScramCredentials(List<ScramCredentialRecord.Key> deletions, List<ScramCredentialRecord> upsertions)
            implements MetadataCommand {
        public AlterScramCredentials {
            deletions = List.copyOf(deletions);
            upsertions = List.copyOf(upsertions);
        }
    }

    /**
     * Kafka's AlterPartition: the leader of partitions publishes their in-sync replicas, several partitions in one
     * command. Each change is applied or refused on its own (see {@code IsrApply}): refused with
     * {@code FENCED_LEADER_EPOCH} when metadata knows a newer leader epoch, {@code INVALID_UPDATE_VERSION} when, in the
     * same leader epoch, it was computed from another partition epoch than the current one.
     */
    record AlterPartitionIsr(int leader, List<IsrChange> changes) implements MetadataCommand {
        public AlterPartitionIsr {
            changes = List.copyOf(changes);
        }
    }

    /**
     * One partition of an {@link AlterPartitionIsr}: its new ISR, computed by its leader in {@code leaderEpoch} (the
     * Raft term) from the ISR record of {@code partitionEpoch} (0 when it knew none).
     */
    record IsrChange(String topic, int partition, int leaderEpoch, int partitionEpoch, List<Integer> isr) {
        public IsrChange {
            isr = List.copyOf(isr);
        }
    }

    /**
     * Kafka's AlterClientQuotas: per entity (user, client-id or ip components, a {@code null} name being the default
     * entity), quota values to set and keys to remove; an entity left without values is removed. Validated by the node
     * that submitted it (Kafka's checks); the reply carries the Raft index it applied at.
     */
    record AlterClientQuotas(List<QuotaAlteration> alterations) implements MetadataCommand {
        public AlterClientQuotas {
            alterations = List.copyOf(alterations);
        }
    }

    /** One entity of an {@link AlterClientQuotas}: the values it sets and the keys it removes. */
    record QuotaAlteration(ClientQuotaEntity entity, Map<String, Double> set,
                           List<String> remove) {
        public QuotaAlteration {
            entity = ClientQuotaRecords.entity(entity.entries());
            set = Map.copyOf(set);
            remove = List.copyOf(remove);
        }
    }

    default byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            if (this instanceof CreateTopic c && c.firstLeaderEpoch() > 0) {
                out.writeByte(20);
                writeTopic(out, c.topic());
                out.writeInt(c.firstLeaderEpoch());
            } else if (this instanceof CreateTopic c) {
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
            } else if (this instanceof RegisterNode n) {
                out.writeByte(n.node().rack().isEmpty() ? 6 : 14);
                writeNode(out, n.node());
                if (!n.node().rack().isEmpty()) {
                    out.writeUTF(n.node().rack());
                }
            } else if (this instanceof SetNodeMembership m) {
                out.writeByte(15);
                out.writeInt(m.nodeId());
                out.writeByte(m.membership().ordinal());
            } else if (this instanceof SetNodeState n) {
                out.writeByte(7);
                out.writeInt(n.nodeId());
                out.writeLong(n.incarnation());
                out.writeByte(n.state().ordinal());
            } else if (this instanceof Barrier) {
                out.writeByte(8);
            } else if (this instanceof AlterTopicConfigs a) {
                out.writeByte(9);
                out.writeUTF(a.name());
                out.writeBoolean(a.replace());
                writeMap(out, a.set());
                out.writeInt(a.delete().size());
                for (String key : a.delete()) {
                    out.writeUTF(key);
                }
            } else if (this instanceof ReserveNodeId r) {
                out.writeByte(22);
                out.writeInt(r.atLeast());
            } else if (this instanceof AlterBrokerConfigs b) {
                out.writeByte(21);
                out.writeUTF(b.entity());
                writeMap(out, b.set());
                out.writeInt(b.delete().size());
                for (String key : b.delete()) {
                    out.writeUTF(key);
                }
            } else if (this instanceof ReassignPartition r) {
                out.writeByte(10);
                out.writeUTF(r.topic());
                out.writeInt(r.partition());
                out.writeBoolean(r.target() == null);
                writeInts(out, r.target() == null ? List.of() : r.target());
            } else if (this instanceof CompleteReassignment c) {
                out.writeByte(11);
                out.writeUTF(c.topic());
                out.writeInt(c.partition());
                writeInts(out, c.target());
            } else if (this instanceof CreateAcls c) {
                out.writeByte(12);
                AclRecords.write(out, c.acls());
            } else if (this instanceof DeleteAcls d) {
                out.writeByte(13);
                AclRecords.write(out, d.acls());
            } else if (this instanceof ReportLeaders r) {
                out.writeByte(18);
                out.writeInt(r.leader());
                out.writeInt(r.partitions().size());
                for (LedPartition led : r.partitions()) {
                    out.writeUTF(led.topic());
                    out.writeInt(led.partition());
                    out.writeInt(led.epoch());
                }
            } else if (this instanceof AlterPartitionIsr a) {
                out.writeByte(17);
                out.writeInt(a.leader());
                out.writeInt(a.changes().size());
                for (IsrChange c : a.changes()) {
                    out.writeUTF(c.topic());
                    out.writeInt(c.partition());
                    out.writeInt(c.leaderEpoch());
                    out.writeInt(c.partitionEpoch());
                    writeInts(out, c.isr());
                }
            } else if (this instanceof AlterClientQuotas q) {
                out.writeByte(19);
                ClientQuotaRecords.writeAlterations(out, q.alterations());
            } else if (this instanceof AlterScramCredentials a) {
                out.writeByte(16);
                ScramRecords.writeKeys(out, a.deletions());
                ScramRecords.writeCredentials(out, a.upsertions());
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
            case 6 -> new RegisterNode(readNode(in));
            case 7 -> new SetNodeState(in.readInt(), in.readLong(), readState(in));
            case 8 -> new Barrier();
            case 9 -> new AlterTopicConfigs(in.readUTF(), in.readBoolean(), readMap(in), readStrings(in));
            case 10 -> {
                String topic = in.readUTF();
                int partition = in.readInt();
                boolean cancel = in.readBoolean();
                List<Integer> target = readInts(in);
                yield new ReassignPartition(topic, partition, cancel ? null : target);
            }
            case 11 -> new CompleteReassignment(in.readUTF(), in.readInt(), readInts(in));
            case 12 -> new CreateAcls(AclRecords.read(in));
            case 13 -> new DeleteAcls(AclRecords.read(in));
            case 14 -> {
                NodeRecord n = readNode(in);
                yield new RegisterNode(withExtension(n, in.readUTF(), NodeRecord.Membership.ACTIVE));
            }
            case 15 -> new SetNodeMembership(in.readInt(), readMembership(in));
            case 16 -> new AlterScramCredentials(ScramRecords.readKeys(in), ScramRecords.readCredentials(in));
            case 17 -> {
                int leader = in.readInt();
                int n = in.readInt();
                List<IsrChange> changes = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    changes.add(new IsrChange(in.readUTF(), in.readInt(), in.readInt(), in.readInt(), readInts(in)));
                }
                yield new AlterPartitionIsr(leader, changes);
            }
            case 18 -> {
                int leader = in.readInt();
                int n = in.readInt();
                List<LedPartition> led = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    led.add(new LedPartition(in.readUTF(), in.readInt(), in.readInt()));
                }
                yield new ReportLeaders(leader, led);
            }
            case 19 -> new AlterClientQuotas(ClientQuotaRecords.readAlterations(in));
            case 20 -> new CreateTopic(readTopic(in), in.readInt());
            case 21 -> new AlterBrokerConfigs(in.readUTF(), readMap(in), readStrings(in));
            case 22 -> new ReserveNodeId(in.readInt());
            default -> throw new IOException("unknown metadata command type " + type);
        };
    }

    static void writeTopic(DataOutput out, TopicRecord t) throws IOException {
        out.writeUTF(t.name());
        out.writeLong(t.topicId().getMostSignificantBits());
        out.writeLong(t.topicId().getLeastSignificantBits());
        out.writeShort(t.replicationFactor());
        out.writeBoolean(t.internal());
        writeMap(out, t.configs());
        writeAssignments(out, t.assignments());
    }

    static void writeMap(DataOutput out, Map<String, String> map) throws IOException {
        out.writeInt(map.size());
        for (Map.Entry<String, String> e : map.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
    }

    static Map<String, String> readMap(DataInput in) throws IOException {
        int n = in.readInt();
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < n; i++) {
            map.put(in.readUTF(), in.readUTF());
        }
        return map;
    }

    private static List<String> readStrings(DataInput in) throws IOException {
        int n = in.readInt();
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(in.readUTF());
        }
        return out;
    }

    static TopicRecord readTopic(DataInput in) throws IOException {
        String name = in.readUTF();
        Uuid id = new Uuid(in.readLong(), in.readLong());
        short rf = in.readShort();
        boolean internal = in.readBoolean();
        Map<String, String> configs = readMap(in);
        return new TopicRecord(name, id, rf, configs, internal, readAssignments(in));
    }

    /** Node: id int32, host UTF, kafka/raft/http/control ports int32, version UTF, incarnation int64, state int8. */
    static void writeNode(DataOutput out, NodeRecord n) throws IOException {
        out.writeInt(n.id());
        out.writeUTF(n.host());
        out.writeInt(n.kafkaPort());
        out.writeInt(n.raftPort());
        out.writeInt(n.httpPort());
        out.writeInt(n.controlPort());
        out.writeUTF(n.version());
        out.writeLong(n.incarnation());
        out.writeByte(n.state().ordinal());
    }

    static NodeRecord readNode(DataInput in) throws IOException {
        return new NodeRecord(in.readInt(), in.readUTF(), in.readInt(), in.readInt(), in.readInt(), in.readInt(),
                in.readUTF(), in.readLong(), readState(in));
    }

    static NodeRecord withExtension(NodeRecord n, String rack, NodeRecord.Membership membership) {
        return new NodeRecord(n.id(), n.host(), n.kafkaPort(), n.raftPort(), n.httpPort(), n.controlPort(), n.version(),
                n.incarnation(), n.state(), rack, membership);
    }

    static NodeRecord.Membership readMembership(DataInput in) throws IOException {
        int ordinal = in.readByte();
        NodeRecord.Membership[] values = NodeRecord.Membership.values();
        if (ordinal < 0 || ordinal >= values.length) {
            throw new IOException("unknown node membership " + ordinal);
        }
        return values[ordinal];
    }

    private static NodeRecord.NodeState readState(DataInput in) throws IOException {
        int ordinal = in.readByte();
        NodeRecord.NodeState[] states = NodeRecord.NodeState.values();
        if (ordinal < 0 || ordinal >= states.length) {
            throw new IOException("unknown node state " + ordinal);
        }
        return states[ordinal];
    }

    static void writeAssignments(DataOutput out, List<List<Integer>> assignments) throws IOException {
        out.writeInt(assignments.size());
        for (List<Integer> replicas : assignments) {
            writeInts(out, replicas);
        }
    }

    static List<List<Integer>> readAssignments(DataInput in) throws IOException {
        int n = in.readInt();
        List<List<Integer>> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(readInts(in));
        }
        return out;
    }

    /** A list of int32: count int32 then the items. */
    static void writeInts(DataOutput out, List<Integer> ints) throws IOException {
        out.writeInt(ints.size());
        for (int r : ints) {
            out.writeInt(r);
        }
    }

    static List<Integer> readInts(DataInput in) throws IOException {
        int m = in.readInt();
        List<Integer> out = new ArrayList<>(m);
        for (int j = 0; j < m; j++) {
            out.add(in.readInt());
        }
        return out;
    }
}
