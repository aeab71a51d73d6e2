package io.fluxmq.node;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A FluxMQ node in its own JVM ({@code io.fluxmq.node.Main}), for tests that kill processes. Output goes to
 * {@code target/node-logs/<name>.log}. The classpath is the one Maven wrote to {@code target/classpath.txt}. A
 * launcher prefix (e.g. {@code ip netns exec NS}) runs the JVM elsewhere; the prefix must exec the JVM, so that
 * signals reach it.
 */
final class NodeProcess implements AutoCloseable {
    /** The JVM options every node starts with, as bin/fluxmq-local and the image start them (a java @-file). */
    private static final String JVM_OPTIONS = "@" + Path.of("jvm.options").toAbsolutePath();

    /**
     * The class-data-sharing archive the node JVMs of this test run start with (about half of a node's start-up is
     * loading classes, and the suite starts hundreds of nodes on two cores): written once, on first use, by
     * {@code bin/fluxmq-cds-archive} for the packaged node jar (CDS maps classes from jars only), and reused while it
     * is newer than the jar and the class path. Without a packaged jar, with {@code -Dfluxmq.test.cds=false}, or when
     * the training run fails, nodes start from {@code target/classes} as before.
     */
    static final class ClassArchive {
        private static final Path TARGET = Path.of("target");
        private static final Path ARCHIVE = TARGET.resolve("fluxmq-node-test.jsa");
        private static boolean tried;
        private static Path archive;
        /** The packaged jar and the dependencies, the class path the archive was made for. */
        private static String classpath;

        static synchronized Path get() throws IOException, InterruptedException {
            if (!tried) {
                tried = true;
                archive = make();
            }
            return archive;
        }

        static synchronized String classpath() {
            return classpath;
        }

        private static Path jar() throws IOException {
            try (var jars = Files.newDirectoryStream(TARGET, "fluxmq-node-*.jar")) {
                for (Path jar : jars) {
                    if (!jar.getFileName().toString().contains("-sources") && !jar.getFileName().toString()
                            .contains("-tests")) {
                        return jar;
                    }
                }
            }
            return null;
        }

        private static Path make() throws IOException, InterruptedException {
            Path jar = jar();
            if (!Boolean.parseBoolean(System.getProperty("fluxmq.test.cds", "true")) || jar == null) {
                return null;
            }
            classpath = jar + java.io.File.pathSeparator + Files.readString(TARGET.resolve("classpath.txt")).trim();
            long newest = Math.max(Files.getLastModifiedTime(jar).toMillis(),
                    Files.getLastModifiedTime(TARGET.resolve("classpath.txt")).toMillis());
            if (Files.exists(ARCHIVE) && Files.size(ARCHIVE) > 0
                    && Files.getLastModifiedTime(ARCHIVE).toMillis() > newest) {
                return ARCHIVE;
            }
            Path log = TARGET.resolve("fluxmq-node-test-cds.log");
            Process training = new ProcessBuilder("bash", Path.of("..", "bin", "fluxmq-cds-archive").toString(),
                    ARCHIVE.toString(), classpath, "-Xmx512m", JVM_OPTIONS).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!training.waitFor(120, TimeUnit.SECONDS)) {
                training.destroyForcibly();
                System.err.println("NodeProcess: the class-data-sharing training run took over 120 s; nodes start "
                        + "without an archive (" + log + ")");
                return null;
            }
            if (training.exitValue() != 0 || !Files.exists(ARCHIVE)) {
                System.err.println("NodeProcess: no class-data-sharing archive; nodes start without one (" + log + ")");
                return null;
            }
            return ARCHIVE;
        }
    }

    private final String name;
    private final Path dataDir;
    private final List<String> launcher;
    private final String host;
    private final int kafkaPort;
    private final int raftPort;
    private final Map<String, String> settings;
    private Process process;

    NodeProcess(String name, Path dataDir, Map<String, String> settings) throws IOException {
        this(name, dataDir, TestNode.freePort(), TestNode.freePort(), withHttpPort(settings));
    }

    private static Map<String, String> withHttpPort(Map<String, String> settings) throws IOException {
        Map<String, String> s = new java.util.HashMap<>(settings);
        s.putIfAbsent("http.port", Integer.toString(TestNode.freePort()));
        s.putIfAbsent("control.port", Integer.toString(TestNode.freePort()));
        return s;
    }

    NodeProcess(String name, Path dataDir, int kafkaPort, int raftPort, Map<String, String> settings) {
        this(name, dataDir, List.of(), "127.0.0.1", kafkaPort, raftPort, settings);
    }

    /** A node started through {@code launcher} whose Kafka port is reached at {@code host}. */
    NodeProcess(String name, Path dataDir, List<String> launcher, String host, int kafkaPort, int raftPort,
                Map<String, String> settings) {
        this.name = name;
        this.dataDir = dataDir;
        this.launcher = List.copyOf(launcher);
        this.host = host;
        this.kafkaPort = kafkaPort;
        this.raftPort = raftPort;
        this.settings = settings;
    }

    /** Changes a setting for the next start (e.g. a restart with other authorization settings). */
    void set(String key, String value) {
        settings.put(key, value);
    }

    NodeProcess start() throws IOException, InterruptedException {
        return start(true);
    }

    /** Starts the JVM; with {@code awaitPort} waits until the Kafka port accepts connections. */
    NodeProcess start(boolean awaitPort) throws IOException, InterruptedException {
        Path target = Path.of("target");
        List<String> cmd = new ArrayList<>(launcher);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", JVM_OPTIONS,
                // why a cleaner pass did nothing, for CompactionIT's failures (a replica kept tombstones once)
                "-Dfluxmq.log.cleaner.level=DEBUG",
                "-Xlog:gc:file=" + target.resolve("node-logs").resolve(name + "-gc.log").toAbsolutePath() + ":time"));
        Path archive = ClassArchive.get();
        if (archive != null) {
            cmd.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-cp", ClassArchive.classpath()));
        } else {
            cmd.addAll(List.of("-cp", "target/classes" + java.io.File.pathSeparator
                    + Files.readString(target.resolve("classpath.txt")).trim()));
        }
        cmd.addAll(List.of("io.fluxmq.node.Main",
                "--data-dir", dataDir.toString(), "--kafka-port", Integer.toString(kafkaPort),
                "--raft-port", Integer.toString(raftPort),
                "--set", "raft.election.timeout.min.ms=300", "--set", "raft.election.timeout.max.ms=600"));
        settings.forEach((k, v) -> {
            cmd.add("--set");
            cmd.add(k + "=" + v);
        });
        String engine = testEngine();
        if (engine != null && !settings.containsKey(NodeConfig.PARTITION_ENGINE)) {
            cmd.add("--set");
            cmd.add(NodeConfig.PARTITION_ENGINE + "=" + engine);
        }
        String wal = testWalSegmentBytes();
        if (wal != null && !settings.containsKey(NodeConfig.RAFT_WAL_SEGMENT_BYTES)) {
            cmd.add("--set");
            cmd.add(NodeConfig.RAFT_WAL_SEGMENT_BYTES + "=" + wal);
        }
        Path logs = target.resolve("node-logs");
        Files.createDirectories(logs);
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve(name + ".log").toFile())).start();
        if (awaitPort) {
            // a restart beside two loaded nodes on a 2-core machine has taken 27-52 s (FailoverIT; slow start-up
            // under load is a known performance problem, see docs/performance.md), so allow what PowerCutIT allows
            awaitPort(90_000);
        }
        return this;
    }

    /**
     * The partition engine every test node runs on unless its test names one: {@code -Dfluxmq.test.partition.engine=
     * multiraft} on the Maven command line runs the ITs on the multi-Raft engine (null: the node's default).
     */
    static String testEngine() {
        String engine = System.getProperty("fluxmq.test.partition.engine", "");
        return engine.isBlank() ? null : engine;
    }

    /**
     * The write-ahead log every test node runs with unless its test sets one: {@code
     * -Dfluxmq.test.raft.wal.segment.bytes=67108864} runs the ITs with it (null: the node's default).
     */
    static String testWalSegmentBytes() {
        String bytes = System.getProperty("fluxmq.test.raft.wal.segment.bytes", "");
        return bytes.isBlank() ? null : bytes;
    }

    void awaitPort(long timeoutMs) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + " during start-up");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, kafkaPort), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        dumpThreads(); // what the start-up is stuck on, into the node's log
        throw new IOException(name + " did not open its Kafka port within " + timeoutMs + " ms (thread dump in its log)");
    }

    /** SIGKILL: no shutdown hook runs. */
    void kill() throws InterruptedException {
        sendKill();
        awaitExit();
    }

    /**
     * SIGKILL, then waits for the process to be gone, looking at what its threads still do at 20, 40, 80, … ms after
     * the signal (Linux {@code /proc/<pid>/task}: name, state, kernel wait channel). A killed process's sockets close
     * only after every thread left the kernel and its memory was freed, so this says what a failover waits for before
     * clients and peers see the connection close. Returns e.g. {@code "at 20 ms 3 threads: 2 D
     * folio_wait_bit_common (raft-force-1, raft-force-2), 1 R 0 (java)"}; empty when it exited before the first look.
     */
    String killAndTrace() throws InterruptedException {
        long pid = process.pid();
        long start = System.nanoTime();
        process.destroyForcibly();
        StringBuilder trace = new StringBuilder();
        long lookAtMs = 20;
        while (!process.waitFor(Math.max(1, lookAtMs - elapsedMs(start)), TimeUnit.MILLISECONDS)) {
            if (elapsedMs(start) > 30_000) {
                trace.append("; still running 30 s after SIGKILL");
                break;
            }
            Map<String, List<String>> byState = new java.util.TreeMap<>();
            Path tasks = Path.of("/proc", Long.toString(pid), "task");
            try (var dirs = Files.list(tasks)) {
                for (Path task : (Iterable<Path>) dirs::iterator) {
                    try {
                        String stat = Files.readString(task.resolve("stat"));
                        String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
                        String wchan = Files.readString(task.resolve("wchan")).trim();
                        String comm = Files.readString(task.resolve("comm")).trim();
                        byState.computeIfAbsent(state + " " + wchan, k -> new ArrayList<>()).add(comm);
                    } catch (IOException gone) {
                        // the thread exited between the listing and the read
                    }
                }
            } catch (IOException gone) {
                continue; // reaped meanwhile: waitFor returns at once
            }
            int threads = byState.values().stream().mapToInt(List::size).sum();
            trace.append(trace.isEmpty() ? "" : "; ").append("at ").append(lookAtMs).append(" ms ").append(threads)
                    .append(" threads:");
            byState.forEach((k, names) -> trace.append(' ').append(names.size()).append(' ').append(k).append(" (")
                    .append(String.join(", ", names.subList(0, Math.min(4, names.size()))))
                    .append(names.size() > 4 ? ", ..." : "").append(')'));
            lookAtMs *= 2;
        }
        return trace.toString();
    }

    private static long elapsedMs(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** Sends SIGKILL and returns at once; {@link #awaitExit} waits for the process to be gone. */
    void sendKill() {
        process.destroyForcibly();
    }

    void awaitExit() throws InterruptedException {
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: graceful shutdown; returns the exit code. */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            try {
                dumpThreads(); // what the shutdown is stuck on, into the node's log
            } catch (IOException e) {
                System.out.println("no thread dump of " + name + ": " + e);
            }
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    /** SIGSTOP / SIGCONT: the process freezes without closing its sockets. */
    void freeze() throws IOException, InterruptedException {
        signal("-STOP");
    }

    void thaw() throws IOException, InterruptedException {
        signal("-CONT");
    }

    /** SIGQUIT: the JVM prints a thread dump to its log and keeps running. */
    void dumpThreads() throws IOException, InterruptedException {
        signal("-QUIT");
    }

    private void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill " + signal + " " + process.pid() + " failed");
        }
    }

    long pid() {
        return process.pid();
    }

    /** Waits up to {@code timeoutMs} for the process to exit by itself: its exit code, or null while it runs. */
    Integer awaitExit(long timeoutMs) throws InterruptedException {
        return process.waitFor(timeoutMs, TimeUnit.MILLISECONDS) ? process.exitValue() : null;
    }

    /** The node's log so far ({@code target/node-logs/<name>.log}). */
    String log() throws IOException {
        return Files.readString(Path.of("target", "node-logs", name + ".log"));
    }

    /** The log's length now (0 before the first start): logs append across runs, see {@link #logSince}. */
    long logLength() throws IOException {
        Path file = Path.of("target", "node-logs", name + ".log");
        return Files.exists(file) ? Files.size(file) : 0;
    }

    /** What the log gained after {@code offset} (a {@link #logLength()}). */
    String logSince(long offset) throws IOException {
        byte[] all = Files.readAllBytes(Path.of("target", "node-logs", name + ".log"));
        return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    String bootstrap() {
        return host + ":" + kafkaPort;
    }

    int kafkaPort() {
        return kafkaPort;
    }

    Path dataDir() {
        return dataDir;
    }

    @Override
    public void close() throws InterruptedException {
        if (isAlive()) {
            kill();
        }
    }
}
