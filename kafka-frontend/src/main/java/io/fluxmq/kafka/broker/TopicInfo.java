package io.fluxmq.kafka.broker;

import java.util.Map;
import org.apache.kafka.common.Uuid;

/** A topic as the metadata knows it: name, id, partition count, replication factor and topic-level configs. */
public record TopicInfo(String name, Uuid topicId, int partitions, short replicationFactor, Map<String, String> configs,
                        boolean internal) {}
