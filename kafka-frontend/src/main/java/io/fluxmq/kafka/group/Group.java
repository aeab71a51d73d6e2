package io.fluxmq.kafka.group;

import org.apache.kafka.common.protocol.Errors;

/** A consumer group of either protocol, as its {@link GroupShard} manages it. Implementations are not thread-safe. */
sealed interface Group permits ClassicGroup, ConsumerGroup {
    String groupId();

    GroupType type();

    /** The state as Kafka's ListGroups/DescribeGroups spell it. */
    String stateName();

    /** No members (offsets may remain). */
    boolean isEmpty();

    /** When the group entered its current state; offsets of an empty group expire counting from here. */
    long stateTimestampMs();

    /** What to write to the offsets topic for this group. */
    GroupRecords.GroupSnapshot snapshot();

    /** Whether the group record changed since the last call (so the shard writes it). */
    boolean takeDirty();

    /** The record last taken by {@link #takeDirty} could not be written: take it again next time. */
    void persistFailed();

    /** Fires session and rebalance timeouts. */
    void tick(long nowMs);

    /** Answers every waiting request with {@code error}; the group is no longer served here. */
    void unload(Errors error);
}
