package io.fluxmq.node;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;

/**
 * A multi-process FluxMQ cluster where node {@code i} runs in network namespace {@code i} of a {@link NetnsNetwork},
 * bound to that namespace's only address on the standard ports, so a test can cut one node off with iptables:
 * {@code cluster = NetnsCluster.start(3, dir); cluster.network().cut(n, peers); ... heal(n)}. The test JVM reaches
 * every node over the bridge. {@link #close()} kills the nodes, then removes the network.
 */
final class NetnsCluster implements AutoCloseable {
    static final int KAFKA_PORT = 9092;
    static final int RAFT_PORT = 9192;

    private final NetnsNetwork network;
    private final List<NodeProcess> nodes = new ArrayList<>();
    private final Thread cleanupOnExit = new Thread(this::closeQuietly, "netns-cluster-cleanup");

    private NetnsCluster(NetnsNetwork network) {
        this.network = network;
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
    }

    /** Creates the network and starts {@code size} nodes on it; cleans everything up if start-up fails. */
    static NetnsCluster start(int size, Path dir) throws Exception {
        NetnsCluster cluster = new NetnsCluster(NetnsNetwork.create(size));
        try {
            String members = IntStream.range(0, size)
                    .mapToObj(i -> i + "@" + cluster.network.address(i) + ":" + KAFKA_PORT + ":" + RAFT_PORT)
                    .collect(Collectors.joining(","));
            for (int i = 0; i < size; i++) {
                Map<String, String> s = new HashMap<>();
                s.put("node.id", Integer.toString(i));
                s.put("cluster.nodes", members);
                s.put("kafka.host", cluster.network.address(i));
                s.put("raft.host", cluster.network.address(i));
                s.put("raft.election.timeout.min.ms", "1000");
                s.put("raft.election.timeout.max.ms", "2000");
                cluster.nodes.add(new NodeProcess("netns-node-" + i, dir.resolve("node-" + i),
                        cluster.network.launcher(i), cluster.network.address(i), KAFKA_PORT, RAFT_PORT, s));
            }
            for (NodeProcess n : cluster.nodes) {
                n.start(false);
            }
            for (NodeProcess n : cluster.nodes) {
                n.awaitPort(60_000);
            }
            return cluster;
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
    }

    NetnsNetwork network() {
        return network;
    }

    NodeProcess node(int id) {
        return nodes.get(id);
    }

    int size() {
        return nodes.size();
    }

    /** The bootstrap list of the given nodes only. */
    String bootstrap(List<Integer> ids) {
        return ids.stream().map(i -> nodes.get(i).bootstrap()).collect(Collectors.joining(","));
    }

    String bootstrap() {
        return bootstrap(IntStream.range(0, size()).boxed().toList());
    }

    Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        return Admin.create(p);
    }

    void createTopic(String topic, int partitions, short rf) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, rf))).all().get();
        }
    }

    /** The topic's description once every partition has a leader and {@code isr} in-sync replicas. */
    TopicDescription awaitInSync(String topic, int isr, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        TopicDescription last = null;
        try (Admin admin = admin()) {
            while (System.nanoTime() < deadline) {
                try {
                    last = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                    if (last.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()
                            && p.isr().size() >= isr)) {
                        return last;
                    }
                } catch (Exception retry) {
                    // metadata not available yet
                }
                Thread.sleep(200);
            }
        }
        throw new AssertionError("partitions of " + topic + " not all led with " + isr + " in-sync replicas within "
                + timeout + "; last seen " + last);
    }

    /**
     * Diagnostics for a stalled wait: each live node prints a thread dump to its log; this JVM prints its producer
     * threads and the metadata the given nodes report.
     */
    void dumpState(String topic, List<Integer> ids) throws InterruptedException {
        for (NodeProcess n : nodes) {
            try {
                if (n.isAlive()) {
                    n.dumpThreads();
                }
            } catch (java.io.IOException e) {
                System.err.println("NETNS thread dump failed: " + e.getMessage());
            }
        }
        Thread.getAllStackTraces().forEach((t, stack) -> {
            if (t.getName().startsWith("kafka-producer") || t.getName().startsWith("continuous-producer")) {
                StringBuilder b = new StringBuilder("NETNS test JVM thread \"" + t.getName() + "\" " + t.getState());
                for (StackTraceElement e : stack) {
                    b.append("\n\tat ").append(e);
                }
                System.out.println(b);
            }
        });
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(ids));
        try (Admin admin = Admin.create(p)) {
            System.out.println("NETNS metadata from nodes " + ids + ": " + admin.describeTopics(List.of(topic))
                    .allTopicNames().get(10, java.util.concurrent.TimeUnit.SECONDS));
        } catch (Exception e) {
            System.out.println("NETNS metadata from nodes " + ids + " unavailable: " + e);
        }
    }

    /** Stops every node gracefully (SIGTERM), bounded by {@link NodeProcess#stop()}. */
    void stopAll() throws InterruptedException {
        for (NodeProcess n : nodes) {
            if (n.isAlive()) {
                n.stop();
            }
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Kills the nodes and removes the network; also runs if the test JVM exits (SIGTERM) before the test ends. */
    @Override
    public void close() throws InterruptedException {
        try {
            if (Thread.currentThread() != cleanupOnExit) {
                Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
            }
        } catch (IllegalStateException shuttingDown) {
            // the hook runs or has run
        }
        try {
            for (NodeProcess n : nodes) {
                n.close();
            }
        } finally {
            network.close();
        }
    }
}
