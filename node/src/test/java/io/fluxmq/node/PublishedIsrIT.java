package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ISR a partition's leader computes reaches every node through cluster metadata: three processes, an RF=3
 * partition; a follower of it is stopped. Once the leader's own Metadata answer counts it out of the ISR, the other
 * follower's answer (a raw Metadata request to that node alone, and a Kafka Admin client bootstrapped only at it)
 * shows the same smaller ISR, while the stopped node is not yet marked DOWN (the session timeout is long, so nothing
 * but the published ISR can tell that node). After the restart the ISR grows back to three in every node's answer.
 */
class PublishedIsrIT {
    private static final String TOPIC = "isr";
    private static final short METADATA_VERSION = 12;

    @Test
    void followersServeTheIsrTheLeaderPublished(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of(
                // longer than the test's waits: a DOWN node would leave every node's ISR without it anyway
                "node.session.timeout.ms", "300000",
                // no periodic hand-over to the preferred leader while the test runs
                "leader.balance.interval.ms", "3600000"))) {
            cluster.createTopic(TOPIC, 1, (short) 3);
            cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
            // the first leader may be any replica; one that is not the preferred (first) replica hands over to it
            // soon after (a CI run saw that hand-over after the test had taken the first leader as settled)
            int leader = awaitPartition(cluster, 0, p -> !p.replicaNodes().isEmpty()
                    && p.leaderId() == p.replicaNodes().get(0) && p.isrNodes().size() == 3, 60_000,
                    "the preferred replica leads with all three in sync").leaderId();
            for (int id = 0; id < 3; id++) {
                int node = id;
                awaitPartition(cluster, node, p -> p.leaderId() == leader && p.isrNodes().size() == 3, 60_000,
                        "node " + node + " lists leader " + leader + " and all three replicas in sync");
            }
            int victim = (leader + 1) % 3;
            int follower = (leader + 2) % 3;

            cluster.node(victim).stop();
            long stoppedAt = System.nanoTime();
            awaitPartition(cluster, leader, p -> p.leaderId() == leader
                    && Set.copyOf(p.isrNodes()).equals(Set.of(leader, follower)), 30_000, "leader " + leader + " counts stopped node " + victim + " out of the ISR");
            long leaderMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);

            MetadataResponseData.MetadataResponsePartition atFollower = awaitPartition(cluster, follower,
                    p -> p.isrNodes().size() < 3, 15_000, "follower " + follower + " serves the smaller ISR");
            System.out.printf("PublishedIsrIT: node %d stopped -> out of the ISR at leader %d after %d ms, at follower"
                    + " %d after %d ms%n", victim, leader, leaderMs, follower,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt));
            assertThat(atFollower.leaderId()).as("still led by %d", leader).isEqualTo(leader);
            assertThat(atFollower.isrNodes()).containsExactlyInAnyOrder(leader, follower);
            assertThat(atFollower.replicaNodes()).containsExactlyInAnyOrder(0, 1, 2);
            MetadataResponseData brokers = metadata(cluster, follower);
            assertThat(brokers.brokers().stream().map(MetadataResponseData.MetadataResponseBroker::nodeId))
                    .as("node %d not marked DOWN: only the published ISR counts it out", victim).contains(victim);

            try (Admin admin = adminAt(cluster.node(follower).bootstrap())) {
                TopicPartitionInfo p = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS)
                        .get(TOPIC).partitions().get(0);
                assertThat(p.isr().stream().map(Node::id)).containsExactlyInAnyOrder(leader, follower);
                assertThat(p.replicas()).hasSize(3);
            }

            cluster.restart(victim);
            for (int id = 0; id < 3; id++) {
                int node = id;
                awaitPartition(cluster, node, p -> p.isrNodes().size() == 3, 90_000,
                        "node " + node + " lists all three replicas in sync again");
            }
            try (Admin admin = adminAt(cluster.node(follower).bootstrap())) {
                TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS)
                        .get(TOPIC);
                assertThat(d.partitions().get(0).isr()).hasSize(3);
            }
        }
    }

    private static Admin adminAt(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }

    /**
     * Asks node {@code id} alone (a raw Metadata request to its Kafka port) for partition 0 of the topic until
     * {@code done} holds; the last answer fails the test after {@code timeoutMs}.
     */
    private static MetadataResponseData.MetadataResponsePartition awaitPartition(
            TestCluster cluster, int id, Predicate<MetadataResponseData.MetadataResponsePartition> done,
            long timeoutMs, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        MetadataResponseData.MetadataResponsePartition last = null;
        while (System.nanoTime() < deadline) {
            MetadataResponseData.MetadataResponseTopic topic;
            try {
                topic = metadata(cluster, id).topics().find(TOPIC);
            } catch (IOException notNow) {
                topic = null; // the node is starting
            }
            if (topic != null && topic.errorCode() == 0 && !topic.partitions().isEmpty()) {
                last = topic.partitions().get(0);
                if (done.test(last)) {
                    return last;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not within " + timeoutMs + " ms: " + what + "; last answer of node " + id + ": "
                + last);
    }

    private static MetadataResponseData metadata(TestCluster cluster, int id) throws Exception {
        int port = Integer.parseInt(cluster.node(id).bootstrap().split(":")[1]);
        RequestHeader header = new RequestHeader(ApiKeys.METADATA, METADATA_VERSION, "published-isr-it", 1);
        MetadataRequestData request = new MetadataRequestData().setAllowAutoTopicCreation(false)
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(TOPIC)));
        try (RawKafkaConnection c = RawKafkaConnection.open(port)) {
            c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(), request, METADATA_VERSION));
            return ((MetadataResponse) AbstractResponse.parseResponse(c.readFrame(), header)).data();
        }
    }
}
