package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PlacementTest {
    private static Map<Integer, String> racks(String... rackOfNode) {
        Map<Integer, String> out = new TreeMap<>();
        for (int i = 0; i < rackOfNode.length; i++) {
            out.put(i, rackOfNode[i]);
        }
        return out;
    }

    @Test
    void withoutRacksPlacementIsWhatItWas() {
        Map<Integer, String> none = racks("", "", "", "");
        assertThat(Placement.assign("orders", 0, 8, 3, none))
                .isEqualTo(Placement.assign("orders", 0, 8, 3, List.of(3, 1, 0, 2)));
    }

    @Test
    void everyPartitionSpansAsManyRacksAsItCanWithLeadersBalanced() {
        // 6 nodes in 3 racks, listed unevenly by id
        Map<Integer, String> racks = racks("a", "a", "b", "c", "b", "c");
        for (String topic : List.of("orders", "payments", "t", "x-1")) {
            List<List<Integer>> placed = Placement.assign(topic, 0, 12, 3, racks);
            Map<Integer, Integer> leaders = new HashMap<>();
            Map<Integer, Integer> replicas = new HashMap<>();
            for (List<Integer> r : placed) {
                assertThat(r).hasSize(3).doesNotHaveDuplicates();
                assertThat(r.stream().map(racks::get).collect(Collectors.toSet())).as(topic + " " + r)
                        .containsExactlyInAnyOrder("a", "b", "c");
                leaders.merge(r.get(0), 1, Integer::sum);
                r.forEach(id -> replicas.merge(id, 1, Integer::sum));
            }
            assertThat(leaders).as("12 leaders over 6 nodes").hasSize(6).allSatisfy((id, n) -> assertThat(n).isEqualTo(2));
            assertThat(replicas).as("36 replicas over 6 nodes").allSatisfy((id, n) -> assertThat(n).isEqualTo(6));
        }
    }

    @Test
    void moreReplicasThanRacksStillUseEveryRackAndDistinctNodes() {
        Map<Integer, String> racks = racks("a", "b", "a", "b");
        for (List<Integer> r : Placement.assign("t", 0, 8, 3, racks)) {
            assertThat(r).hasSize(3).doesNotHaveDuplicates();
            assertThat(new HashSet<>(r.stream().map(racks::get).toList())).containsExactlyInAnyOrder("a", "b");
        }
        assertThat(Placement.assign("t", 0, 4, 4, racks)).allSatisfy(r -> assertThat(r).containsExactlyInAnyOrder(0, 1, 2, 3));
    }

    @Test
    void alternatesRacksInNameOrder() {
        assertThat(Placement.alternateRacks(racks("b", "a", "a", "c", "b"))).containsExactly(1, 0, 3, 2, 4);
    }

    @Test
    void replacementPrefersAMissingRackThenTheLeastLoadedNode() {
        Map<Integer, String> racks = racks("a", "b", "c", "a", "c");
        // replicas 0 (a), 1 (b), 2 (c); 2 leaves: rack c is then missing, so node 4 (c) over node 3 (a)
        assertThat(Placement.replacement(List.of(0, 1, 2), 2, racks, Map.of(4, 10, 3, 0))).isEqualTo(4);
        Map<Integer, String> none = racks("", "", "", "", "");
        assertThat(Placement.replacement(List.of(0, 1, 2), 2, none, Map.of(3, 5, 4, 1))).isEqualTo(4);
        assertThat(Placement.replacement(List.of(0, 1, 2), 2, none, Map.of())).as("ties: lowest id").isEqualTo(3);
        assertThat(Placement.replacement(List.of(0, 1), 1, racks("a", "b"), Map.of())).isEqualTo(-1);
    }
}
