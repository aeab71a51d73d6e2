package io.fluxmq.kafka.group;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;

/**
 * FluxMQ's server-side assignors for KIP-848 groups, named as Kafka names them ({@code group.remote.assignor}).
 *
 * <ul>
 *   <li>{@code uniform}: spreads every subscribed partition so member counts differ by at most one among members
 *   that could take it, keeping a partition with its current owner where the balance allows (sticky).</li>
 *   <li>{@code range}: per topic, members subscribed to it (sorted by instance id, else member id) get contiguous
 *   ranges, the first {@code partitions % members} one more; co-partitioned topics line up.</li>
 * </ul>
 */
final class Assignors {
    static final Set<String> NAMES = Set.of("uniform", "range");

    /** What the assignor knows of one member: a sort key, its subscribed topics and its current assignment. */
    record MemberSpec(String sortKey, Set<Uuid> topics, Map<Uuid, Set<Integer>> current) {}

    private Assignors() {
    }

    /** Member id → topic id → partitions. Every member of {@code members} appears, possibly with nothing. */
    static Map<String, Map<Uuid, Set<Integer>>> assign(String assignor, Map<String, MemberSpec> members,
                                                       Map<Uuid, Integer> partitionCounts) {
        return switch (assignor) {
            case "range" -> range(members, partitionCounts);
            case "uniform" -> uniform(members, partitionCounts);
            default -> throw new IllegalArgumentException("unknown assignor " + assignor);
        };
    }

    private static Map<String, Map<Uuid, Set<Integer>>> empty(Map<String, MemberSpec> members) {
        Map<String, Map<Uuid, Set<Integer>>> out = new TreeMap<>();
        members.keySet().forEach(m -> out.put(m, new TreeMap<>()));
        return out;
    }

    static Map<String, Map<Uuid, Set<Integer>>> range(Map<String, MemberSpec> members,
                                                      Map<Uuid, Integer> partitionCounts) {
        Map<String, Map<Uuid, Set<Integer>>> out = empty(members);
        for (Map.Entry<Uuid, Integer> topic : new TreeMap<>(partitionCounts).entrySet()) {
            List<String> subscribers = members.entrySet().stream()
                    .filter(e -> e.getValue().topics().contains(topic.getKey()))
                    .sorted(Comparator.comparing((Map.Entry<String, MemberSpec> e) -> e.getValue().sortKey())
                            .thenComparing(Map.Entry::getKey))
                    .map(Map.Entry::getKey).toList();
            if (subscribers.isEmpty()) {
                continue;
            }
            int n = topic.getValue();
            int per = n / subscribers.size();
            int extra = n % subscribers.size();
            int next = 0;
            for (int i = 0; i < subscribers.size(); i++) {
                int count = per + (i < extra ? 1 : 0);
                Set<Integer> partitions = new TreeSet<>();
                for (int p = next; p < next + count; p++) {
                    partitions.add(p);
                }
                next += count;
                if (!partitions.isEmpty()) {
                    out.get(subscribers.get(i)).put(topic.getKey(), partitions);
                }
            }
        }
        return out;
    }

    static Map<String, Map<Uuid, Set<Integer>>> uniform(Map<String, MemberSpec> members,
                                                        Map<Uuid, Integer> partitionCounts) {
        Map<String, Map<Uuid, Set<Integer>>> out = empty(members);
        if (members.isEmpty()) {
            return out;
        }
        Map<String, Integer> counts = new HashMap<>();
        members.keySet().forEach(m -> counts.put(m, 0));
        List<long[]> unassigned = new ArrayList<>();
        List<Uuid> topicIds = new ArrayList<>(new TreeSet<>(partitionCounts.keySet()));
        int total = 0;
        for (Uuid topic : topicIds) {
            if (members.values().stream().anyMatch(m -> m.topics().contains(topic))) {
                total += partitionCounts.get(topic);
            }
        }
        int quota = (total + members.size() - 1) / members.size();
        // Keep current owners up to the quota.
        for (int t = 0; t < topicIds.size(); t++) {
            Uuid topic = topicIds.get(t);
            for (int p = 0; p < partitionCounts.get(topic); p++) {
                String owner = null;
                for (Map.Entry<String, MemberSpec> e : new TreeMap<>(members).entrySet()) {
                    Set<Integer> cur = e.getValue().current().get(topic);
                    if (cur != null && cur.contains(p) && e.getValue().topics().contains(topic)
                            && counts.get(e.getKey()) < quota) {
                        owner = e.getKey();
                        break;
                    }
                }
                if (owner != null) {
                    give(out, counts, owner, topic, p);
                } else if (members.values().stream().anyMatch(m -> m.topics().contains(topic))) {
                    unassigned.add(new long[] {t, p});
                }
            }
        }
        // Hand out the rest to the least loaded subscriber.
        for (long[] tp : unassigned) {
            Uuid topic = topicIds.get((int) tp[0]);
            String target = leastLoaded(members, counts, topic);
            give(out, counts, target, topic, (int) tp[1]);
        }
        // Even out (heterogeneous subscriptions may leave a gap above one).
        boolean moved = true;
        while (moved) {
            moved = false;
            for (String from : new TreeSet<>(members.keySet())) {
                for (Map.Entry<Uuid, Set<Integer>> owned : out.get(from).entrySet()) {
                    String to = leastLoaded(members, counts, owned.getKey());
                    if (to != null && counts.get(from) - counts.get(to) > 1 && !owned.getValue().isEmpty()) {
                        int p = ((TreeSet<Integer>) owned.getValue()).last();
                        owned.getValue().remove(p);
                        counts.merge(from, -1, Integer::sum);
                        give(out, counts, to, owned.getKey(), p);
                        moved = true;
                        break;
                    }
                }
                if (moved) {
                    break;
                }
            }
        }
        out.values().forEach(m -> m.values().removeIf(Set::isEmpty));
        return out;
    }

    private static String leastLoaded(Map<String, MemberSpec> members, Map<String, Integer> counts, Uuid topic) {
        return members.entrySet().stream().filter(e -> e.getValue().topics().contains(topic))
                .map(Map.Entry::getKey)
                .min(Comparator.comparing((String m) -> counts.get(m)).thenComparing(m -> m)).orElse(null);
    }

    private static void give(Map<String, Map<Uuid, Set<Integer>>> out, Map<String, Integer> counts, String member,
                             Uuid topic, int partition) {
        out.get(member).computeIfAbsent(topic, k -> new TreeSet<>()).add(partition);
        counts.merge(member, 1, Integer::sum);
    }
}
