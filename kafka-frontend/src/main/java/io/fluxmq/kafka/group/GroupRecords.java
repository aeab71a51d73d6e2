package io.fluxmq.kafka.group;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.SimpleRecord;

/**
 * The records FluxMQ writes to {@code __consumer_offsets}. They are FluxMQ's own format, not Kafka's (the topic is
 * internal and only this coordinator reads it). All integers big-endian; a string is an int16 length (-1 for null)
 * followed by UTF-8 bytes. A record whose value is null is a tombstone: the key's entry is deleted. Readers skip keys
 * of unknown type and values of unknown version, so later versions can add records.
 *
 * <pre>
 * key   = type:int16 group:string [topic:string partition:int32]        (topic/partition only for type 0)
 *         type:int16(2) group:string producerId:int64 topic:string partition:int32         (type 2)
 * type 0, offset commit  value = version:int16(0) offset:int64 leaderEpoch:int32 metadata:string commitTimeMs:int64
 * type 2, transactional offset commit (TxnOffsetCommit), pending until the producer's transaction ends: the value of
 *         type 0; it takes effect when a COMMIT marker of the producer follows in the partition, and is dropped on
 *         an ABORT marker
 * type 1, group metadata value = version:int16(0, 1 or 2) groupType:int8(0 classic, 1 consumer) protocolType:string
 *                                generationOrEpoch:int32 protocolName:string stateTimeMs:int64
 *         version 1 (a classic group in Stable) goes on with
 *                                leader:string memberCount:int32 member*
 *         member = memberId:string instanceId:string clientId:string clientHost:string sessionTimeoutMs:int32
 *                  rebalanceTimeoutMs:int32 protocolCount:int32 (name:string metadata:bytes)* assignment:bytes
 *         version 2 (a consumer-protocol group with members; generationOrEpoch is the group epoch, protocolName the
 *         assignor) goes on with
 *                                assignmentEpoch:int32 topicCount:int32 (topicId:uuid partitionCount:int32)*
 *                                memberCount:int32 consumerMember*
 *         consumerMember = memberId:string instanceId:string rackId:string clientId:string clientHost:string
 *                  rebalanceTimeoutMs:int32 topicNameCount:int32 topicName:string* topicRegex:string
 *                  serverAssignor:string memberEpoch:int32 previousMemberEpoch:int32
 *                  state:int8(0 stable, 1 unrevoked partitions, 2 unreleased partitions) assigned:partitions
 *                  pendingRevocation:partitions target:partitions resolvedTopicCount:int32 topicId:uuid*
 *         partitions = topicCount:int32 (topicId:uuid partitionCount:int32 partition:int32*)*
 *         bytes  = int32 length followed by the bytes; uuid = its most and least significant int64
 * </pre>
 *
 * The group record carries what must survive a coordinator move: for every group its type and generation and since
 * when it is in its state (which offset expiry counts from); for a classic group in Stable also its leader and members
 * with their protocols and assignments, as Kafka's group metadata record does, so that a new coordinator accepts
 * their heartbeats and (transactional) offset commits of that generation instead of making them rejoin. A consumer
 * (KIP-848) group with members is written whole (Kafka writes the same state as several records): the assignment
 * epoch and the partition counts it was computed from, and for every member its subscription, epochs, reconciliation
 * state, the partitions it owns, must still revoke and is to get, and the topics its subscription resolved to; a new
 * coordinator goes on with the same members at the same epochs. A classic group rebalancing is written without
 * members: they rejoin. Versions 1 and 2 are written only with members, so a build that knows version 0 alone still
 * reads every other group record (and keeps a group's previous record where it skips a newer one).
 */
public final class GroupRecords {
    static final short OFFSET_KEY = 0;
    static final short GROUP_KEY = 1;
    static final short PENDING_OFFSET_KEY = 2;

    private GroupRecords() {
    }

    /** One decoded record of the offsets topic. */
    public sealed interface Entry permits OffsetEntry, GroupEntry, PendingOffsetEntry {
        String group();
    }

    /** An offset commit; {@code value} null is a tombstone. */
    public record OffsetEntry(String group, TopicPartition partition, CommittedOffset value) implements Entry {}

    /** An offset committed within producer {@code producerId}'s transaction; applies with its COMMIT marker. */
    public record PendingOffsetEntry(String group, long producerId, TopicPartition partition, CommittedOffset value)
            implements Entry {}

    /** A group's metadata; {@code value} null is a tombstone (group deleted). */
    public record GroupEntry(String group, GroupSnapshot value) implements Entry {}

    /**
     * What the group record stores; {@code leaderId} and {@code members} only for a classic group in Stable,
     * {@code consumer} only for a consumer-protocol group with members.
     */
    public record GroupSnapshot(GroupType type, String protocolType, int generation, String protocolName,
                                long stateTimestampMs, String leaderId, List<MemberSnapshot> members,
                                ConsumerGroupSnapshot consumer) {
        public GroupSnapshot {
            members = List.copyOf(members);
        }

        /** A group without members (a classic group not in Stable, or an empty consumer-protocol group). */
        public GroupSnapshot(GroupType type, String protocolType, int generation, String protocolName,
                             long stateTimestampMs) {
            this(type, protocolType, generation, protocolName, stateTimestampMs, null, List.of(), null);
        }

        /** A classic group in Stable with its leader and members. */
        public GroupSnapshot(GroupType type, String protocolType, int generation, String protocolName,
                             long stateTimestampMs, String leaderId, List<MemberSnapshot> members) {
            this(type, protocolType, generation, protocolName, stateTimestampMs, leaderId, members, null);
        }
    }

    /**
     * A consumer-protocol group's assignment state: the epoch of its target assignment, the partition counts of the
     * subscribed topics it was computed from, and its members.
     */
    public record ConsumerGroupSnapshot(int assignmentEpoch, Map<Uuid, Integer> partitionCounts,
                                        List<ConsumerMemberSnapshot> members) {
        public ConsumerGroupSnapshot {
            partitionCounts = Map.copyOf(partitionCounts);
            members = List.copyOf(members);
        }
    }

    /**
     * A member of a consumer-protocol group. {@code state}: 0 stable, 1 unrevoked partitions, 2 unreleased partitions
     * (see {@link ConsumerMember.State}); {@code resolvedTopics} the topic ids its subscription resolved to.
     */
    public record ConsumerMemberSnapshot(String memberId, String instanceId, String rackId, String clientId,
                                         String clientHost, int rebalanceTimeoutMs, List<String> subscribedTopicNames,
                                         String subscribedTopicRegex, String serverAssignor, int memberEpoch,
                                         int previousMemberEpoch, int state, Map<Uuid, Set<Integer>> assigned,
                                         Map<Uuid, Set<Integer>> pendingRevocation, Map<Uuid, Set<Integer>> target,
                                         Set<Uuid> resolvedTopics) {
        public ConsumerMemberSnapshot {
            subscribedTopicNames = List.copyOf(subscribedTopicNames);
            assigned = ConsumerMember.copy(assigned);
            pendingRevocation = ConsumerMember.copy(pendingRevocation);
            target = ConsumerMember.copy(target);
            resolvedTopics = new TreeSet<>(resolvedTopics);
        }
    }

    /** A member of a classic group in Stable: its identity, timeouts, protocols (in its order) and assignment. */
    public record MemberSnapshot(String memberId, String instanceId, String clientId, String clientHost,
                                 int sessionTimeoutMs, int rebalanceTimeoutMs, Map<String, byte[]> protocols,
                                 byte[] assignment) {}

    public static MemoryRecords batch(List<Entry> entries, long nowMs) {
        SimpleRecord[] records = entries.stream().map(e -> encode(e, nowMs)).toArray(SimpleRecord[]::new);
        return MemoryRecords.withRecords(Compression.NONE, records);
    }

    static SimpleRecord encode(Entry entry, long nowMs) {
        if (entry instanceof OffsetEntry o) {
            return new SimpleRecord(nowMs, offsetKey(o), o.value() == null ? null : offsetValue(o.value()));
        }
        if (entry instanceof PendingOffsetEntry p) {
            return new SimpleRecord(nowMs, pendingKey(p), offsetValue(p.value()));
        }
        GroupEntry g = (GroupEntry) entry;
        return new SimpleRecord(nowMs, groupKey(g.group()), g.value() == null ? null : groupValue(g.value()));
    }

    /** Decodes a record; null when its key type or value version is not one this version knows. */
    public static Entry decode(Record record) {
        if (!record.hasKey()) {
            return null;
        }
        ByteBuffer key = record.key();
        short type = key.getShort();
        String group = readString(key);
        ByteBuffer value = record.hasValue() ? record.value() : null;
        if (type == OFFSET_KEY) {
            TopicPartition tp = new TopicPartition(readString(key), key.getInt());
            if (value == null) {
                return new OffsetEntry(group, tp, null);
            }
            if (value.getShort() != 0) {
                return null;
            }
            return new OffsetEntry(group, tp, new CommittedOffset(value.getLong(), value.getInt(), readString(value),
                    value.getLong()));
        }
        if (type == PENDING_OFFSET_KEY) {
            long producerId = key.getLong();
            TopicPartition tp = new TopicPartition(readString(key), key.getInt());
            if (value == null || value.getShort() != 0) {
                return null;
            }
            return new PendingOffsetEntry(group, producerId, tp, new CommittedOffset(value.getLong(), value.getInt(),
                    readString(value), value.getLong()));
        }
        if (type == GROUP_KEY) {
            if (value == null) {
                return new GroupEntry(group, null);
            }
            short version = value.getShort();
            if (version < 0 || version > 2) {
                return null;
            }
            GroupType groupType = value.get() == 1 ? GroupType.CONSUMER : GroupType.CLASSIC;
            String protocolType = readString(value);
            int generation = value.getInt();
            String protocolName = readString(value);
            long stateTimestampMs = value.getLong();
            if (version == 0) {
                return new GroupEntry(group, new GroupSnapshot(groupType, protocolType, generation, protocolName,
                        stateTimestampMs));
            }
            if (version == 2) {
                return new GroupEntry(group, new GroupSnapshot(groupType, protocolType, generation, protocolName,
                        stateTimestampMs, null, List.of(), readConsumerGroup(value)));
            }
            String leaderId = readString(value);
            int count = value.getInt();
            List<MemberSnapshot> members = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                members.add(readMember(value));
            }
            return new GroupEntry(group, new GroupSnapshot(groupType, protocolType, generation, protocolName,
                    stateTimestampMs, leaderId, members));
        }
        return null;
    }

    private static byte[] offsetKey(OffsetEntry o) {
        byte[] group = utf8(o.group());
        byte[] topic = utf8(o.partition().topic());
        return ByteBuffer.allocate(2 + 2 + group.length + 2 + topic.length + 4).putShort(OFFSET_KEY)
                .putShort((short) group.length).put(group).putShort((short) topic.length).put(topic)
                .putInt(o.partition().partition()).array();
    }

    private static byte[] pendingKey(PendingOffsetEntry p) {
        byte[] group = utf8(p.group());
        byte[] topic = utf8(p.partition().topic());
        return ByteBuffer.allocate(2 + 2 + group.length + 8 + 2 + topic.length + 4).putShort(PENDING_OFFSET_KEY)
                .putShort((short) group.length).put(group).putLong(p.producerId()).putShort((short) topic.length)
                .put(topic).putInt(p.partition().partition()).array();
    }

    private static byte[] offsetValue(CommittedOffset v) {
        byte[] metadata = v.metadata() == null ? null : utf8(v.metadata());
        ByteBuffer b = ByteBuffer.allocate(2 + 8 + 4 + 2 + (metadata == null ? 0 : metadata.length) + 8);
        b.putShort((short) 0).putLong(v.offset()).putInt(v.leaderEpoch());
        putString(b, metadata);
        return b.putLong(v.commitTimestampMs()).array();
    }

    private static byte[] groupKey(String group) {
        byte[] g = utf8(group);
        return ByteBuffer.allocate(2 + 2 + g.length).putShort(GROUP_KEY).putShort((short) g.length).put(g).array();
    }

    private static MemberSnapshot readMember(ByteBuffer b) {
        String memberId = readString(b);
        String instanceId = readString(b);
        String clientId = readString(b);
        String clientHost = readString(b);
        int sessionTimeoutMs = b.getInt();
        int rebalanceTimeoutMs = b.getInt();
        int protocolCount = b.getInt();
        Map<String, byte[]> protocols = new LinkedHashMap<>();
        for (int i = 0; i < protocolCount; i++) {
            protocols.put(readString(b), readBytes(b));
        }
        return new MemberSnapshot(memberId, instanceId, clientId, clientHost, sessionTimeoutMs, rebalanceTimeoutMs,
                protocols, readBytes(b));
    }

    private static ConsumerGroupSnapshot readConsumerGroup(ByteBuffer b) {
        int assignmentEpoch = b.getInt();
        int topicCount = b.getInt();
        Map<Uuid, Integer> counts = new TreeMap<>();
        for (int i = 0; i < topicCount; i++) {
            counts.put(readUuid(b), b.getInt());
        }
        int memberCount = b.getInt();
        List<ConsumerMemberSnapshot> members = new ArrayList<>(memberCount);
        for (int i = 0; i < memberCount; i++) {
            String memberId = readString(b);
            String instanceId = readString(b);
            String rackId = readString(b);
            String clientId = readString(b);
            String clientHost = readString(b);
            int rebalanceTimeoutMs = b.getInt();
            int nameCount = b.getInt();
            List<String> names = new ArrayList<>(nameCount);
            for (int n = 0; n < nameCount; n++) {
                names.add(readString(b));
            }
            String regex = readString(b);
            String assignor = readString(b);
            int memberEpoch = b.getInt();
            int previousMemberEpoch = b.getInt();
            int state = b.get();
            Map<Uuid, Set<Integer>> assigned = readPartitions(b);
            Map<Uuid, Set<Integer>> pending = readPartitions(b);
            Map<Uuid, Set<Integer>> target = readPartitions(b);
            int resolvedCount = b.getInt();
            Set<Uuid> resolved = new TreeSet<>();
            for (int n = 0; n < resolvedCount; n++) {
                resolved.add(readUuid(b));
            }
            members.add(new ConsumerMemberSnapshot(memberId, instanceId, rackId, clientId, clientHost,
                    rebalanceTimeoutMs, names, regex, assignor, memberEpoch, previousMemberEpoch, state, assigned,
                    pending, target, resolved));
        }
        return new ConsumerGroupSnapshot(assignmentEpoch, counts, members);
    }

    private static Map<Uuid, Set<Integer>> readPartitions(ByteBuffer b) {
        int topicCount = b.getInt();
        Map<Uuid, Set<Integer>> out = new TreeMap<>();
        for (int i = 0; i < topicCount; i++) {
            Uuid topic = readUuid(b);
            int count = b.getInt();
            Set<Integer> partitions = new TreeSet<>();
            for (int n = 0; n < count; n++) {
                partitions.add(b.getInt());
            }
            out.put(topic, partitions);
        }
        return out;
    }

    private static Uuid readUuid(ByteBuffer b) {
        return new Uuid(b.getLong(), b.getLong());
    }

    private static void writeConsumerGroup(DataOutputStream out, ConsumerGroupSnapshot g) throws IOException {
        out.writeInt(g.assignmentEpoch());
        out.writeInt(g.partitionCounts().size());
        for (Map.Entry<Uuid, Integer> e : new TreeMap<>(g.partitionCounts()).entrySet()) {
            writeUuid(out, e.getKey());
            out.writeInt(e.getValue());
        }
        out.writeInt(g.members().size());
        for (ConsumerMemberSnapshot m : g.members()) {
            writeString(out, m.memberId());
            writeString(out, m.instanceId());
            writeString(out, m.rackId());
            writeString(out, m.clientId());
            writeString(out, m.clientHost());
            out.writeInt(m.rebalanceTimeoutMs());
            out.writeInt(m.subscribedTopicNames().size());
            for (String name : m.subscribedTopicNames()) {
                writeString(out, name);
            }
            writeString(out, m.subscribedTopicRegex());
            writeString(out, m.serverAssignor());
            out.writeInt(m.memberEpoch());
            out.writeInt(m.previousMemberEpoch());
            out.writeByte(m.state());
            writePartitions(out, m.assigned());
            writePartitions(out, m.pendingRevocation());
            writePartitions(out, m.target());
            out.writeInt(m.resolvedTopics().size());
            for (Uuid topic : m.resolvedTopics()) {
                writeUuid(out, topic);
            }
        }
    }

    private static void writePartitions(DataOutputStream out, Map<Uuid, Set<Integer>> partitions) throws IOException {
        out.writeInt(partitions.size());
        for (Map.Entry<Uuid, Set<Integer>> e : partitions.entrySet()) {
            writeUuid(out, e.getKey());
            out.writeInt(e.getValue().size());
            for (int p : e.getValue()) {
                out.writeInt(p);
            }
        }
    }

    private static void writeUuid(DataOutputStream out, Uuid id) throws IOException {
        out.writeLong(id.getMostSignificantBits());
        out.writeLong(id.getLeastSignificantBits());
    }

    private static byte[] groupValue(GroupSnapshot s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) { // big-endian, as the rest of the format
            boolean withMembers = !s.members().isEmpty();
            out.writeShort(s.consumer() != null ? 2 : withMembers ? 1 : 0);
            out.writeByte(s.type() == GroupType.CONSUMER ? 1 : 0);
            writeString(out, s.protocolType());
            out.writeInt(s.generation());
            writeString(out, s.protocolName());
            out.writeLong(s.stateTimestampMs());
            if (s.consumer() != null) {
                writeConsumerGroup(out, s.consumer());
            } else if (withMembers) {
                writeString(out, s.leaderId());
                out.writeInt(s.members().size());
                for (MemberSnapshot m : s.members()) {
                    writeMember(out, m);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    private static void writeMember(DataOutputStream out, MemberSnapshot m) throws IOException {
        writeString(out, m.memberId());
        writeString(out, m.instanceId());
        writeString(out, m.clientId());
        writeString(out, m.clientHost());
        out.writeInt(m.sessionTimeoutMs());
        out.writeInt(m.rebalanceTimeoutMs());
        out.writeInt(m.protocols().size());
        for (Map.Entry<String, byte[]> p : m.protocols().entrySet()) {
            writeString(out, p.getKey());
            writeBytes(out, p.getValue());
        }
        writeBytes(out, m.assignment());
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeShort(-1);
        } else {
            byte[] b = utf8(s);
            out.writeShort(b.length);
            out.write(b);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(ByteBuffer b) {
        byte[] bytes = new byte[b.getInt()];
        b.get(bytes);
        return bytes;
    }

    private static void putString(ByteBuffer b, byte[] s) {
        if (s == null) {
            b.putShort((short) -1);
        } else {
            b.putShort((short) s.length).put(s);
        }
    }

    private static String readString(ByteBuffer b) {
        short length = b.getShort();
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > Short.MAX_VALUE) {
            throw new IllegalArgumentException("string of " + b.length + " bytes is too long for the offsets topic");
        }
        return b;
    }
}
