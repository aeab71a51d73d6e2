package io.fluxmq.node;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DescribeConfigsResponse;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;

/**
 * A multi-process FluxMQ cluster on loopback for failure tests: {@code TestCluster.start(3, dir)},
 * {@code awaitLeader(topic, p)}, {@code node(i).kill()}, {@code node(i).freeze()}, {@code restart(i)}.
 */
final class TestCluster implements AutoCloseable {
    private final List<NodeProcess> nodes = new ArrayList<>();
    private final String bootstrap;
    private final List<Integer> controlPorts = new ArrayList<>();
    private final List<Integer> httpPorts = new ArrayList<>();
    /** The original members' {@code cluster.nodes} entries, the seeds of a node that {@link #join}s. */
    private final String members;
    private final Map<String, String> settings;
    private final IntFunction<Path> dataDirs;
    private final String namePrefix;

    /** {@code kafkaPorts} null: free ports. */
    private TestCluster(int size, Map<String, String> settings, IntFunction<Map<String, String>> nodeSettings,
                        IntFunction<Path> dataDirs, String namePrefix, int[] kafkaPorts) throws Exception {
        this.settings = settings;
        this.dataDirs = dataDirs;
        this.namePrefix = namePrefix;
        int[] kafka = new int[size];
        int[] raft = new int[size];
        StringBuilder members = new StringBuilder();
        for (int i = 0; i < size; i++) {
            kafka[i] = kafkaPorts != null ? kafkaPorts[i] : TestNode.freePort();
            raft[i] = TestNode.freePort();
            controlPorts.add(TestNode.freePort());
            httpPorts.add(TestNode.freePort());
            members.append(members.length() == 0 ? "" : ",").append(entry(i, kafka[i], raft[i]));
        }
        this.members = members.toString();
        for (int i = 0; i < size; i++) {
            Map<String, String> s = new HashMap<>(settings);
            s.putAll(nodeSettings.apply(i));
            s.put("node.id", Integer.toString(i));
            s.put("cluster.nodes", members.toString());
            s.putIfAbsent("raft.election.timeout.min.ms", "1000");
            s.putIfAbsent("raft.election.timeout.max.ms", "2000");
            nodes.add(new NodeProcess(namePrefix + i, dataDirs.apply(i), kafka[i], raft[i], s));
        }
        bootstrap = java.util.Arrays.stream(kafka).mapToObj(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    private String entry(int id, int kafka, int raft) {
        return id + "@127.0.0.1:" + kafka + ":" + raft + ":" + httpPorts.get(id) + ":" + controlPorts.get(id);
    }

    /** The original nodes' {@code cluster.nodes}: the seeds a joining node names. */
    String seeds() {
        return members;
    }

    /** The cluster id the original nodes derive from their {@code cluster.nodes}. */
    String clusterId() {
        String first = members.split(",")[0];
        return NodeConfig.from(Map.of("node.id", "0", "cluster.nodes", members, "raft.port", first.split(":")[2]))
                .clusterId();
    }

    /**
     * Starts node {@code size()} (its id), which joins the running cluster: its {@code cluster.nodes} names the
     * original members as seeds (they include the controllers) and itself, and it sets the cluster's id; the original
     * nodes know of it only through metadata. {@code extra} goes on top of the cluster's settings. Waits up to 90 s for
     * its Kafka port.
     */
    NodeProcess join(Map<String, String> extra) throws Exception {
        NodeProcess node = startJoining(extra);
        node.awaitPort(90_000); // as NodeProcess.start allows: start-up beside loaded nodes on 2 cores is slow
        return node;
    }

    /** As {@link #join}, without waiting for the Kafka port (for a node that is expected not to get in). */
    NodeProcess startJoining(Map<String, String> extra) throws Exception {
        int id = nodes.size();
        int kafka = TestNode.freePort();
        int raft = TestNode.freePort();
        controlPorts.add(TestNode.freePort());
        httpPorts.add(TestNode.freePort());
        Map<String, String> s = new HashMap<>(settings);
        s.putAll(extra);
        s.put("node.id", Integer.toString(id));
        s.put("cluster.nodes", members + "," + entry(id, kafka, raft));
        s.put("cluster.id", clusterId());
        s.putIfAbsent("raft.election.timeout.min.ms", "1000");
        s.putIfAbsent("raft.election.timeout.max.ms", "2000");
        NodeProcess node = new NodeProcess(namePrefix + id, dataDirs.apply(id), kafka, raft, s);
        nodes.add(node);
        node.start(false);
        return node;
    }

    static TestCluster start(int size, Path dir) throws Exception {
        return start(size, dir, Map.of());
    }

    static TestCluster start(int size, Path dir, Map<String, String> settings) throws Exception {
        return withDataDirs(size, settings, i -> dir.resolve("node-" + i), "cluster-node-");
    }

    /**
     * Starts a cluster whose node {@code i} keeps its data in {@code dataDirs.apply(i)} (e.g. a mount point) and logs
     * to {@code target/node-logs/<namePrefix><i>.log}.
     */
    static TestCluster withDataDirs(int size, Map<String, String> settings, IntFunction<Path> dataDirs,
                                    String namePrefix) throws Exception {
        return start(new TestCluster(size, settings, i -> Map.of(), dataDirs, namePrefix, null));
    }

    /**
     * A cluster whose node {@code i} gets {@code nodeSettings.apply(i)} on top of {@code settings} (e.g. its own
     * listener ports); its Kafka port ({@code cluster.nodes}) is {@code kafkaPorts[i]}.
     */
    static TestCluster start(Path dir, Map<String, String> settings, int[] kafkaPorts,
                             IntFunction<Map<String, String>> nodeSettings) throws Exception {
        return start(new TestCluster(kafkaPorts.length, settings, nodeSettings, i -> dir.resolve("node-" + i),
                "cluster-node-", kafkaPorts));
    }

    private static TestCluster start(TestCluster cluster) throws Exception {
        try {
            for (NodeProcess n : cluster.nodes) {
                n.start(false);
            }
            for (NodeProcess n : cluster.nodes) {
                n.awaitPort(60_000);
            }
        } catch (Exception | AssertionError e) {
            cluster.close(); // the caller never gets the cluster to close: no node may outlive the test
            throw e;
        }
        return cluster;
    }

    NodeProcess node(int id) {
        return nodes.get(id);
    }

    int size() {
        return nodes.size();
    }

    String bootstrap() {
        return bootstrap;
    }

    /** {@code 127.0.0.1:<control port>} of a node (gRPC control service). */
    String controlAddress(int id) {
        return "127.0.0.1:" + controlPorts.get(id);
    }

    /** {@code http://127.0.0.1:<http port>} of a node (health, readiness, metrics). */
    String httpAddress(int id) {
        return "http://127.0.0.1:" + httpPorts.get(id);
    }

    void restart(int id) throws Exception {
        nodes.get(id).start();
    }

    Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }

    /**
     * Creates the topic and waits until every running node's Metadata answer lists each of its partitions with a
     * leader: CreateTopics answers once the node that took it applied the topic, and a client that then asks another
     * node may otherwise be told the topic does not exist yet (Kafka's brokers catch up on metadata the same way).
     */
    void createTopic(String topic, int partitions, short rf) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, rf))).all().get();
        }
        awaitTopicOnEveryNode(topic, partitions, Duration.ofSeconds(60));
    }

    /**
     * Waits until each running member node that answers plaintext Metadata lists the topic's {@code partitions}
     * partitions, each with a leader. A node that cannot be reached this way (stopped, a TLS or SASL listener), that
     * answers with another error (an authorization failure), or that is not a registered member (one that was refused
     * when it tried to join) is not waited for.
     */
    void awaitTopicOnEveryNode(String topic, int partitions, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        java.util.Set<Integer> members = registeredIds();
        for (int id = 0; id < nodes.size(); id++) {
            NodeProcess node = nodes.get(id);
            if (members != null && !members.contains(id)) {
                continue;
            }
            String last = "no answer";
            while (node.isAlive()) {
                MetadataResponseData.MetadataResponseTopic answer;
                try {
                    answer = metadata(node, topic);
                } catch (java.io.IOException | RuntimeException unreachable) {
                    break;
                }
                Errors error = Errors.forCode(answer.errorCode());
                if (error != Errors.NONE && error != Errors.UNKNOWN_TOPIC_OR_PARTITION
                        && error != Errors.LEADER_NOT_AVAILABLE) {
                    break;
                }
                if (error == Errors.NONE && answer.partitions().size() == partitions
                        && answer.partitions().stream().allMatch(p -> p.leaderId() >= 0)) {
                    break;
                }
                last = error + ", " + answer.partitions().size() + " partitions, leaders "
                        + answer.partitions().stream().map(p -> p.partitionIndex() + "=" + p.leaderId()).toList();
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(node.bootstrap() + " did not list " + partitions + " partitions of "
                            + topic + " with leaders within " + timeout + "; last answer: " + last);
                }
                Thread.sleep(50);
            }
        }
    }

    /**
     * Waits until every running node answers DescribeConfigs for {@code topic} with {@code value} for {@code key}:
     * an (incremental) AlterConfigs answers once the metadata leader applied the change, and another node applies it a
     * moment later (as Kafka's brokers do), so a DescribeConfigs or a produce right after may still see the old value
     * there. A node that cannot be reached over plaintext is not waited for.
     */
    void awaitTopicConfigOnEveryNode(String topic, String key, String value, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (NodeProcess node : nodes) {
            String last = "no answer";
            while (node.isAlive()) {
                String seen;
                try {
                    seen = topicConfig(node, topic, key);
                } catch (java.io.IOException unreachable) {
                    break; // stopped meanwhile, or not a plaintext listener; a malformed answer fails the test
                }
                if (value.equals(seen)) {
                    break;
                }
                last = String.valueOf(seen);
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(node.bootstrap() + " did not report " + key + "=" + value + " for "
                            + topic + " within " + timeout + "; last answer: " + last);
                }
                Thread.sleep(50);
            }
        }
    }

    private static String topicConfig(NodeProcess node, String topic, String key) throws java.io.IOException {
        short version = 4;
        RequestHeader header = new RequestHeader(ApiKeys.DESCRIBE_CONFIGS, version, "test-cluster", 1);
        DescribeConfigsRequestData request = new DescribeConfigsRequestData().setResources(List.of(
                new DescribeConfigsRequestData.DescribeConfigsResource()
                        .setResourceType(org.apache.kafka.common.config.ConfigResource.Type.TOPIC.id())
                        .setResourceName(topic).setConfigurationKeys(List.of(key))));
        int port = Integer.parseInt(node.bootstrap().substring(node.bootstrap().lastIndexOf(':') + 1));
        try (RawKafkaConnection c = RawKafkaConnection.open(port)) {
            c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(), request, version));
            DescribeConfigsResponseData data = ((DescribeConfigsResponse) AbstractResponse.parseResponse(
                    c.readFrame(), header)).data();
            return data.results().stream().filter(r -> r.errorCode() == Errors.NONE.code())
                    .flatMap(r -> r.configs().stream()).filter(e -> e.name().equals(key))
                    .map(DescribeConfigsResponseData.DescribeConfigsResourceResult::value).findFirst().orElse(null);
        }
    }

    /** The ids of the nodes registered in the cluster's metadata, or null if the cluster cannot be asked. */
    private java.util.Set<Integer> registeredIds() {
        try (Admin admin = admin()) {
            return admin.describeCluster(new org.apache.kafka.clients.admin.DescribeClusterOptions().timeoutMs(5_000))
                    .nodes().get(10, java.util.concurrent.TimeUnit.SECONDS).stream()
                    .map(org.apache.kafka.common.Node::id).collect(Collectors.toSet());
        } catch (Exception e) {
            return null;
        }
    }

    private static MetadataResponseData.MetadataResponseTopic metadata(NodeProcess node, String topic)
            throws java.io.IOException {
        short version = 12;
        RequestHeader header = new RequestHeader(ApiKeys.METADATA, version, "test-cluster", 1);
        MetadataRequestData request = new MetadataRequestData().setAllowAutoTopicCreation(false)
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(topic)));
        int port = Integer.parseInt(node.bootstrap().substring(node.bootstrap().lastIndexOf(':') + 1));
        try (RawKafkaConnection c = RawKafkaConnection.open(port)) {
            c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(), request, version));
            MetadataResponseData data = ((MetadataResponse) AbstractResponse.parseResponse(c.readFrame(), header)).data();
            return data.topics().find(topic) != null ? data.topics().find(topic)
                    : new MetadataResponseData.MetadataResponseTopic().setName(topic)
                            .setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
    }

    /**
     * The topic's id as DescribeTopics reports it, asking again for up to {@code timeout} while the answering node does
     * not know the topic yet (on the multiraft engine CreateTopics answers once the answering node applied it, as
     * Kafka does, so another node may answer UNKNOWN_TOPIC_OR_PARTITION for a moment).
     */
    org.apache.kafka.common.Uuid awaitTopicId(String topic, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = admin()) {
            while (true) {
                try {
                    return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
                            || System.nanoTime() > deadline) {
                        throw e;
                    }
                }
                Thread.sleep(100);
            }
        }
    }

    /** The current leader of a partition as Metadata reports it, waiting up to {@code timeout} for one. */
    int awaitLeader(String topic, int partition, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = admin()) {
            while (System.nanoTime() < deadline) {
                try {
                    TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                    TopicPartitionInfo info = d.partitions().get(partition);
                    if (info.leader() != null && !info.leader().isEmpty()) {
                        return info.leader().id();
                    }
                } catch (Exception retry) {
                    // metadata not available yet
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("no leader for " + topic + "-" + partition + " within " + timeout);
    }

    @Override
    public void close() throws Exception {
        for (NodeProcess n : nodes) {
            if (n.isAlive()) {
                try {
                    n.thaw();
                } catch (Exception ignored) {
                    // best effort before the kill
                }
            }
            n.close();
        }
    }
}
