package io.fluxmq.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private IPv4 network of Linux network namespaces for partition tests. Host {@code i} lives in namespace
 * {@code fxq-<pid>-<i>} with the single address {@code 10.213.N.(i+1)/24} on {@code eth0}; all hosts hang off a
 * bridge that sits in a namespace of its own ({@code fxq-<pid>-sw}), so the root namespace's firewall never sees
 * the bridged traffic. The root namespace (the test JVM) joins the bridge with {@code 10.213.N.254} through the
 * veth {@code fxq-<pid>-c}. N is a /24 no local address or route uses yet.
 *
 * <p>Each host namespace gets two iptables hooks: a chain {@value #CUT_CHAIN}, jumped to from INPUT and OUTPUT, that
 * {@link #cut} fills with DROP rules and {@link #heal} flushes; and an OUTPUT rule that drops and counts anything
 * sent to 127.0.0.0/8, so a test can prove no process in the namespace talked over loopback.
 *
 * <p>Needs root, iproute2 and iptables (nft or legacy backend; the first one that works in a fresh namespace is
 * used). {@link #close()} removes everything it created and is idempotent; {@link #create} also removes what dead
 * earlier runs (whose pid no longer exists) left behind. Not thread-safe.
 */
final class NetnsNetwork implements AutoCloseable {
    static final String CUT_CHAIN = "fxq-cut";
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
    private static final Pattern OURS = Pattern.compile("fxq-(\\d+)-[a-z0-9]+");

    private final String prefix;
    private final String subnet;
    private final List<String> namespaces = new ArrayList<>();
    private String iptables;
    private boolean closed;

    private NetnsNetwork(String prefix, String subnet) {
        this.prefix = prefix;
        this.subnet = subnet;
    }

    /** Creates {@code hosts} namespaces on a fresh bridge; on any failure removes what it had created. */
    static NetnsNetwork create(int hosts) throws IOException, InterruptedException {
        checkPrerequisites();
        removeLeftoversOfDeadRuns();
        long pid = ProcessHandle.current().pid();
        NetnsNetwork net = new NetnsNetwork("fxq-" + pid, freeSubnet(pid));
        try {
            net.build(hosts);
            return net;
        } catch (IOException | InterruptedException | RuntimeException e) {
            net.close();
            throw e;
        }
    }

    private void build(int hosts) throws IOException, InterruptedException {
        String sw = prefix + "-sw";
        addNamespace(sw);
        sh("ip", "-n", sw, "link", "add", "br0", "type", "bridge");
        sh("ip", "-n", sw, "link", "set", "br0", "up");
        String client = prefix + "-c";
        String uplink = prefix + "-u";
        sh("ip", "link", "add", "name", client, "type", "veth", "peer", "name", uplink);
        sh("ip", "link", "set", "dev", uplink, "netns", sw);
        sh("ip", "-n", sw, "link", "set", "dev", uplink, "master", "br0", "up");
        sh("ip", "addr", "add", clientAddress() + "/24", "dev", client);
        sh("ip", "link", "set", "dev", client, "up");
        for (int i = 0; i < hosts; i++) {
            String ns = prefix + "-" + i;
            String port = "p" + i;
            addNamespace(ns);
            sh("ip", "link", "add", "name", port, "netns", sw, "type", "veth", "peer", "name", "eth0", "netns", ns);
            sh("ip", "-n", sw, "link", "set", "dev", port, "master", "br0", "up");
            sh("ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0");
            sh("ip", "-n", ns, "link", "set", "dev", "eth0", "up");
            sh("ip", "-n", ns, "link", "set", "dev", "lo", "up");
            if (iptables == null) {
                iptables = chooseIptables(ns);
            }
            iptables(i, "-N", CUT_CHAIN);
            iptables(i, "-A", "INPUT", "-j", CUT_CHAIN);
            iptables(i, "-A", "OUTPUT", "-j", CUT_CHAIN);
            iptables(i, "-A", "OUTPUT", "-d", "127.0.0.0/8", "-j", "DROP");
        }
    }

    private void addNamespace(String ns) throws IOException, InterruptedException {
        sh("ip", "netns", "add", ns);
        namespaces.add(ns);
    }

    String namespace(int host) {
        return prefix + "-" + host;
    }

    String address(int host) {
        return subnet + "." + (host + 1);
    }

    String clientAddress() {
        return subnet + ".254";
    }

    String iptablesCommand() {
        return iptables;
    }

    /** The prefix that runs a command inside host {@code i}'s namespace (it execs the command, keeping its pid). */
    List<String> launcher(int host) {
        return List.of(tool("ip"), "netns", "exec", namespace(host));
    }

    /** Drops every packet between {@code host} and each of {@code peers}, both directions, in host's namespace. */
    void cut(int host, List<Integer> peers) throws IOException, InterruptedException {
        for (int peer : peers) {
            iptables(host, "-A", CUT_CHAIN, "-s", address(peer), "-j", "DROP");
            iptables(host, "-A", CUT_CHAIN, "-d", address(peer), "-j", "DROP");
        }
    }

    /** Removes every cut rule of {@code host}. */
    void heal(int host) throws IOException, InterruptedException {
        iptables(host, "-F", CUT_CHAIN);
    }

    /** Packets the cut rules of {@code host} have dropped so far. */
    long droppedByCut(int host) throws IOException, InterruptedException {
        return packets(iptables(host, "-L", CUT_CHAIN, "-v", "-x", "-n"), null);
    }

    /** Packets processes in {@code host}'s namespace sent to 127.0.0.0/8 (all dropped). */
    long loopbackPackets(int host) throws IOException, InterruptedException {
        return packets(iptables(host, "-L", "OUTPUT", "-v", "-x", "-n"), "127.0.0.0/8");
    }

    /** The IPv4 addresses configured in {@code host}'s namespace, as {@code dev address/prefix} lines. */
    List<String> addresses(int host) throws IOException, InterruptedException {
        List<String> out = new ArrayList<>();
        for (String line : sh("ip", "-n", namespace(host), "-o", "-4", "addr", "show").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 3) {
                out.add(f[1] + " " + f[3]);
            }
        }
        return out;
    }

    private static long packets(String listing, String destination) {
        long sum = 0;
        for (String line : listing.split("\n")) {
            String[] f = line.trim().split("\\s+");
            // pkts bytes target prot opt in out source destination
            if (f.length >= 9 && f[0].matches("\\d+") && f[2].equals("DROP")
                    && (destination == null || f[8].equals(destination))) {
                sum += Long.parseLong(f[0]);
            }
        }
        return sum;
    }

    private String iptables(int host, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(launcher(host));
        cmd.add(iptables);
        cmd.add("-w");
        cmd.add("5");
        cmd.addAll(List.of(args));
        return sh(cmd.toArray(String[]::new));
    }

    /** The first iptables variant that can create a chain in a fresh namespace: nft and legacy both work. */
    private static String chooseIptables(String ns) throws IOException, InterruptedException {
        StringBuilder failures = new StringBuilder();
        for (String candidate : List.of("iptables", "iptables-nft", "iptables-legacy")) {
            try {
                String path = tool(candidate);
                sh("ip", "netns", "exec", ns, path, "-w", "5", "-N", "fxq-probe");
                sh("ip", "netns", "exec", ns, path, "-w", "5", "-X", "fxq-probe");
                return path;
            } catch (IOException e) {
                failures.append("\n  ").append(e.getMessage());
            }
        }
        throw new IOException("no working iptables (tried iptables, iptables-nft, iptables-legacy):" + failures);
    }

    private static void checkPrerequisites() throws IOException, InterruptedException {
        String hint = "NetworkPartitionIT needs root, iproute2 (ip) and iptables; .ci/run installs them";
        try {
            if (!sh("id", "-u").trim().equals("0")) {
                throw new IOException(hint + ": not running as root");
            }
            sh("ip", "-V");
            sh("iptables", "-V");
        } catch (IOException e) {
            throw new IOException(hint + ": " + e.getMessage(), e);
        }
    }

    /** A 10.213.N.0/24 that no local address or route mentions, starting from one derived from the pid. */
    private static String freeSubnet(long pid) throws IOException, InterruptedException {
        String used = sh("ip", "-4", "addr", "show") + sh("ip", "-4", "route", "show", "table", "all");
        for (int i = 0; i < 250; i++) {
            String candidate = "10.213." + (1 + (pid + i) % 250);
            if (!used.contains(candidate + ".")) {
                return candidate;
            }
        }
        throw new IOException("no free 10.213.N.0/24 subnet");
    }

    /** Removes namespaces and links named {@code fxq-<pid>-...} whose pid no longer runs. */
    private static void removeLeftoversOfDeadRuns() throws IOException, InterruptedException {
        for (String line : sh("ip", "-o", "link", "show").split("\n")) {
            String[] f = line.split(":\\s+");
            if (f.length > 1 && isDeadRun(f[1].split("@")[0])) {
                trySh("ip", "link", "del", "dev", f[1].split("@")[0]);
            }
        }
        for (String line : sh("ip", "netns", "list").split("\n")) {
            String ns = line.trim().split("\\s+")[0];
            if (isDeadRun(ns)) {
                trySh("ip", "netns", "del", ns);
            }
        }
    }

    private static boolean isDeadRun(String name) {
        Matcher m = OURS.matcher(name);
        return m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty();
    }

    @Override
    public void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        trySh("ip", "link", "del", "dev", prefix + "-c");
        for (int i = namespaces.size() - 1; i >= 0; i--) {
            trySh("ip", "netns", "del", namespaces.get(i));
        }
    }

    private static void trySh(String... cmd) throws InterruptedException {
        try {
            sh(cmd);
        } catch (IOException e) {
            System.err.println("NETNS cleanup: " + e.getMessage());
        }
    }

    /** A tool's absolute path, looked up in PATH and in the sbin directories (which a non-login PATH may lack). */
    static String tool(String name) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            java.nio.file.Path p = java.nio.file.Path.of(dir.isEmpty() ? "." : dir, name);
            if (java.nio.file.Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return name;
    }

    /** Runs a short command, returning its output; fails on a non-zero exit or after {@link #COMMAND_TIMEOUT}. */
    static String sh(String... cmd) throws IOException, InterruptedException {
        Process p;
        try {
            List<String> resolved = new ArrayList<>(List.of(cmd));
            resolved.set(0, tool(cmd[0]));
            p = new ProcessBuilder(resolved).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException(String.join(" ", cmd) + ": cannot run: " + e.getMessage(), e);
        }
        if (!p.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": no exit within " + COMMAND_TIMEOUT);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + out.trim());
        }
        return out;
    }
}
