package io.fluxmq.raft.metadata;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;

/**
 * One immutable version of the cluster metadata: topics, partition leaders as reported by their Raft groups, the
 * next free producer id, and the nodes (registration and UP/DOWN state). The metadata state machine publishes a new
 * instance after every applied command, so readers never lock.
 */
public record ClusterState(long version, Map<String, TopicRecord> topics, Map<TopicPartition, LeaderRecord> leaders,
                           long nextProducerId, Map<Integer, NodeRecord> nodes) {
    public static final ClusterState EMPTY = new ClusterState(0, Map.of(), Map.of(), 0, Map.of());

    public ClusterState {
        topics = Map.copyOf(topics);
        leaders = Map.copyOf(leaders);
        nodes = Map.copyOf(nodes);
    }

    public Optional<NodeRecord> node(int id) {
        return Optional.ofNullable(nodes.get(id));
    }

    /** The ids of the nodes the controller declared DOWN (nodes without a record are not in it). */
    public Set<Integer> downNodes() {
        return nodes.values().stream().filter(n -> !n.isUp()).map(NodeRecord::id).collect(Collectors.toUnmodifiableSet());
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

    ClusterState withTopic(TopicRecord topic) {
        Map<String, TopicRecord> t = new HashMap<>(topics);
        t.put(topic.name(), topic);
        return new ClusterState(version + 1, t, leaders, nextProducerId, nodes);
    }

    ClusterState withoutTopic(String name) {
        Map<String, TopicRecord> t = new HashMap<>(topics);
        t.remove(name);
        Map<TopicPartition, LeaderRecord> l = new HashMap<>(leaders);
        l.keySet().removeIf(tp -> tp.topic().equals(name));
        return new ClusterState(version + 1, t, l, nextProducerId, nodes);
    }

    ClusterState withLeader(TopicPartition tp, LeaderRecord leader) {
        Map<TopicPartition, LeaderRecord> l = new HashMap<>(leaders);
        l.put(tp, leader);
        return new ClusterState(version + 1, topics, l, nextProducerId, nodes);
    }

    ClusterState withNextProducerId(long next) {
        return new ClusterState(version + 1, topics, leaders, next, nodes);
    }

    ClusterState withNode(NodeRecord node) {
        Map<Integer, NodeRecord> n = new HashMap<>(nodes);
        n.put(node.id(), node);
        return new ClusterState(version + 1, topics, leaders, nextProducerId, n);
    }
}
