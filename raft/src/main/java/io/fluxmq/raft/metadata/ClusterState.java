package io.fluxmq.raft.metadata;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.Uuid;

/**
 * One immutable version of the cluster metadata: topics, partition leaders as reported by their Raft groups, the
 * next free producer id, the nodes (registration and UP/DOWN state), the partition reassignments in progress and the
 * ACL bindings (Kafka's authorization model; see {@link #acls(AclBindingFilter)}), the users' SCRAM credentials and
 * the in-sync replicas the partitions' leaders published ({@link IsrRecord}) and the client quotas (Kafka's entities:
 * user, client-id, ip components, a {@code null} name being the default entity; values by quota key) and the dynamic
 * broker configs (by entity: {@link #DEFAULT_BROKER} for the cluster-wide defaults, else a node id) and the lowest
 * node id a joining node may be given next ({@code nextNodeId}, 0 until one was reserved). The metadata state machine
 * publishes a new instance after every applied command, so readers never lock.
 */
public record ClusterState(long version, Map<String, TopicRecord> topics, Map<TopicPartition, LeaderRecord> leaders,
                           long nextProducerId, Map<Integer, NodeRecord> nodes,
                           Map<TopicPartition, Reassignment> reassignments, Set<AclBinding> acls,
                           Map<ScramCredentialRecord.Key, ScramCredentialRecord> scramCredentials,
                           Map<TopicPartition, IsrRecord> isrs,
                           Map<ClientQuotaEntity, Map<String, Double>> clientQuotas,
                           Map<String, Map<String, String>> brokerConfigs, int nextNodeId) {
    public static final ClusterState EMPTY = new ClusterState(0, Map.of(), Map.of(), 0, Map.of());
    /** The entity of {@link #brokerConfigs} holding the cluster-wide defaults (Kafka's default broker). */
    public static final String DEFAULT_BROKER = "";

    public ClusterState {
        topics = Map.copyOf(topics);
        leaders = FrozenMap.of(leaders);
        nodes = Map.copyOf(nodes);
        reassignments = FrozenMap.of(reassignments);
        acls = Set.copyOf(acls);
        scramCredentials = Map.copyOf(scramCredentials);
        isrs = FrozenMap.of(isrs);
        clientQuotas = Map.copyOf(clientQuotas);
        brokerConfigs = Map.copyOf(brokerConfigs);
    }

    /** A state without reserved node ids. */
    public ClusterState(long version, Map<String, TopicRecord> topics, Map<TopicPartition, LeaderRecord> leaders,
                        long nextProducerId, Map<Integer, NodeRecord> nodes,
                        Map<TopicPartition, Reassignment> reassignments, Set<AclBinding> acls,
                        Map<ScramCredentialRecord.Key, ScramCredentialRecord> scramCredentials,
                        Map<TopicPartition, IsrRecord> isrs,
                        Map<ClientQuotaEntity, Map<String, Double>> clientQuotas,
                        Map<String, Map<String, String>> brokerConfigs) {
        this(version, topics, leaders, nextProducerId, nodes, reassignments, acls, scramCredentials, isrs, clientQuotas,
                brokerConfigs, 0);
    }

    /** A state without dynamic broker configs. */
    public ClusterState(long version, Map<String, TopicRecord> topics, Map<TopicPartition, LeaderRecord> leaders,
                        long nextProducerId, Map<Integer, NodeRecord> nodes,
                        Map<TopicPartition, Reassignment> reassignments, Set<AclBinding> acls,
                        Map<ScramCredentialRecord.Key, ScramCredentialRecord> scramCredentials,
                        Map<TopicPartition, IsrRecord> isrs,
                        Map<ClientQuotaEntity, Map<String, Double>> clientQuotas) {
        this(version, topics, leaders, nextProducerId, nodes, reassignments, acls, scramCredentials, isrs, clientQuotas,
                Map.of());
    }

    /** The dynamic configs of a broker entity ({@link #DEFAULT_BROKER} or a node id), empty when none. */
    public Map<String, String> brokerConfigs(String entity) {
        return brokerConfigs.getOrDefault(entity, Map.of());
    }

    /** A state without client quotas. */
    public ClusterState(long version, Map<String, TopicRecord> topics, Map<TopicPartition, LeaderRecord> leaders,
                        long nextProducerId, Map<Integer, NodeRecord> nodes,
                        Map<TopicPartition, Reassignment> reassignments, Set<AclBinding> acls,
                        Map<ScramCredentialRecord.Key, ScramCredentialRecord> scramCredentials,
                        Map<TopicPartition, IsrRecord> isrs) {
        this(version, topics, leaders, nextProducerId, nodes, reassignments, acls, scramCredentials, isrs, Map.of());
    }

    /** A state without published in-sync replicas. */
    public ClusterState(long version, Map<String, TopicRecord> topics, Map<TopicPartition, LeaderRecord> leaders,
                        long nextProducerId, Map<Integer, NodeRecord> nodes,
                        Map<TopicPartition, Reassignment> reassignments, Set<AclBinding> acls,
                        Map<ScramCredentialRecord.Key, ScramCredentialRecord> scramCredentials) {
        this(version, topics, leaders, nextProducerId, nodes, reassignments, acls, scramCredentials, Map.of());
    }

    /** A state without SCRAM credentials. */
    public ClusterState(long version, Map<String, TopicRecord> topics, Map<TopicPartition, LeaderRecord> leaders,
                        long nextProducerId, Map<Integer, NodeRecord> nodes,
                        Map<TopicPartition, Reassignment> reassignments, Set<AclBinding> acls) {
        this(version, topics, leaders, nextProducerId, nodes, reassignments, acls, Map.of());
    }

    /** A state without ACL bindings. */
    public ClusterState(long version, Map<String, TopicRecord> topics, Map<TopicPartition, LeaderRecord> leaders,
                        long nextProducerId, Map<Integer, NodeRecord> nodes,
                        Map<TopicPartition, Reassignment> reassignments) {
        this(version, topics, leaders, nextProducerId, nodes, reassignments, Set.of());
    }

    /** A state without reassignments in progress. */
    public ClusterState(long version, Map<String, TopicRecord> topics, Map<TopicPartition, LeaderRecord> leaders,
                        long nextProducerId, Map<Integer, NodeRecord> nodes) {
        this(version, topics, leaders, nextProducerId, nodes, Map.of(), Set.of());
    }

    public Optional<Reassignment> reassignment(TopicPartition tp) {
        return Optional.ofNullable(reassignments.get(tp));
    }

    /**
     * The replicas of a partition: its assignment, or while a reassignment runs the target followed by the leaving
     * replicas; empty for an unknown partition.
     */
    public List<Integer> replicas(TopicPartition tp) {
        Reassignment r = reassignments.get(tp);
        if (r != null) {
            return r.replicas();
        }
        TopicRecord t = topics.get(tp.topic());
        return t == null || tp.partition() < 0 || tp.partition() >= t.partitions() ? List.of()
                : t.replicas(tp.partition());
    }

    /** The replicas a partition is meant to end with: the reassignment target while one runs, else its assignment. */
    public List<Integer> targetReplicas(TopicPartition tp) {
        Reassignment r = reassignments.get(tp);
        return r != null ? r.target() : replicas(tp);
    }

    public Optional<NodeRecord> node(int id) {
        return Optional.ofNullable(nodes.get(id));
    }

    /** The ids of the nodes the controller declared DOWN (nodes without a record are not in it). */
    public Set<Integer> downNodes() {
        return nodes.values().stream().filter(n -> !n.isUp()).map(NodeRecord::id).collect(Collectors.toUnmodifiableSet());
    }

    /**
     * The partitions that have a replica on {@code nodeId}: in their assignment, or, while a reassignment runs, among
     * its target or leaving replicas.
     */
    public List<TopicPartition> partitionsOn(int nodeId) {
        List<TopicPartition> out = new java.util.ArrayList<>();
        for (TopicRecord t : topics.values()) {
            for (int p = 0; p < t.partitions(); p++) {
                TopicPartition tp = new TopicPartition(t.name(), p);
                if (replicas(tp).contains(nodeId)) {
                    out.add(tp);
                }
            }
        }
        return out;
    }

    public Optional<TopicRecord> topic(String name) {
        return Optional.ofNullable(topics.get(name));
    }

    public Optional<TopicRecord> topic(Uuid id) {
        return topics.values().stream().filter(t -> t.topicId().equals(id)).findFirst();
    }

    public Optional<LeaderRecord> leader(TopicPartition tp) {
        return Optional.ofNullable(leaders.get(tp));
    }

    /** The in-sync replicas the partition's leader last published; empty before any leader published them. */
    public Optional<IsrRecord> isr(TopicPartition tp) {
        return Optional.ofNullable(isrs.get(tp));
    }

    /**
     * The newest leader epoch metadata knows of a partition: from the leader its group reported or from the leader
     * that published its ISR, whichever is newer; -1 for none.
     */
    public int leaderEpoch(TopicPartition tp) {
        LeaderRecord l = leaders.get(tp);
        IsrRecord i = isrs.get(tp);
        return Math.max(l == null ? -1 : l.epoch(), i == null ? -1 : i.leaderEpoch());
    }

    /** With the in-sync replicas of several partitions replaced. */
    ClusterState withIsrs(Map<TopicPartition, IsrRecord> changed) {
        Map<TopicPartition, IsrRecord> i = new HashMap<>(isrs);
        i.putAll(changed);
        return new ClusterState(version + 1, topics, leaders, nextProducerId, nodes, reassignments, acls,
                scramCredentials, i, clientQuotas, brokerConfigs, nextNodeId);
    }

    ClusterState withTopic(TopicRecord topic) {
        return withTopic(topic, Map.of());
    }

    /** The topic, and {@code firstLeaders} as the leaders of its partitions (none: no leader known yet). */
    ClusterState withTopic(TopicRecord topic, Map<TopicPartition, LeaderRecord> firstLeaders) {
        Map<String, TopicRecord> t = new HashMap<>(topics);
        t.put(topic.name(), topic);
        Map<TopicPartition, LeaderRecord> l = leaders;
        if (!firstLeaders.isEmpty()) {
            l = new HashMap<>(leaders);
            l.putAll(firstLeaders);
        }
        return new ClusterState(version + 1, t, l, nextProducerId, nodes, reassignments, acls,
                scramCredentials, isrs, clientQuotas, brokerConfigs, nextNodeId);
    }

    ClusterState withoutTopic(String name) {
        Map<String, TopicRecord> t = new HashMap<>(topics);
        t.remove(name);
        Map<TopicPartition, LeaderRecord> l = new HashMap<>(leaders);
        l.keySet().removeIf(tp -> tp.topic().equals(name));
        Map<TopicPartition, Reassignment> r = new HashMap<>(reassignments);
        r.keySet().removeIf(tp -> tp.topic().equals(name));
        Map<TopicPartition, IsrRecord> i = new HashMap<>(isrs);
        i.keySet().removeIf(tp -> tp.topic().equals(name));
        return new ClusterState(version + 1, t, l, nextProducerId, nodes, r, acls, scramCredentials, i,
                clientQuotas, brokerConfigs, nextNodeId);
    }

    ClusterState withLeader(TopicPartition tp, LeaderRecord leader) {
        Map<TopicPartition, LeaderRecord> l = new HashMap<>(leaders);
        l.put(tp, leader);
        return new ClusterState(version + 1, topics, l, nextProducerId, nodes, reassignments, acls,
                scramCredentials, isrs, clientQuotas, brokerConfigs, nextNodeId);
    }

    ClusterState withLeaders(Map<TopicPartition, LeaderRecord> changed) {
        Map<TopicPartition, LeaderRecord> l = new HashMap<>(leaders);
        l.putAll(changed);
        return new ClusterState(version + 1, topics, l, nextProducerId, nodes, reassignments, acls,
                scramCredentials, isrs, clientQuotas, brokerConfigs, nextNodeId);
    }

    /** With the next node id a joining node may be given. */
    ClusterState withNextNodeId(int next) {
        return new ClusterState(version + 1, topics, leaders, nextProducerId, nodes, reassignments, acls,
                scramCredentials, isrs, clientQuotas, brokerConfigs, next);
    }

    ClusterState withNextProducerId(long next) {
        return new ClusterState(version + 1, topics, leaders, next, nodes, reassignments, acls, scramCredentials, isrs,
                clientQuotas, brokerConfigs, nextNodeId);
    }

    ClusterState withNode(NodeRecord node) {
        Map<Integer, NodeRecord> n = new HashMap<>(nodes);
        n.put(node.id(), node);
        return new ClusterState(version + 1, topics, leaders, nextProducerId, n, reassignments, acls,
                scramCredentials, isrs, clientQuotas, brokerConfigs, nextNodeId);
    }

    /** Starts, retargets or (with null) ends the reassignment of a partition; with a topic to replace (or null). */
    ClusterState withReassignment(TopicPartition tp, Reassignment reassignment, TopicRecord topic) {
        Map<TopicPartition, Reassignment> r = new HashMap<>(reassignments);
        if (reassignment == null) {
            r.remove(tp);
        } else {
            r.put(tp, reassignment);
        }
        Map<String, TopicRecord> t = new HashMap<>(topics);
        if (topic != null) {
            t.put(topic.name(), topic);
        }
        return new ClusterState(version + 1, t, leaders, nextProducerId, nodes, r, acls, scramCredentials, isrs,
                clientQuotas, brokerConfigs, nextNodeId);
    }

    /**
     * The ACL bindings that {@code filter} matches, with Kafka's {@link AclBindingFilter#matches} semantics: ANY
     * matches every value; a MATCH pattern filter for a name matches literal bindings of that name, the literal
     * wildcard {@code *} and prefixed bindings whose prefix starts the name.
     */
    public List<AclBinding> acls(AclBindingFilter filter) {
        return acls.stream().filter(filter::matches).toList();
    }

    /** With {@code added} bindings and without {@code removed} ones (either may be empty). */
    ClusterState withAcls(Collection<AclBinding> added, Collection<AclBinding> removed) {
        Set<AclBinding> a = new HashSet<>(acls);
        a.addAll(added);
        a.removeAll(removed);
        return new ClusterState(version + 1, topics, leaders, nextProducerId, nodes, reassignments, a,
                scramCredentials, isrs, clientQuotas, brokerConfigs, nextNodeId);
    }

    /**
     * With the alterations applied in order: each sets its values and removes its keys; an entity left without
     * values is removed.
     */
    ClusterState withClientQuotas(List<MetadataCommand.QuotaAlteration> alterations) {
        Map<ClientQuotaEntity, Map<String, Double>> q = new HashMap<>(clientQuotas);
        for (MetadataCommand.QuotaAlteration a : alterations) {
            Map<String, Double> values = new HashMap<>(q.getOrDefault(a.entity(), Map.of()));
            values.putAll(a.set());
            a.remove().forEach(values::remove);
            if (values.isEmpty()) {
                q.remove(a.entity());
            } else {
                q.put(a.entity(), Map.copyOf(values));
            }
        }
        return new ClusterState(version + 1, topics, leaders, nextProducerId, nodes, reassignments, acls,
                scramCredentials, isrs, q, brokerConfigs, nextNodeId);
    }

    /** With the dynamic configs of {@code entity} set and deleted; an entity left without configs is removed. */
    ClusterState withBrokerConfigs(String entity, Map<String, String> set, List<String> delete) {
        Map<String, Map<String, String>> all = new HashMap<>(brokerConfigs);
        Map<String, String> configs = new HashMap<>(all.getOrDefault(entity, Map.of()));
        configs.putAll(set);
        delete.forEach(configs::remove);
        if (configs.isEmpty()) {
            all.remove(entity);
        } else {
            all.put(entity, Map.copyOf(configs));
        }
        return new ClusterState(version + 1, topics, leaders, nextProducerId, nodes, reassignments, acls,
                scramCredentials, isrs, clientQuotas, all, nextNodeId);
    }

    /** With the credentials of {@code removed} gone and {@code upserted} added or replaced (either may be empty). */
    ClusterState withScramCredentials(Collection<ScramCredentialRecord.Key> removed,
                                      Collection<ScramCredentialRecord> upserted) {
        Map<ScramCredentialRecord.Key, ScramCredentialRecord> c = new HashMap<>(scramCredentials);
        removed.forEach(c::remove);
        upserted.forEach(u -> c.put(u.key(), u));
        return new ClusterState(version + 1, topics, leaders, nextProducerId, nodes, reassignments, acls, c, isrs,
                clientQuotas, brokerConfigs, nextNodeId);
    }
}
