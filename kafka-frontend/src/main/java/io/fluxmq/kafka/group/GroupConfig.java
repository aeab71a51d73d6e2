package io.fluxmq.kafka.group;

import java.time.Duration;
import java.util.List;

/**
 * Settings of the group coordinator, named after Kafka's broker configs, with Kafka's defaults except
 * {@code offsets.topic.num.partitions} (10, not 50: every offsets partition is a Raft group with its own threads and
 * buffers, see docs/architecture.md).
 *
 * @param offsetsTopicPartitions     {@code offsets.topic.num.partitions}; fixed once the topic exists
 * @param offsetsTopicReplicationFactor {@code offsets.topic.replication.factor}
 * @param offsetsRetention           {@code offsets.retention.minutes}: how long an empty group keeps its offsets
 * @param offsetsRetentionCheckInterval {@code offsets.retention.check.interval.ms}
 * @param offsetMetadataMaxBytes     {@code offset.metadata.max.bytes}
 * @param minSessionTimeout          {@code group.min.session.timeout.ms} (classic protocol)
 * @param maxSessionTimeout          {@code group.max.session.timeout.ms} (classic protocol)
 * @param initialRebalanceDelay      {@code group.initial.rebalance.delay.ms} (classic protocol, new groups)
 * @param consumerSessionTimeout     {@code group.consumer.session.timeout.ms} (KIP-848 protocol)
 * @param consumerHeartbeatInterval  {@code group.consumer.heartbeat.interval.ms} (KIP-848 protocol)
 * @param consumerAssignors          {@code group.consumer.assignors}: server-side assignors, the first is the default
 * @param maxGroupSize               {@code group.max.size} (both protocols)
 * @param offsetsTopicSegmentBytes   {@code offsets.topic.segment.bytes}: the segment size the offsets topic is created
 *                                   with (it is compacted, and the cleaner only cleans sealed segments)
 */
public record GroupConfig(int offsetsTopicPartitions, short offsetsTopicReplicationFactor, Duration offsetsRetention,
                          Duration offsetsRetentionCheckInterval, int offsetMetadataMaxBytes,
                          Duration minSessionTimeout, Duration maxSessionTimeout, Duration initialRebalanceDelay,
                          Duration consumerSessionTimeout, Duration consumerHeartbeatInterval,
                          List<String> consumerAssignors, int maxGroupSize, int offsetsTopicSegmentBytes) {

    public GroupConfig {
        if (offsetsTopicPartitions < 1) {
            throw new IllegalArgumentException("offsets.topic.num.partitions must be at least 1");
        }
        if (minSessionTimeout.compareTo(maxSessionTimeout) > 0) {
            throw new IllegalArgumentException("group.min.session.timeout.ms is above group.max.session.timeout.ms");
        }
        if (consumerAssignors.isEmpty() || !Assignors.NAMES.containsAll(consumerAssignors)) {
            throw new IllegalArgumentException("group.consumer.assignors must be a non-empty subset of "
                    + Assignors.NAMES);
        }
        consumerAssignors = List.copyOf(consumerAssignors);
        if (offsetsTopicSegmentBytes < 1) {
            throw new IllegalArgumentException("offsets.topic.segment.bytes must be at least 1");
        }
    }

    /** Kafka's default {@code offsets.topic.segment.bytes}, 100 MiB. */
    public static final int DEFAULT_OFFSETS_TOPIC_SEGMENT_BYTES = 100 * 1024 * 1024;

    /** Kafka's defaults (10 offsets partitions). */
    public static GroupConfig defaults() {
        return new GroupConfig(10, (short) 1, Duration.ofMinutes(10080), Duration.ofMillis(600_000), 4096,
                Duration.ofMillis(6000), Duration.ofMillis(1_800_000), Duration.ofMillis(3000),
                Duration.ofMillis(45_000), Duration.ofMillis(5000), List.of("uniform", "range"), Integer.MAX_VALUE,
                DEFAULT_OFFSETS_TOPIC_SEGMENT_BYTES);
    }
}
