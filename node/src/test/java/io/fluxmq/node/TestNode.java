package io.fluxmq.node;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartitionInfo;

/** An in-JVM FluxMQ node on free loopback ports over a given data directory, for integration tests. */
final class TestNode implements AutoCloseable {
    private final Path dataDir;
    private final Map<String, String> overrides;
    private final int kafkaPort;
    private final int raftPort;
    private final int httpPort;
    private final int controlPort;
    private FluxNode node;

    private TestNode(Path dataDir, Map<String, String> overrides) throws IOException {
        this.dataDir = dataDir;
        this.overrides = new HashMap<>(overrides);
        this.kafkaPort = freePort();
        this.raftPort = freePort();
        this.httpPort = freePort();
        this.controlPort = freePort();
    }

    static TestNode start(Path dataDir) throws Exception {
        return start(dataDir, Map.of());
    }

    static TestNode start(Path dataDir, Map<String, String> overrides) throws Exception {
        TestNode n = new TestNode(dataDir, overrides);
        n.restart();
        return n;
    }

    /** Starts a node with settings that depend on its Kafka port (a {@code listeners} list, say). */
    static TestNode start(Path dataDir, IntFunction<Map<String, String>> overridesForKafkaPort) throws Exception {
        TestNode n = new TestNode(dataDir, Map.of());
        n.overrides.putAll(overridesForKafkaPort.apply(n.kafkaPort));
        n.restart();
        return n;
    }

    /** Starts (again) over the same data dir and ports. */
    void restart() throws Exception {
        Map<String, String> s = new HashMap<>(overrides);
        s.put("data.dir", dataDir.toString());
        s.put("kafka.port", Integer.toString(kafkaPort));
        s.put("raft.port", Integer.toString(raftPort));
        s.put("http.port", Integer.toString(httpPort));
        s.put("control.port", Integer.toString(controlPort));
        s.putIfAbsent("raft.election.timeout.min.ms", "300");
        s.putIfAbsent("raft.election.timeout.max.ms", "600");
        if (NodeProcess.testEngine() != null) {
            s.putIfAbsent(NodeConfig.PARTITION_ENGINE, NodeProcess.testEngine());
        }
        if (NodeProcess.testWalSegmentBytes() != null) {
            s.putIfAbsent(NodeConfig.RAFT_WAL_SEGMENT_BYTES, NodeProcess.testWalSegmentBytes());
        }
        FluxNode starting = new FluxNode(NodeConfig.from(s));
        try {
            starting.start();
        } catch (Exception | Error e) {
            try {
                starting.close();
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        node = starting;
    }

    /** Changes one setting for the next {@link #restart}. */
    void set(String key, String value) {
        overrides.put(key, value);
    }

    void stop() {
        if (node != null) {
            node.close();
            node = null;
        }
    }

    String bootstrap() {
        return "127.0.0.1:" + kafkaPort;
    }

    int kafkaPort() {
        return kafkaPort;
    }

    /** {@code http://127.0.0.1:<http port>} (health, readiness, metrics). */
    String httpAddress() {
        return "http://127.0.0.1:" + httpPort;
    }

    Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        return Admin.create(p);
    }

    /**
     * Creates a topic and waits until every partition has a leader: as in Kafka, CreateTopics answers once the topic
     * is in the metadata, and a request sent before the partition's first election is refused with
     * NOT_LEADER_OR_FOLLOWER (the Kafka clients retry that; raw requests in tests do not).
     */
    void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                List<TopicPartitionInfo> described = admin
                        .describeTopics(List.of(name)).allTopicNames().get().get(name).partitions();
                if (described.size() == partitions && described.stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("partitions of " + name + " without a leader after 60 s: " + described);
                }
                Thread.sleep(20);
            }
        }
    }

    /**
     * A port for a node to bind, below the kernel's ephemeral range. Cluster members must know each other's ports
     * before they start (cluster.nodes), so a node cannot bind port 0; a port the kernel handed out and took back
     * (new ServerSocket(0)) may be given again to any outgoing connection, such as a Kafka client's, before the node
     * binds it. Ports below the ephemeral range are never assigned that way, and this JVM hands each out once.
     */
    static synchronized int freePort() throws IOException {
        int low = ephemeralLow();
        int span = low - FIRST_TEST_PORT;
        for (int tries = 0; tries < span; tries++) {
            int port = FIRST_TEST_PORT + Math.floorMod(nextPort++, span);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
                return port;
            } catch (IOException taken) {
                // bound by another process: try the next one
            }
        }
        throw new IOException("no free port in [" + FIRST_TEST_PORT + ", " + low + ")");
    }

    private static final int FIRST_TEST_PORT = 10_000;
    private static int nextPort = new Random().nextInt(20_000);

    private static int ephemeralLow() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
            return Math.max(FIRST_TEST_PORT + 1000, Integer.parseInt(range.trim().split("\\s+")[0]));
        } catch (IOException | RuntimeException e) {
            return 32768; // Linux's default start of the ephemeral range
        }
    }

    /**
     * What a test prints when a partition stalls: each partition's state on this node (on the multi-Raft engine its
     * Raft group, asked on its event loop: no answer within 5 s means the loop is stuck) and the stacks of the
     * threads that carry appends (Raft event loops, append executors, log openers).
     */
    String diagnose(String topic, int partitions) {
        StringBuilder out = new StringBuilder("node diagnosis for topic " + topic + ":\n");
        io.fluxmq.raft.engine.EnginePartitions engine = node == null ? null : node.engine();
        for (int i = 0; i < partitions && engine != null; i++) {
            org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition(topic, i);
            io.fluxmq.raft.engine.EnginePartition p = engine.partition(tp);
            out.append("  ").append(tp).append(": ");
            if (p == null) {
                out.append(engine.hostedOrOpening().contains(tp) ? "opening" : "not hosted").append('\n');
                continue;
            }
            out.append("leader=").append(p.leader()).append(" epoch=").append(p.leaderEpoch())
                    .append(" isLeader=").append(p.isLeader()).append(" hw=").append(p.highWatermark())
                    .append(" failure=").append(p.failure()).append(" raft=");
            try {
                out.append(engine.engine().inspect(p.groupId(), Object::toString)
                        .get(5, TimeUnit.SECONDS));
            } catch (Exception e) {
                out.append("no answer from its event loop: ").append(e);
            }
            out.append('\n');
        }
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            String name = thread.getName();
            if (name.startsWith("raft-loop") || name.startsWith("fluxmq-append") || name.startsWith("raft-open")) {
                out.append("  thread ").append(name).append(' ').append(thread.getState()).append('\n');
                for (int f = 0; f < Math.min(stack.length, 12); f++) {
                    out.append("      at ").append(stack[f]).append('\n');
                }
            }
        });
        return out.toString();
    }

    @Override
    public void close() {
        stop();
    }
}
