package io.fluxmq.node;

import java.io.IOException;
import java.io.Reader;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fluxmq-node}: starts one node and runs until SIGTERM/SIGINT. Exit codes: 0 stopped, 1 failed, 2 bad config,
 * 3 the Raft server closed underneath the node (a JVM pause longer than {@code raft.pause.close.threshold.ms}): restart
 * it.
 */
@Command(name = "fluxmq-node", mixinStandardHelpOptions = true,
        description = "Runs one FluxMQ node. Settings: defaults < --config file < FLUXMQ_* environment < flags.")
public final class Main implements Callable<Integer> {
    @Option(names = "--config", description = "properties file with settings (keys as in docs/operations.md)")
    Path configFile;

    @Option(names = "--node-id", description = "node.id")
    Integer nodeId;

    @Option(names = "--data-dir", description = "data.dir")
    String dataDir;

    @Option(names = "--kafka-port", description = "kafka.port")
    Integer kafkaPort;

    @Option(names = "--raft-port", description = "raft.port")
    Integer raftPort;

    @Option(names = {"-s", "--set"}, description = "any setting as key=value (repeatable)")
    List<String> sets = List.of();

    /** How long a node started with {@code node.id=-1} asks the cluster for its id before it gives up. */
    static final long NODE_ID_ALLOCATION_TIMEOUT_MS = 120_000;

    /** How long a node whose Raft server was lost may take to close before it halts (a supervisor restarts it). */
    static final long EXIT_GRACE_MS = 15_000;

    /**
     * The exit after a lost Raft server must happen even if closing the node hangs (a shutdown hook that never
     * returns keeps the JVM alive, serving nothing): after {@code graceMs} a daemon thread prints every thread's
     * stack to stderr, so the log shows what hung, and halts the JVM with {@code status}.
     */
    static void haltIfStillRunningAfter(long graceMs, int status) {
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(graceMs);
            } catch (InterruptedException e) {
                return;
            }
            StringBuilder dump = new StringBuilder("fluxmq-node: closing did not finish within " + graceMs
                    + " ms; halting with code " + status + ". Threads:\n");
            Thread.getAllStackTraces().forEach((thread, stack) -> {
                dump.append('"').append(thread.getName()).append("\" ").append(thread.getState()).append('\n');
                for (StackTraceElement frame : stack) {
                    dump.append("    at ").append(frame).append('\n');
                }
            });
            System.err.print(dump);
            System.err.flush();
            Runtime.getRuntime().halt(status);
        }, "fluxmq-halt");
        halt.setDaemon(true);
        halt.start();
    }

    public static void main(String[] args) {
        useCommonPoolForAsyncStages();
        System.exit(new CommandLine(new Main()).execute(args));
    }

    /**
     * Ratis continues every log append with {@code thenComposeAsync} on the default executor. On a machine (or
     * container) with two cores the JDK's common pool has parallelism 1, and CompletableFuture then starts a new
     * thread for every such task: about 1,500 threads per node in a one-minute produce benchmark (JFR). A common
     * pool of at least two threads makes them run on the pool. Must run before CompletableFuture is first loaded; an
     * explicit -Djava.util.concurrent.ForkJoinPool.common.parallelism wins.
     */
    static void useCommonPoolForAsyncStages() {
        String key = "java.util.concurrent.ForkJoinPool.common.parallelism";
        if (System.getProperty(key) == null) {
            System.setProperty(key, Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
        }
    }

    @Override
    public Integer call() {
        NodeConfig config;
        Map<String, String> settings;
        try {
            settings = settings(System.getenv());
        } catch (NodeConfig.ConfigException | IOException e) {
            System.err.println("fluxmq-node: configuration error: " + e.getMessage());
            return 2;
        }
        try {
            config = NodeConfig.from(NodeIdAllocation.resolve(settings,
                    new GrpcNodeIdAllocator(NODE_ID_ALLOCATION_TIMEOUT_MS)));
        } catch (NodeConfig.ConfigException e) {
            System.err.println("fluxmq-node: configuration error: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            System.err.println("fluxmq-node: failed to start: " + e.getMessage());
            return 1;
        }
        FluxNode node = new FluxNode(config, reason -> {
            System.err.println("fluxmq-node: " + reason + "; exiting with code " + FluxNode.EXIT_RAFT_SERVER_LOST
                    + " so that a supervisor restarts the node");
            // not on the watchdog thread: the shutdown hook stops the node, and with it that thread's executor
            new Thread(() -> System.exit(FluxNode.EXIT_RAFT_SERVER_LOST), "fluxmq-exit").start();
            haltIfStillRunningAfter(EXIT_GRACE_MS, FluxNode.EXIT_RAFT_SERVER_LOST);
        });
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stopped.countDown();
            org.apache.logging.log4j.LogManager.shutdown();
        }, "fluxmq-shutdown"));
        try {
            node.start();
        } catch (NodeConfig.ConfigException e) {
            System.err.println("fluxmq-node: configuration error: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            System.err.println("fluxmq-node: failed to start: " + describe(e, config));
            return 1;
        }
        System.out.println("FluxMQ node " + config.nodeId() + " ready. Bootstrap: " + config.advertisedHost() + ":"
                + node.kafkaPort());
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /**
     * The setting an environment variable names, as Kafka's container images do: {@code FLUXMQ_} dropped, lower
     * case, {@code ___} → {@code -}, {@code __} → {@code _}, {@code _} → {@code .}
     * ({@code FLUXMQ_LISTENER_NAME_SASL__SSL_SCRAM___SHA___512_SASL_JAAS_CONFIG} is
     * {@code listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config}).
     */
    static String envKey(String variable) {
        return variable.substring("FLUXMQ_".length()).toLowerCase(Locale.ROOT).replace("___", "\0")
                .replace("__", "\1").replace('_', '.').replace("\1", "_").replace("\0", "-");
    }

    Map<String, String> settings(Map<String, String> env) throws IOException {
        Map<String, String> s = new HashMap<>();
        if (configFile != null) {
            Properties p = new Properties();
            try (Reader in = Files.newBufferedReader(configFile, StandardCharsets.UTF_8)) {
                p.load(in);
            }
            p.stringPropertyNames().forEach(k -> s.put(k, p.getProperty(k)));
        }
        env.forEach((k, v) -> {
            if (k.startsWith("FLUXMQ_")) {
                String key = envKey(k);
                if (NodeConfig.isKey(key) || NodeConfig.KAFKA_INTER_BROKER.containsKey(key)) {
                    s.put(key, v); // Kafka's inter-broker keys too: NodeConfig refuses them saying what to use
                } else if (!k.startsWith("FLUXMQ_LOCAL_")) {
                    System.err.println("fluxmq-node: ignoring environment variable " + k + " (no setting " + key + ")");
                }
            }
        });
        if (nodeId != null) {
            s.put("node.id", nodeId.toString());
        }
        if (dataDir != null) {
            s.put("data.dir", dataDir);
        }
        if (kafkaPort != null) {
            s.put("kafka.port", kafkaPort.toString());
        }
        if (raftPort != null) {
            s.put("raft.port", raftPort.toString());
        }
        for (String set : sets) {
            int eq = set.indexOf('=');
            if (eq <= 0) {
                throw new NodeConfig.ConfigException("--set expects key=value, got '" + set + "'");
            }
            s.put(set.substring(0, eq).trim(), set.substring(eq + 1));
        }
        return s;
    }

    private static String describe(Throwable e, NodeConfig config) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException) {
                return "a port is already in use (kafka " + config.kafkaHost() + ":" + config.kafkaPort() + ", raft "
                        + config.raftHost() + ":" + config.raftPort() + ", control " + config.controlHost() + ":"
                        + config.controlPort() + ", http " + config.httpHost() + ":" + config.httpPort() + "): "
                        + t.getMessage();
            }
        }
        return e.toString();
    }
}
