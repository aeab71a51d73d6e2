package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leadership returns to each partition's preferred replica, also after that node was killed and restarted. */
class LeaderBalanceIT {
    private static final String TOPIC = "balanced";

    @Test
    void leadershipMovesBackToThePreferredReplica(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of("leader.balance.interval.ms", "1000"))) {
            cluster.createTopic(TOPIC, 3, (short) 3);
            List<Integer> preferred = preferredLeaders(cluster);
            assertThat(preferred).as("placement spreads preferred leaders").doesNotHaveDuplicates();
            awaitPreferredLeaders(cluster, preferred);

            int victim = preferred.get(0);
            cluster.node(victim).kill();
            int interim = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (interim == victim && System.nanoTime() < deadline) {
                Thread.sleep(200);
                interim = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
            }
            assertThat(interim).as("a surviving replica leads while the preferred one is down").isNotEqualTo(victim);
            cluster.restart(victim);
            awaitPreferredLeaders(cluster, preferred);
        }
    }

    private static List<Integer> preferredLeaders(TestCluster cluster) throws Exception {
        try (Admin admin = cluster.admin()) {
            TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
            return d.partitions().stream().map(p -> p.replicas().get(0).id()).toList();
        }
    }

    private static void awaitPreferredLeaders(TestCluster cluster, List<Integer> preferred) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<Integer> leaders = List.of();
        while (System.nanoTime() < deadline) {
            leaders = List.of(cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30)),
                    cluster.awaitLeader(TOPIC, 1, Duration.ofSeconds(30)),
                    cluster.awaitLeader(TOPIC, 2, Duration.ofSeconds(30)));
            if (leaders.equals(preferred)) {
                return;
            }
            Thread.sleep(250);
        }
        assertThat(leaders).as("leaders vs preferred leaders").isEqualTo(preferred);
    }
}
