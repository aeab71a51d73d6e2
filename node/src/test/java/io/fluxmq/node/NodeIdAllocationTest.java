package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code node.id=-1}: the first start asks the cluster and records the answer in {@code meta.properties}, later starts
 * read it from there; the resolved settings make a valid {@link NodeConfig}; operators' ids stay at or below
 * {@code reserved.broker.max.id}.
 */
class NodeIdAllocationTest {
    private static final String SEEDS = "0@127.0.0.1:9092:9192,1@127.0.0.1:9093:9193,2@127.0.0.1:9094:9194";

    /** Records each question and answers the next id from 1001 on. */
    private static final class FakeCluster implements NodeIdAllocation.Allocator {
        final List<Integer> asked = new ArrayList<>();
        int next = 1001;

        @Override
        public NodeIdAllocation.Allocated allocate(List<ClusterMember> seeds, Map<String, String> settings,
                                                   String clusterId, int minNodeId) {
            assertThat(seeds).extracting(ClusterMember::id).contains(0, 1, 2);
            asked.add(minNodeId);
            return new NodeIdAllocation.Allocated(Math.max(next++, minNodeId), "cluster-A", List.of(0, 1, 2));
        }
    }

    private static Map<String, String> joining(Path dataDir) {
        Map<String, String> s = new HashMap<>();
        s.put("node.id", "-1");
        s.put("data.dir", dataDir.toString());
        s.put("cluster.nodes", SEEDS);
        s.put("kafka.advertised.host", "broker4.example.com");
        s.put("kafka.port", "9095");
        s.put("raft.port", "9195");
        return s;
    }

    @Test
    void theFirstStartAsksTheClusterAndLaterStartsKeepTheId(@TempDir Path dir) throws Exception {
        FakeCluster cluster = new FakeCluster();
        Map<String, String> resolved = NodeIdAllocation.resolve(joining(dir), cluster);
        assertThat(cluster.asked).containsExactly(1001);
        assertThat(resolved).containsEntry("node.id", "1001").containsEntry("cluster.id", "cluster-A")
                .containsEntry("controller.nodes", "0,1,2")
                .containsEntry("cluster.nodes", SEEDS + ",1001@broker4.example.com:9095:9195:9395:9295");
        NodeConfig config = NodeConfig.from(resolved);
        assertThat(config.nodeId()).isEqualTo(1001);
        assertThat(config.clusterId()).isEqualTo("cluster-A");
        assertThat(config.controllerIds()).containsExactly(0, 1, 2);
        assertThat(config.member(1001).controlAddress()).isEqualTo("broker4.example.com:9295");
        assertThat(Files.readString(dir.resolve("meta.properties"))).contains("node.id=1001", "cluster.id=cluster-A");

        Map<String, String> again = NodeIdAllocation.resolve(joining(dir), cluster);
        assertThat(cluster.asked).as("a restart does not ask again").hasSize(1);
        assertThat(again).isEqualTo(resolved);
    }

    @Test
    void theFloorIsReservedBrokerMaxIdPlusOne(@TempDir Path dir) throws Exception {
        FakeCluster cluster = new FakeCluster();
        Map<String, String> s = joining(dir);
        s.put("reserved.broker.max.id", "5000");
        assertThat(NodeIdAllocation.resolve(s, cluster)).containsEntry("node.id", "5001");
        assertThat(cluster.asked).containsExactly(5001);
    }

    @Test
    void givenSettingsWinOverTheAnswer(@TempDir Path dir) throws Exception {
        Map<String, String> s = joining(dir);
        s.put("controller.nodes", "0");
        s.put("cluster.nodes", SEEDS + ",1001@10.0.0.4:9095:9195");
        Map<String, String> resolved = NodeIdAllocation.resolve(s, new FakeCluster());
        assertThat(resolved).containsEntry("controller.nodes", "0")
                .as("an entry for the id already given stays").containsEntry("cluster.nodes", s.get("cluster.nodes"));
    }

    @Test
    void operatorsIdsAreUpToTheReservedMaximum(@TempDir Path dir) throws Exception {
        FakeCluster cluster = new FakeCluster();
        Map<String, String> mine = Map.of("node.id", "1000", "data.dir", dir.toString());
        assertThat(NodeIdAllocation.resolve(mine, cluster)).isSameAs(mine);
        assertThatThrownBy(() -> NodeIdAllocation.resolve(Map.of("node.id", "1001"), cluster))
                .isInstanceOf(NodeConfig.ConfigException.class)
                .hasMessageContaining("node.id 1001 is above reserved.broker.max.id (1000)");

        NodeIdAllocation.resolve(joining(dir), cluster);
        Map<String, String> given = Map.of("node.id", "1001", "data.dir", dir.toString());
        assertThat(NodeIdAllocation.resolve(given, cluster)).as("the id the data dir was given").isSameAs(given);
        assertThat(cluster.asked).hasSize(1);
    }

    @Test
    void refusesWhatCannotWork(@TempDir Path dir) {
        FakeCluster cluster = new FakeCluster();
        Map<String, String> noDir = joining(dir);
        noDir.remove("data.dir");
        assertThatThrownBy(() -> NodeIdAllocation.resolve(noDir, cluster)).hasMessageContaining("needs data.dir");
        Map<String, String> noSeeds = joining(dir);
        noSeeds.remove("cluster.nodes");
        assertThatThrownBy(() -> NodeIdAllocation.resolve(noSeeds, cluster)).hasMessageContaining("needs cluster.nodes");
        Map<String, String> anyHost = joining(dir);
        anyHost.remove("kafka.advertised.host");
        anyHost.put("kafka.host", "0.0.0.0");
        assertThatThrownBy(() -> NodeIdAllocation.resolve(anyHost, cluster))
                .hasMessageContaining("set kafka.advertised.host");
        assertThatThrownBy(() -> NodeIdAllocation.resolve(Map.of("node.id", "-2"), cluster))
                .hasMessageContaining("Invalid value -2 for configuration node.id");
        assertThat(cluster.asked).isEmpty();
        assertThat(dir.resolve("meta.properties")).doesNotExist();
    }
}
