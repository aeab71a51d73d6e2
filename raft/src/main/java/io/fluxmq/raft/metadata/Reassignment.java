package io.fluxmq.raft.metadata;

import java.util.ArrayList;
import java.util.List;

/**
 * A partition reassignment in progress: the replicas the partition had when it started ({@code original}) and the
 * ones it moves to ({@code target}). While it runs the partition's replica set is {@link #replicas()}, the target
 * followed by the original replicas that leave (Kafka's order); a cancelled reassignment has {@code target ==
 * original} until its Raft group is back to the original members. Immutable.
 */
public record Reassignment(List<Integer> original, List<Integer> target) {
    public Reassignment {
        original = List.copyOf(original);
        target = List.copyOf(target);
    }

    /** Target followed by the leaving original replicas. */
    public List<Integer> replicas() {
        List<Integer> all = new ArrayList<>(target);
        original.stream().filter(r -> !target.contains(r)).forEach(all::add);
        return all;
    }

    /** Target replicas that were not original replicas. */
    public List<Integer> adding() {
        return target.stream().filter(r -> !original.contains(r)).toList();
    }

    /** Original replicas that are not target replicas. */
    public List<Integer> removing() {
        return original.stream().filter(r -> !target.contains(r)).toList();
    }
}
