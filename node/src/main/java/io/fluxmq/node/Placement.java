package io.fluxmq.node;

import java.util.ArrayList;
import java.util.List;

/**
 * Replica placement: partition {@code p} of a topic gets {@code rf} consecutive nodes (in id order) starting at
 * {@code (p + offset) mod n}, where the offset is derived from the topic name, so replicas and preferred leaders (the
 * first replica) spread evenly across nodes and topics. Pure function.
 */
final class Placement {
    private Placement() {
    }

    static List<List<Integer>> assign(String topic, int firstPartition, int count, int rf, List<Integer> nodeIds) {
        List<Integer> ids = nodeIds.stream().sorted().toList();
        int n = ids.size();
        int offset = Math.floorMod(topic.hashCode(), n);
        List<List<Integer>> out = new ArrayList<>();
        for (int p = firstPartition; p < firstPartition + count; p++) {
            List<Integer> replicas = new ArrayList<>();
            for (int i = 0; i < rf; i++) {
                replicas.add(ids.get((p + offset + i) % n));
            }
            out.add(replicas);
        }
        return out;
    }
}
