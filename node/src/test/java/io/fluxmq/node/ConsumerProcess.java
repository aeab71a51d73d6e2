package io.fluxmq.node;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * A {@link GroupConsumerMain} in a child JVM, with what it reported so far: records it received, offsets it committed
 * and its latest assignment. Its full output goes to {@code target/node-logs/<name>.log}. Thread-safe.
 */
final class ConsumerProcess implements AutoCloseable {
    /** One record delivered to this consumer. */
    record Delivery(int partition, long offset) {}

    private final String name;
    private final Process process;
    private final Thread reader;
    private final List<Delivery> deliveries = new ArrayList<>();
    private final Map<Integer, Long> committed = new HashMap<>();
    private Set<Integer> assignment = Set.of();
    private int rebalances;

    private ConsumerProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        this.reader = new Thread(this::read, "consumer-output-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    static ConsumerProcess start(String name, String bootstrap, String topic, String group, String protocol)
            throws IOException {
        Path target = Path.of("target");
        String classpath = String.join(java.io.File.pathSeparator, "target/test-classes", "target/classes",
                Files.readString(target.resolve("classpath.txt")).trim());
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", classpath, GroupConsumerMain.class.getName(), bootstrap, topic, group, protocol);
        Files.createDirectories(target.resolve("node-logs"));
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        return new ConsumerProcess(name, process);
    }

    private void read() {
        Path log = Path.of("target", "node-logs", name + ".log");
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8)); PrintWriter file = new PrintWriter(Files.newBufferedWriter(log))) {
            String line;
            while ((line = in.readLine()) != null) {
                file.println(line);
                if (line.startsWith("@@ ")) {
                    event(line.substring(3).split(" "));
                }
            }
        } catch (IOException e) {
            // the process died; what was read stays
        }
    }

    private synchronized void event(String[] f) {
        switch (f[0]) {
            case "R" -> deliveries.add(new Delivery(Integer.parseInt(f[1]), Long.parseLong(f[2])));
            case "C" -> committed.merge(Integer.parseInt(f[1]), Long.parseLong(f[2]), Math::max);
            case "ASSIGNED" -> {
                Set<Integer> owned = new TreeSet<>();
                if (f.length > 1) {
                    for (String p : f[1].split(",")) {
                        owned.add(Integer.parseInt(p));
                    }
                }
                assignment = Set.copyOf(owned);
                rebalances++;
            }
            default -> {
            }
        }
    }

    synchronized List<Delivery> deliveries() {
        return List.copyOf(deliveries);
    }

    synchronized Map<Integer, Long> committed() {
        return Map.copyOf(committed);
    }

    synchronized Set<Integer> assignment() {
        return assignment;
    }

    synchronized int rebalances() {
        return rebalances;
    }

    String name() {
        return name;
    }

    /** SIGKILL: the consumer neither leaves the group nor commits. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        reader.join(10_000);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
