package io.fluxmq.node;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Replica placement. Without racks: partition {@code p} of a topic gets {@code rf} consecutive nodes (in id order)
 * starting at {@code (p + offset) mod n}, where the offset is derived from the topic name, so replicas and preferred
 * leaders (the first replica) spread evenly across nodes and topics.
 *
 * <p>When nodes declare racks ({@code broker.rack}), Kafka's rack-aware idea: the nodes are listed alternating between
 * racks (the first node of each rack, then the second of each, ...), the preferred leader of partition {@code p} is
 * entry {@code (p + offset) mod n} of that list, so leaders rotate over racks and nodes alike, and each further replica
 * is the next node after it in the list whose rack holds no replica of the partition yet, until every rack holds one;
 * then the next node not yet chosen. With as many nodes in every rack this gives every node as many replicas as
 * leaders times the replication factor (as the placement without racks does, consecutive nodes). A partition's replicas thus span {@code min(rf, racks)} racks. A node without a rack counts as a rack
 * of its own name "" (Kafka refuses to mix; FluxMQ places them like one more rack). Pure function.
 */
final class Placement {
    private Placement() {
    }

    /** Placement over nodes without racks. */
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

    /**
     * Placement over {@code racks} (node id to rack, "" for none): rack-aware when any node has a rack, else as
     * {@link #assign(String, int, int, int, List)}. {@code rf} must not exceed the number of nodes.
     */
    static List<List<Integer>> assign(String topic, int firstPartition, int count, int rf, Map<Integer, String> racks) {
        if (racks.values().stream().allMatch(String::isEmpty)) {
            return assign(topic, firstPartition, count, rf, List.copyOf(racks.keySet()));
        }
        List<Integer> alternated = alternateRacks(racks);
        int n = alternated.size();
        int rackCount = (int) racks.values().stream().distinct().count();
        int offset = Math.floorMod(topic.hashCode(), n);
        List<List<Integer>> out = new ArrayList<>();
        for (int p = firstPartition; p < firstPartition + count; p++) {
            int leader = (p + offset) % n;
            List<Integer> replicas = new ArrayList<>(List.of(alternated.get(leader)));
            Set<String> usedRacks = new HashSet<>(Set.of(racks.get(alternated.get(leader))));
            for (int step = 1; replicas.size() < rf && step <= 2 * n; step++) {
                int candidate = alternated.get((leader + step) % n);
                String rack = racks.get(candidate);
                if (!replicas.contains(candidate) && (!usedRacks.contains(rack) || usedRacks.size() == rackCount)) {
                    replicas.add(candidate);
                    usedRacks.add(rack);
                }
            }
            out.add(replicas);
        }
        return out;
    }

    /**
     * The node to take the place of {@code leaving} among {@code replicas} (decommissioning): among the nodes of
     * {@code racks} not already a replica, one whose rack no remaining replica has if there is one, then the one with
     * the fewest replicas in {@code load}, then the lowest id; -1 when no node is left.
     */
    static int replacement(List<Integer> replicas, int leaving, Map<Integer, String> racks, Map<Integer, Integer> load) {
        Set<String> remainingRacks = new HashSet<>();
        for (int r : replicas) {
            if (r != leaving && racks.containsKey(r)) {
                remainingRacks.add(racks.get(r));
            }
        }
        boolean rackAware = !racks.values().stream().allMatch(String::isEmpty);
        int best = -1;
        for (Map.Entry<Integer, String> e : new TreeMap<>(racks).entrySet()) {
            int id = e.getKey();
            if (replicas.contains(id)) {
                continue;
            }
            if (best < 0 || better(id, best, rackAware, remainingRacks, racks, load)) {
                best = id;
            }
        }
        return best;
    }

    private static boolean better(int a, int b, boolean rackAware, Set<String> remainingRacks,
                                  Map<Integer, String> racks, Map<Integer, Integer> load) {
        if (rackAware) {
            boolean aNew = !remainingRacks.contains(racks.get(a));
            boolean bNew = !remainingRacks.contains(racks.get(b));
            if (aNew != bNew) {
                return aNew;
            }
        }
        return load.getOrDefault(a, 0) < load.getOrDefault(b, 0); // ties: the lower id, visited first
    }

    /** The node ids alternating between racks (in rack name order, ids ascending within a rack). */
    static List<Integer> alternateRacks(Map<Integer, String> racks) {
        Map<String, List<Integer>> byRack = new TreeMap<>();
        new TreeMap<>(racks).forEach((id, rack) -> byRack.computeIfAbsent(rack, r -> new ArrayList<>()).add(id));
        List<Integer> out = new ArrayList<>();
        for (int round = 0; out.size() < racks.size(); round++) {
            for (List<Integer> ids : byRack.values()) {
                if (round < ids.size()) {
                    out.add(ids.get(round));
                }
            }
        }
        return out;
    }
}
