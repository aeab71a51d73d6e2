package io.fluxmq.raft.metadata;

import java.util.List;

/**
 * The in-sync replicas of a partition as its leader last published them (Kafka's ISR in a {@code PartitionRecord}):
 * the publishing leader, its leader epoch (the Raft term it led in), the partition epoch (bumped on every change, so a
 * change computed from an older state is refused, like Kafka's {@code INVALID_UPDATE_VERSION}) and the ISR in
 * replica order. Immutable.
 */
public record IsrRecord(int leader, int leaderEpoch, int partitionEpoch, List<Integer> isr) {
    public IsrRecord {
        isr = List.copyOf(isr);
    }
}
