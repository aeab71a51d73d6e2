package io.fluxmq.raft.metadata;

import io.fluxmq.raft.storage.SnapshotFiles;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster metadata Raft group's state machine. Commands ({@link MetadataCommand}) are small and travel in the
 * Raft log itself; each applied command publishes a new immutable {@link ClusterState} to listeners. Validation that
 * depends on state (topic exists, unknown topic) happens here, in log order, so every replica decides the same.
 *
 * <p>Snapshot file format: {@code magic:int32 0x464c584d | version:int16 (=2) | nextProducerId:int64 |
 * topicCount:int32 | topics (MetadataCommand#writeTopic) | leaderCount:int32 | (topic UTF, partition, leader,
 * epoch)* | nodeCount:int32 | nodes (MetadataCommand#writeNode) | reassignmentCount:int32 | (topic UTF, partition
 * int32, original int32 list, target int32 list)*}. The reassignment section is written (as version 3) only while a
 * reassignment runs, otherwise the snapshot is version 2. Version 1 snapshots (no node section) still load with no
 * nodes, versions 1 and 2 with no reassignments.
 *
 * <p>ACLs: while ACL bindings exist the snapshot is version 4, which always has the reassignment section (count 0
 * when none runs) followed by {@code aclCount:int32 | bindings} ({@link AclRecords}); without ACLs nothing changes,
 * so older builds keep reading snapshots of clusters that use no ACLs. Versions 1 to 3 load with no ACLs.
 *
 * <p>Racks and membership: while some node has a rack or a membership other than ACTIVE the snapshot is version 5:
 * version 4 followed by {@code nodeExtensionCount:int32 | (id int32, rack UTF, membership int8)*} for those nodes.
 * Versions 1 to 4 load with every node ACTIVE and without a rack.
 *
 * <p>SCRAM credentials: while some exist the snapshot is version 6: version 5 (its node extension count 0 when no node
 * is extended) followed by the credentials as {@link ScramRecords#writeCredentials} writes them. Versions 1 to 5 load
 * without credentials.
 *
 * <p>In-sync replicas: while some partition has a published ISR the snapshot is version 7: version 6 (its credential
 * count 0 when there are none) followed by {@code isrCount:int32 | (topic UTF, partition int32, leader int32,
 * leaderEpoch int32, partitionEpoch int32, isr int32 list)*}. Versions 1 to 6 load without ISRs.
 *
 * <p>Client quotas: while some exist the snapshot is version 8: version 7 (its ISR count 0 when none is published)
 * followed by the quotas as {@link ClientQuotaRecords#writeQuotas} writes them. Versions 1 to 7 load without quotas.
 *
 * <p>Dynamic broker configs: while some exist the snapshot is version 9: version 8 (its quota count 0 when there are
 * none) followed by {@code entityCount:int32 | (entity UTF, configs map)*}. Versions 1 to 8 load without them.
 *
 * <p>Reserved node ids: once a node id was reserved for a joining node the snapshot is version 10: version 9 (its
 * entity count 0 when there are no dynamic broker configs) followed by {@code nextNodeId:int32}. Versions 1 to 9 load
 * with none reserved.
 */
public final class MetadataStateMachine extends BaseStateMachine {
    private static final Logger LOGGER = LoggerFactory.getLogger(MetadataStateMachine.class);
    private static final int MAGIC = 0x464c584d;
    private static final short SNAPSHOT_VERSION = 10;
    /** The first snapshot format with the ACL section. */
    private static final short ACL_SNAPSHOT_VERSION = 4;
    /** The first snapshot format with node racks and memberships. */
    private static final short NODE_EXTENSION_SNAPSHOT_VERSION = 5;
    /** The first snapshot format with SCRAM credentials. */
    private static final short SCRAM_SNAPSHOT_VERSION = 6;
    /** The first snapshot format with the in-sync replicas the partitions' leaders published. */
    private static final short ISR_SNAPSHOT_VERSION = 7;
    /** The first snapshot format with client quotas. */
    private static final short QUOTA_SNAPSHOT_VERSION = 8;
    /** The first snapshot format with dynamic broker configs. */
    private static final short BROKER_CONFIG_SNAPSHOT_VERSION = 9;
    /** The first snapshot format with the next node id to reserve. */
    private static final short NODE_ID_SNAPSHOT_VERSION = 10;

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private volatile RaftStorage raftStorage;
    private final List<Consumer<ClusterState>> listeners = new CopyOnWriteArrayList<>();
    private volatile ClusterState state = ClusterState.EMPTY;
    private final java.util.concurrent.ConcurrentSkipListMap<Long, List<CompletableFuture<Void>>> appliedWaiters =
            new java.util.concurrent.ConcurrentSkipListMap<>();

    public ClusterState state() {
        return state;
    }

    /** Listeners run on the apply thread after every change; they must not block. */
    public void addListener(Consumer<ClusterState> listener) {
        listeners.add(listener);
        listener.accept(state);
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        this.raftStorage = raftStorage;
        storage.init(raftStorage);
        load(storage.loadLatestSnapshot());
    }

    /** Forces a snapshot installed from the leader to disk before Ratis publishes it (see PartitionStateMachine). */
    @Override
    public void pause() {
        SnapshotFiles.syncInstalled(raftStorage);
        super.pause();
    }

    @Override
    public void reinitialize() throws IOException {
        SnapshotFiles.syncPublished(raftStorage);
        load(storage.loadLatestSnapshot());
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    private void load(SingleFileSnapshotInfo snapshot) throws IOException {
        if (snapshot == null) {
            return;
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(
                Files.newInputStream(snapshot.getFile().getPath())))) {
            publish(readSnapshot(in, snapshot.getIndex()));
        } catch (IOException e) {
            throw new IOException(e.getMessage() + ": " + snapshot.getFile().getPath(), e);
        }
        setLastAppliedTermIndex(snapshot.getTermIndex());
        completeWaiters(snapshot.getIndex());
    }

    /** Completes once this replica has applied the entry at {@code index} (or a snapshot covering it). */
    public CompletableFuture<Void> awaitApplied(long index) {
        CompletableFuture<Void> applied = new CompletableFuture<>();
        appliedWaiters.computeIfAbsent(index, i -> new CopyOnWriteArrayList<>()).add(applied);
        TermIndex last = getLastAppliedTermIndex();
        if (last != null && last.getIndex() >= index) {
            applied.complete(null); // checked after registering, so an apply racing with this call is not missed
        }
        return applied;
    }

    private void completeWaiters(long appliedIndex) {
        var done = appliedWaiters.headMap(appliedIndex, true);
        for (List<CompletableFuture<Void>> waiting : done.values()) {
            waiting.forEach(f -> f.complete(null));
        }
        done.clear();
    }

    /** Reads a snapshot (format in the class javadoc); the state gets {@code version} as its version. */
    static ClusterState readSnapshot(DataInputStream in, long version) throws IOException {
        int magic = in.readInt();
        short format = in.readShort();
        if (magic != MAGIC || format < 1 || format > SNAPSHOT_VERSION) {
            throw new IOException("not a FluxMQ metadata snapshot of version 1 to " + SNAPSHOT_VERSION);
        }
        long nextProducerId = in.readLong();
        Map<String, TopicRecord> topics = new HashMap<>();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            TopicRecord t = MetadataCommand.readTopic(in);
            topics.put(t.name(), t);
        }
        Map<TopicPartition, LeaderRecord> leaders = new HashMap<>();
        int m = in.readInt();
        for (int i = 0; i < m; i++) {
            leaders.put(new TopicPartition(in.readUTF(), in.readInt()), new LeaderRecord(in.readInt(), in.readInt()));
        }
        Map<Integer, NodeRecord> nodes = new HashMap<>();
        int k = format >= 2 ? in.readInt() : 0;
        for (int i = 0; i < k; i++) {
            NodeRecord node = MetadataCommand.readNode(in);
            nodes.put(node.id(), node);
        }
        Map<TopicPartition, Reassignment> reassignments = new HashMap<>();
        int r = format >= 3 ? in.readInt() : 0;
        for (int i = 0; i < r; i++) {
            TopicPartition tp = new TopicPartition(in.readUTF(), in.readInt());
            reassignments.put(tp, new Reassignment(MetadataCommand.readInts(in), MetadataCommand.readInts(in)));
        }
        List<AclBinding> acls = format >= ACL_SNAPSHOT_VERSION ? AclRecords.read(in) : List.of();
        int e = format >= NODE_EXTENSION_SNAPSHOT_VERSION ? in.readInt() : 0;
        for (int i = 0; i < e; i++) {
            int id = in.readInt();
            String rack = in.readUTF();
            NodeRecord.Membership membership = MetadataCommand.readMembership(in);
            NodeRecord node = nodes.get(id);
            if (node == null) {
                throw new IOException("snapshot extends node " + id + ", which it does not list");
            }
            nodes.put(id, MetadataCommand.withExtension(node, rack, membership));
        }
        Map<ScramCredentialRecord.Key, ScramCredentialRecord> scram = new HashMap<>();
        if (format >= SCRAM_SNAPSHOT_VERSION) {
            ScramRecords.readCredentials(in).forEach(c -> scram.put(c.key(), c));
        }
        Map<TopicPartition, IsrRecord> isrs = new HashMap<>();
        int q = format >= ISR_SNAPSHOT_VERSION ? in.readInt() : 0;
        for (int i = 0; i < q; i++) {
            TopicPartition tp = new TopicPartition(in.readUTF(), in.readInt());
            isrs.put(tp, new IsrRecord(in.readInt(), in.readInt(), in.readInt(), MetadataCommand.readInts(in)));
        }
        Map<ClientQuotaEntity, Map<String, Double>> quotas =
                format >= QUOTA_SNAPSHOT_VERSION ? ClientQuotaRecords.readQuotas(in) : Map.of();
        Map<String, Map<String, String>> brokerConfigs = new HashMap<>();
        int b = format >= BROKER_CONFIG_SNAPSHOT_VERSION ? in.readInt() : 0;
        for (int i = 0; i < b; i++) {
            brokerConfigs.put(in.readUTF(), MetadataCommand.readMap(in));
        }
        int nextNodeId = format >= NODE_ID_SNAPSHOT_VERSION ? in.readInt() : 0;
        return new ClusterState(version, topics, leaders, nextProducerId, nodes, reassignments, Set.copyOf(acls),
                scram, isrs, quotas, brokerConfigs, nextNodeId);
    }

    static void writeSnapshot(DataOutputStream out, ClusterState s) throws IOException {
        out.writeInt(MAGIC);
        // the oldest format that holds the state, so a node of an older build can still load it (rolling upgrades):
        // 2 without reassignments, 3 with, 4 with ACLs, 5 with node extensions, 6 with SCRAM credentials, 7 with ISRs,
        // 8 with client quotas, 9 with dynamic broker configs, 10 with a reserved node id
        List<NodeRecord> extended = s.nodes().values().stream().filter(NodeRecord::extended).toList();
        short format = s.nextNodeId() > 0 ? NODE_ID_SNAPSHOT_VERSION
                : !s.brokerConfigs().isEmpty() ? BROKER_CONFIG_SNAPSHOT_VERSION
                : !s.clientQuotas().isEmpty() ? QUOTA_SNAPSHOT_VERSION
                : !s.isrs().isEmpty() ? ISR_SNAPSHOT_VERSION
                : !s.scramCredentials().isEmpty() ? SCRAM_SNAPSHOT_VERSION
                : !extended.isEmpty() ? NODE_EXTENSION_SNAPSHOT_VERSION
                : !s.acls().isEmpty() ? ACL_SNAPSHOT_VERSION
                : !s.reassignments().isEmpty() ? 3 : (short) 2;
        out.writeShort(format);
        out.writeLong(s.nextProducerId());
        out.writeInt(s.topics().size());
        for (TopicRecord t : s.topics().values()) {
            MetadataCommand.writeTopic(out, t);
        }
        out.writeInt(s.leaders().size());
        for (Map.Entry<TopicPartition, LeaderRecord> e : s.leaders().entrySet()) {
            out.writeUTF(e.getKey().topic());
            out.writeInt(e.getKey().partition());
            out.writeInt(e.getValue().leader());
            out.writeInt(e.getValue().epoch());
        }
        out.writeInt(s.nodes().size());
        for (NodeRecord n : s.nodes().values()) {
            MetadataCommand.writeNode(out, n);
        }
        if (format < 3) {
            return;
        }
        out.writeInt(s.reassignments().size());
        for (Map.Entry<TopicPartition, Reassignment> e : s.reassignments().entrySet()) {
            out.writeUTF(e.getKey().topic());
            out.writeInt(e.getKey().partition());
            MetadataCommand.writeInts(out, e.getValue().original());
            MetadataCommand.writeInts(out, e.getValue().target());
        }
        if (format < ACL_SNAPSHOT_VERSION) {
            return;
        }
        AclRecords.write(out, s.acls());
        if (format < NODE_EXTENSION_SNAPSHOT_VERSION) {
            return;
        }
        out.writeInt(extended.size());
        for (NodeRecord n : extended) {
            out.writeInt(n.id());
            out.writeUTF(n.rack());
            out.writeByte(n.membership().ordinal());
        }
        if (format < SCRAM_SNAPSHOT_VERSION) {
            return;
        }
        ScramRecords.writeCredentials(out, s.scramCredentials().values());
        if (format < ISR_SNAPSHOT_VERSION) {
            return;
        }
        out.writeInt(s.isrs().size());
        for (Map.Entry<TopicPartition, IsrRecord> e : s.isrs().entrySet()) {
            out.writeUTF(e.getKey().topic());
            out.writeInt(e.getKey().partition());
            out.writeInt(e.getValue().leader());
            out.writeInt(e.getValue().leaderEpoch());
            out.writeInt(e.getValue().partitionEpoch());
            MetadataCommand.writeInts(out, e.getValue().isr());
        }
        if (format < QUOTA_SNAPSHOT_VERSION) {
            return;
        }
        ClientQuotaRecords.writeQuotas(out, s.clientQuotas());
        if (format < BROKER_CONFIG_SNAPSHOT_VERSION) {
            return;
        }
        out.writeInt(s.brokerConfigs().size());
        for (Map.Entry<String, Map<String, String>> e : s.brokerConfigs().entrySet()) {
            out.writeUTF(e.getKey());
            MetadataCommand.writeMap(out, e.getValue());
        }
        if (format < NODE_ID_SNAPSHOT_VERSION) {
            return;
        }
        out.writeInt(s.nextNodeId());
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        MetadataReply reply;
        try {
            MetadataCommand command = MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(
                    entry.getStateMachineLogEntry().getLogData().toByteArray())));
            reply = apply(command);
            if (reply.isOk() && (command instanceof MetadataCommand.Barrier
                    || command instanceof MetadataCommand.CreateTopic
                    || command instanceof MetadataCommand.AddPartitions
                    || command instanceof MetadataCommand.AlterTopicConfigs
                    || command instanceof MetadataCommand.AlterBrokerConfigs
                    || command instanceof MetadataCommand.CreateAcls
                    || command instanceof MetadataCommand.DeleteAcls
                    || command instanceof MetadataCommand.AlterScramCredentials
                    || command instanceof MetadataCommand.AlterClientQuotas)) {
                reply = MetadataReply.ok(entry.getIndex()); // the submitter waits for its own replica to apply it
            } else if (reply.isOk() && command instanceof MetadataCommand.AlterPartitionIsr) {
                reply = new MetadataReply(reply.errorCode(), entry.getIndex(), reply.message()); // keeps the refusals
            }
        } catch (IOException | RuntimeException e) {
            LOGGER.error("Cannot apply metadata entry {}", entry.getIndex(), e);
            reply = MetadataReply.error(Errors.UNKNOWN_SERVER_ERROR.code(), e.toString());
        }
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        completeWaiters(entry.getIndex());
        return CompletableFuture.completedFuture(Message.valueOf(
                org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(reply.encode())));
    }

    /** Applies one command in log order; package-private for tests. */
    synchronized MetadataReply apply(MetadataCommand command) {
        ClusterState s = state;
        if (command instanceof MetadataCommand.CreateTopic c) {
            if (s.topics().containsKey(c.topic().name())) {
                return MetadataReply.error(Errors.TOPIC_ALREADY_EXISTS.code(),
                        "topic '" + c.topic().name() + "' already exists");
            }
            Map<TopicPartition, LeaderRecord> leaders = new HashMap<>();
            if (c.firstLeaderEpoch() > 0) {
                List<List<Integer>> assignments = c.topic().assignments();
                for (int p = 0; p < assignments.size(); p++) {
                    leaders.put(new TopicPartition(c.topic().name(), p),
                            new LeaderRecord(assignments.get(p).get(0), c.firstLeaderEpoch()));
                }
            }
            publish(s.withTopic(c.topic(), leaders));
            LOGGER.info("Metadata: created topic {} ({}) with {} partitions, replication factor {}",
                    c.topic().name(), c.topic().topicId(), c.topic().partitions(), c.topic().replicationFactor());
        } else if (command instanceof MetadataCommand.DeleteTopic d) {
            if (!s.topics().containsKey(d.name())) {
                return MetadataReply.error(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(),
                        "topic '" + d.name() + "' does not exist");
            }
            publish(s.withoutTopic(d.name()));
            LOGGER.info("Metadata: deleted topic {}", d.name());
        } else if (command instanceof MetadataCommand.AddPartitions a) {
            TopicRecord t = s.topics().get(a.name());
            if (t == null) {
                return MetadataReply.error(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(),
                        "topic '" + a.name() + "' does not exist");
            }
            List<List<Integer>> all = new ArrayList<>(t.assignments());
            all.addAll(a.newAssignments());
            publish(s.withTopic(new TopicRecord(t.name(), t.topicId(), t.replicationFactor(), t.configs(),
                    t.internal(), all)));
        } else if (command instanceof MetadataCommand.AlterBrokerConfigs b) {
            ClusterState next = s.withBrokerConfigs(b.entity(), b.set(), b.delete());
            publish(next);
            LOGGER.info("Metadata: dynamic configs of broker {} are now {}",
                    b.entity().isEmpty() ? "<default>" : b.entity(), new TreeMap<>(next.brokerConfigs(b.entity())));
        } else if (command instanceof MetadataCommand.AlterTopicConfigs a) {
            TopicRecord t = s.topics().get(a.name());
            if (t == null) {
                return MetadataReply.error(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(),
                        "topic '" + a.name() + "' does not exist");
            }
            Map<String, String> configs = new HashMap<>(a.replace() ? Map.of() : t.configs());
            configs.putAll(a.set());
            a.delete().forEach(configs::remove);
            publish(s.withTopic(new TopicRecord(t.name(), t.topicId(), t.replicationFactor(), configs, t.internal(),
                    t.assignments())));
            LOGGER.info("Metadata: configs of topic {} are now {}", t.name(), new TreeMap<>(configs));
        } else if (command instanceof MetadataCommand.ReassignPartition r) {
            return ReassignmentApply.start(this, s, r);
        } else if (command instanceof MetadataCommand.CompleteReassignment c) {
            return ReassignmentApply.complete(this, s, c);
        } else if (command instanceof MetadataCommand.CreateAcls c) {
            publish(s.withAcls(c.acls(), List.of()));
            LOGGER.info("Metadata: ACLs created: {}", c.acls());
        } else if (command instanceof MetadataCommand.DeleteAcls d) {
            publish(s.withAcls(List.of(), d.acls()));
            LOGGER.info("Metadata: ACLs deleted: {}", d.acls());
        } else if (command instanceof MetadataCommand.AlterScramCredentials a) {
            publish(s.withScramCredentials(a.deletions(), a.upsertions()));
            LOGGER.info("Metadata: SCRAM credentials deleted: {}; added or replaced: {}", a.deletions(),
                    a.upsertions());
        } else if (command instanceof MetadataCommand.AlterClientQuotas q) {
            publish(s.withClientQuotas(q.alterations()));
            LOGGER.info("Metadata: client quotas altered: {}", q.alterations());
        } else if (command instanceof MetadataCommand.ReserveNodeId r) {
            int id = Math.max(r.atLeast(), s.nextNodeId());
            for (int known : s.nodes().keySet()) {
                id = Math.max(id, known + 1);
            }
            publish(s.withNextNodeId(id + 1));
            LOGGER.info("Metadata: node id {} reserved for a joining node", id);
            return MetadataReply.ok(id);
        } else if (command instanceof MetadataCommand.AllocateProducerIds p) {
            long first = s.nextProducerId();
            publish(s.withNextProducerId(first + p.count()));
            return MetadataReply.ok(first);
        } else if (command instanceof MetadataCommand.ReportLeader r) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            LeaderRecord known = s.leaders().get(tp);
            if (s.topics().containsKey(r.topic()) && (known == null || known.epoch() <= r.epoch())) {
                publish(s.withLeader(tp, new LeaderRecord(r.leader(), r.epoch())));
            }
        } else if (command instanceof MetadataCommand.ReportLeaders r) {
            Map<TopicPartition, LeaderRecord> changed = new HashMap<>();
            for (MetadataCommand.LedPartition led : r.partitions()) {
                TopicPartition tp = new TopicPartition(led.topic(), led.partition());
                LeaderRecord known = s.leaders().get(tp);
                if (s.topics().containsKey(led.topic()) && (known == null || known.epoch() <= led.epoch())) {
                    changed.put(tp, new LeaderRecord(r.leader(), led.epoch()));
                }
            }
            if (!changed.isEmpty()) {
                publish(s.withLeaders(changed));
            }
        } else if (command instanceof MetadataCommand.RegisterNode n) {
            NodeRecord known = s.nodes().get(n.node().id());
            if (known != null && known.removed()) {
                return MetadataReply.error(Errors.INVALID_REQUEST.code(), "node " + known.id()
                        + " was removed from the cluster; a new node needs a new id");
            }
            NodeRecord node = n.node().withState(NodeRecord.NodeState.UP)
                    .withMembership(known == null ? NodeRecord.Membership.ACTIVE : known.membership());
            if (known != null && known.incarnation() > node.incarnation()) {
                return MetadataReply.error(Errors.STALE_BROKER_EPOCH.code(), "node " + node.id()
                        + " registered incarnation " + known.incarnation() + ", newer than " + node.incarnation());
            }
            if (!node.equals(known)) {
                publish(s.withNode(node));
                LOGGER.info("Metadata: node {} registered ({}:{}, rack '{}', incarnation {}, version {}); UP, {}",
                        node.id(), node.host(), node.kafkaPort(), node.rack(), node.incarnation(), node.version(),
                        node.membership());
            }
        } else if (command instanceof MetadataCommand.SetNodeMembership m) {
            return NodeMembershipApply.apply(this, s, m);
        } else if (command instanceof MetadataCommand.AlterPartitionIsr a) {
            return IsrApply.apply(this, s, a);
        } else if (command instanceof MetadataCommand.SetNodeState n) {
            NodeRecord known = s.nodes().get(n.nodeId());
            long registered = known == null ? NodeRecord.NEVER_REGISTERED : known.incarnation();
            if (registered != n.incarnation()
                    || (known == null && n.state() == NodeRecord.NodeState.UP)) {
                return MetadataReply.error(Errors.STALE_BROKER_EPOCH.code(), "node " + n.nodeId()
                        + " is registered with incarnation " + registered + ", not " + n.incarnation());
            }
            NodeRecord next = known == null ? NodeRecord.neverRegistered(n.nodeId()) : known.withState(n.state());
            if (!next.equals(known)) {
                publish(s.withNode(next));
                LOGGER.info("Metadata: node {} is {}", n.nodeId(), n.state());
            }
        }
        return MetadataReply.ok(0);
    }

    void publish(ClusterState next) {
        state = next;
        for (Consumer<ClusterState> listener : listeners) {
            try {
                listener.accept(next);
            } catch (RuntimeException e) {
                LOGGER.error("Metadata listener failed", e);
            }
        }
    }

    @Override
    public long takeSnapshot() throws IOException {
        TermIndex applied = getLastAppliedTermIndex();
        ClusterState s = state;
        if (applied == null || applied.getIndex() < 0) {
            return -1;
        }
        File file = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
        storage.updateLatestSnapshot(SnapshotFiles.write(file, applied, stream -> {
            DataOutputStream out = new DataOutputStream(stream);
            writeSnapshot(out, s);
            out.flush();
        }));
        return applied.getIndex();
    }
}
