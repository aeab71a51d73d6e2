package io.fluxmq.raft.metadata;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;

/**
 * One immutable version of the cluster metadata: topics, partition leaders as reported by their Raft groups, and
 * the next free producer id. The metadata state machine publishes a new instance after every applied command, so
 * readers never lock.
 */
public record ClusterState(long version, Map<String, TopicRecord> topics, Map<TopicPartition, LeaderRecord> leaders,
                           long nextProducerId) {
    public static final ClusterState EMPTY = new ClusterState(0, Map.of(), Map.of(), 0);

    public ClusterState {
        topics = Map.copyOf(topics);
        leaders = Map.copyOf(leaders);
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
        return new ClusterState(version + 1, t, leaders, nextProducerId);
    }

    ClusterState withoutTopic(String name) {
        Map<String, TopicRecord> t = new HashMap<>(topics);
        t.remove(name);
        Map<TopicPartition, LeaderRecord> l = new HashMap<>(leaders);
        l.keySet().removeIf(tp -> tp.topic().equals(name));
        return new ClusterState(version + 1, t, l, nextProducerId);
    }

    ClusterState withLeader(TopicPartition tp, LeaderRecord leader) {
        Map<TopicPartition, LeaderRecord> l = new HashMap<>(leaders);
        l.put(tp, leader);
        return new ClusterState(version + 1, topics, l, nextProducerId);
    }

    ClusterState withNextProducerId(long next) {
        return new ClusterState(version + 1, topics, leaders, next);
    }
}
