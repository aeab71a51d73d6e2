package io.fluxmq.raft.metadata;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * A topic in cluster metadata: id, configs and, per partition, its replica node ids (the first is the preferred
 * leader). Immutable.
 */
public record TopicRecord(String name, Uuid topicId, short replicationFactor, Map<String, String> configs,
                          boolean internal, List<List<Integer>> assignments) {
    public TopicRecord {
        configs = Map.copyOf(configs);
        assignments = assignments.stream().map(List::copyOf).toList();
    }

    public int partitions() {
        return assignments.size();
    }

    public List<Integer> replicas(int partition) {
        return assignments.get(partition);
    }
}
