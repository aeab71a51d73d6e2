package io.fluxmq.kafka.broker;

import java.util.List;

/** A partition as Kafka clients see it: leader (-1 when none), leader epoch, replicas, in-sync and offline replicas. */
public record PartitionState(int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr,
                             List<Integer> offline) {}
