package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.InternalServerErrorException;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;

/**
 * The container image (deploy/Dockerfile) driven by Testcontainers: three containers of it on a network the test
 * creates, each with the internal Kafka listener for peers ({@code nodeN:19092}) and the external one published on a
 * free 127.0.0.1 port and advertised as such, as in docker-compose.yml. Started in parallel and waited on through the
 * image's HEALTHCHECK ({@code /ready}). Then, with Kafka clients on the host through the published ports: a default
 * producer and a consumer group; a partition leader's container killed under a continuous producer and started
 * again; a container paused past {@code raft.pause.close.threshold.ms} (5 s here), which must then exit with code 3
 * rather than run on as a zombie. After each fault the cluster must be whole again and every acknowledged record
 * present once at its offset ({@link ComposeChecks}, {@link Consistency}).
 *
 * <p>Needs a Docker engine and a locally built image, given as {@code -Dfluxmq.image=IMAGE}; no registry is used (no
 * Ryuk: the test removes its containers and network itself; both carry the label {@value #LABEL}).
 * deploy/compose-test.sh builds the image and runs this test. Without the property every test is skipped with a
 * message saying so.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerIT {
    private static final String IMAGE = System.getProperty("fluxmq.image", "").trim();
    private static final int NODES = 3;
    private static final int PARTITIONS = 6;
    private static final long PAUSE_THRESHOLD_MS = 5000;
    /** How long the paused container stays paused: well past the threshold. */
    private static final long PAUSED_MS = PAUSE_THRESHOLD_MS + 4000;
    private static final Duration BOUND = Duration.ofSeconds(180);
    /** On the test's containers and network, so that deploy/compose-test.sh removes them should the test JVM die. */
    private static final String LABEL = "io.fluxmq.test.container-it";

    private static Network network;
    private static final List<GenericContainer<?>> nodes = new ArrayList<>();
    private static String bootstrap;
    private static ComposeChecks checks;

    /**
     * In each test, not in {@code @BeforeAll}: an assumption failing there is reported as a class with no tests,
     * not as skipped ones.
     */
    @BeforeEach
    void needsImage() {
        assumeFalse(IMAGE.isEmpty(), "ContainerIT skipped: it needs a locally built image of deploy/Dockerfile, given as"
                + " -Dfluxmq.image=IMAGE; deploy/compose-test.sh (run by .ci/run) builds one and runs this test");
    }

    @BeforeAll
    static void startCluster() throws Exception {
        if (IMAGE.isEmpty()) {
            return; // every test is skipped (needsImage)
        }
        network = Network.builder().createNetworkCmdModifier(cmd -> cmd.withLabels(Map.of(LABEL, "true"))).build();
        int[] hostPorts = new int[NODES];
        for (int i = 0; i < NODES; i++) {
            hostPorts[i] = TestNode.freePort();
        }
        String members = IntStream.range(0, NODES).mapToObj(i -> i + "@node" + i + ":19092:9192")
                .collect(Collectors.joining(","));
        String external = IntStream.range(0, NODES).mapToObj(i -> i + "@127.0.0.1:" + hostPorts[i])
                .collect(Collectors.joining(","));
        for (int i = 0; i < NODES; i++) {
            int hostPort = hostPorts[i];
            GenericContainer<?> node = new GenericContainer<>(DockerImageName.parse(IMAGE))
                    .withLabel(LABEL, "true")
                    .withNetwork(network)
                    .withNetworkAliases("node" + i)
                    .withEnv("FLUXMQ_NODE_ID", Integer.toString(i))
                    .withEnv("FLUXMQ_CLUSTER_NODES", members)
                    .withEnv("FLUXMQ_KAFKA_PORT", "19092")
                    .withEnv("FLUXMQ_KAFKA_ADVERTISED_HOST", "node" + i)
                    .withEnv("FLUXMQ_KAFKA_EXTERNAL_PORT", "9092")
                    .withEnv("FLUXMQ_KAFKA_EXTERNAL_NODES", external)
                    .withEnv("FLUXMQ_RAFT_PAUSE_CLOSE_THRESHOLD_MS", Long.toString(PAUSE_THRESHOLD_MS))
                    // the advertised external address must be known before the start: a fixed host port, loopback only
                    .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                            .withPortBindings(new PortBinding(Ports.Binding.bindIpAndPort("127.0.0.1", hostPort),
                                    ExposedPort.tcp(9092)))
                            .withMemory(1L << 30))
                    .waitingFor(Wait.forHealthcheck().withStartupTimeout(BOUND));
            nodes.add(node);
        }
        long start = System.nanoTime();
        Startables.deepStart(nodes).join();
        System.out.printf("CONTAINERS %d containers of %s healthy after %d ms%n", NODES, IMAGE,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        bootstrap = IntStream.range(0, NODES).mapToObj(i -> "127.0.0.1:" + hostPorts[i])
                .collect(Collectors.joining(","));
        checks = new ComposeChecks(bootstrap, IntStream.range(0, NODES)
                .mapToObj(i -> "node" + i + "=" + nodes.get(i).getContainerId()).toList());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        Path logs = Path.of("target", "node-logs");
        Files.createDirectories(logs);
        for (int i = 0; i < nodes.size(); i++) {
            GenericContainer<?> node = nodes.get(i);
            try {
                if (node.getContainerId() != null) {
                    Files.writeString(logs.resolve("container-node" + i + ".log"), node.getLogs());
                }
            } finally {
                node.stop(); // removes the container and its anonymous data volume
            }
        }
        if (network != null) {
            network.close();
        }
    }

    /**
     * Pauses a container, tried up to {@value ComposeChecks#PAUSE_ATTEMPTS} times: the cgroup freezer gives up ("unable
     * to freeze") when a process of the container stays in an uninterruptible sleep (the node in an fsync), and the
     * engine then leaves it running. Returns when the attempt that froze it started.
     */
    private static long pause(String id) {
        for (int attempt = 1; ; attempt++) {
            long at = System.nanoTime();
            try {
                docker().pauseContainerCmd(id).exec();
                return at;
            } catch (InternalServerErrorException e) {
                boolean freezerGaveUp = String.valueOf(e.getMessage()).contains("unable to freeze");
                if (attempt == ComposeChecks.PAUSE_ATTEMPTS || !freezerGaveUp) {
                    throw e;
                }
                System.out.printf("CONTAINERS docker pause attempt %d: the freezer gave up, trying again%n", attempt);
            }
        }
    }

    private static DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    private static InspectContainerResponse.ContainerState state(int node) {
        return docker().inspectContainerCmd(nodes.get(node).getContainerId()).exec().getState();
    }

    @Test
    @Order(1)
    void healthyContainersServeAProducerAndAConsumerGroupOnTheHost() throws Exception {
        for (int i = 0; i < NODES; i++) {
            assertThat(state(i).getHealth().getStatus()).as("health of node%d", i).isEqualTo("healthy");
        }
        checks.roundTrip("container-roundtrip", 10_000);
    }

    @Test
    @Order(2)
    void clusterServesOnWhenALeaderContainerIsKilled() throws Exception {
        String topic = "container-kill";
        checks.createTopic(topic, PARTITIONS);
        ContinuousProducer producer = ContinuousProducer.start(bootstrap, topic, "k", 100);
        ComposeChecks.awaitAcked(producer, 5_000);
        ComposeChecks.Victim victim = checks.victim(topic, new ArrayList<>());
        String id = nodes.get(victim.node()).getContainerId();
        long t = System.nanoTime();
        docker().killContainerCmd(id).exec();
        long ackMs = producer.firstAckAfter(victim.led(), t, BOUND);
        System.out.printf("CONTAINERS docker kill node%d (leader of %s): first acknowledged produce to it after %d ms%n",
                victim.node(), victim.led(), ackMs);
        assertThat(ackMs).as("a record to %s acknowledged after its leader's container was killed", victim.led())
                .isNotNegative();
        ComposeChecks.awaitAcked(producer, producer.acked().size() + 5_000);
        t = System.nanoTime();
        docker().startContainerCmd(id).exec();
        checks.heal("docker start node" + victim.node(), victim.node(), topic, t);
        ComposeChecks.awaitAcked(producer, producer.acked().size() + 5_000);
        checks.finish("container kill", topic, producer);
    }

    @Test
    @Order(3)
    void containerPausedPastTheThresholdExitsWithCode3AndTheClusterServesOn() throws Exception {
        String topic = "container-pause";
        checks.createTopic(topic, PARTITIONS);
        ContinuousProducer producer = ContinuousProducer.start(bootstrap, topic, "p", 100);
        ComposeChecks.awaitAcked(producer, 5_000);
        ComposeChecks.Victim victim = checks.victim(topic, new ArrayList<>());
        String id = nodes.get(victim.node()).getContainerId();
        long t = pause(id);
        TimeUnit.MILLISECONDS.sleep(PAUSED_MS); // the test's own schedule: how long the container stays frozen
        long unpausedAt = System.nanoTime();
        docker().unpauseContainerCmd(id).exec();
        long pausedMs = TimeUnit.NANOSECONDS.toMillis(unpausedAt - t);
        assertThat(pausedMs).as("paused past the threshold").isGreaterThan(PAUSE_THRESHOLD_MS + 1000);

        long deadline = System.nanoTime() + BOUND.toNanos();
        while (Boolean.TRUE.equals(state(victim.node()).getRunning()) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        InspectContainerResponse.ContainerState state = state(victim.node());
        System.out.printf("CONTAINERS docker pause node%d for %d ms: container %s with exit code %d %d ms after the "
                + "unpause%n", victim.node(), pausedMs, state.getStatus(), state.getExitCodeLong(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - unpausedAt));
        assertThat(state.getRunning()).as("node%d still running after the long pause", victim.node()).isFalse();
        assertThat(state.getExitCodeLong()).as("exit code of node%d", victim.node())
                .isEqualTo(FluxNode.EXIT_RAFT_SERVER_LOST);
        assertThat(nodes.get(victim.node()).getLogs()).contains("Raft server closed underneath node " + victim.node());

        ComposeChecks.awaitAcked(producer, producer.acked().size() + 5_000);
        t = System.nanoTime();
        docker().startContainerCmd(id).exec();
        checks.heal("docker start node" + victim.node() + " after its exit", victim.node(), topic, t);
        ComposeChecks.awaitAcked(producer, producer.acked().size() + 5_000);
        checks.finish("container pause past the threshold", topic, producer);
    }
}
