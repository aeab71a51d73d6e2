package io.fluxmq.kafka.broker;

import java.util.List;

/** A partition reassignment in progress, as ListPartitionReassignments reports it: all, adding, removing replicas. */
public record ReassignmentInfo(List<Integer> replicas, List<Integer> adding, List<Integer> removing) {
    public ReassignmentInfo {
        replicas = List.copyOf(replicas);
        adding = List.copyOf(adding);
        removing = List.copyOf(removing);
    }
}
