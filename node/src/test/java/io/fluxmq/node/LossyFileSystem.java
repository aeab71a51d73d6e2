package io.fluxmq.node;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A FUSE mount ({@code lossyfs.py} from the test resources, on Debian's python3-fusepy; needs root and
 * {@code /dev/fuse}) of a backing directory that keeps only what was fsynced: written content is visible at once
 * but reaches the backing directory only when its file is fsynced; directory operations reach it at once. See
 * docs/testing.md for the model.
 *
 * <p>A power cut is {@link #powerOff()} (nothing more becomes durable, not even fsyncs in flight), then the caller
 * kills every process using the mount, then {@link #cut()}: the mount is unmounted and the daemon exits, dropping
 * every unsynced write. {@link #mount()} mounts the backing directory
 * again with a new daemon. Not thread-safe.
 */
final class LossyFileSystem implements AutoCloseable {
    private static final String PYTHON = "/usr/bin/python3"; // Debian's, where python3-fusepy installs
    private static final long MOUNT_TIMEOUT_MS = 15_000;

    private final Path backing;
    private final Path mountPoint;
    private final Path log;
    private final int fsyncLatencyMs;
    private Process daemon;
    private boolean powerOff;

    private LossyFileSystem(Path backing, Path mountPoint, Path log, int fsyncLatencyMs) {
        this.backing = backing;
        this.mountPoint = mountPoint;
        this.log = log;
        this.fsyncLatencyMs = fsyncLatencyMs;
    }

    /** Mounts {@code backing} (created if absent) at {@code mountPoint}; the daemon's output goes to {@code log}. */
    static LossyFileSystem mount(Path backing, Path mountPoint, Path log) throws IOException, InterruptedException {
        return mount(backing, mountPoint, log, 0);
    }

    /**
     * As {@link #mount(Path, Path, Path)}, with every fsync first waiting a random 0..{@code fsyncLatencyMs} ms (a
     * disk whose flushes take time and complete in any order, which widens the window between two files' fsyncs).
     */
    static LossyFileSystem mount(Path backing, Path mountPoint, Path log, int fsyncLatencyMs)
            throws IOException, InterruptedException {
        Files.createDirectories(backing);
        Files.createDirectories(mountPoint);
        Files.createDirectories(log.getParent());
        LossyFileSystem fs = new LossyFileSystem(backing.toRealPath(), mountPoint.toRealPath(), log, fsyncLatencyMs);
        fs.mount();
        return fs;
    }

    Path mountPoint() {
        return mountPoint;
    }

    Path backing() {
        return backing;
    }

    boolean isMounted() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4 && f[4].equals(mountPoint.toString()) && line.contains(" - fuse.lossyfs ")) {
                return true;
            }
        }
        return false;
    }

    /** Starts a daemon over the backing directory and waits until the mount is there. */
    void mount() throws IOException, InterruptedException {
        if (daemon != null && daemon.isAlive()) {
            throw new IllegalStateException(mountPoint + " is already mounted");
        }
        daemon = new ProcessBuilder(List.of(PYTHON, "-W", "ignore", script().toString(), backing.toString(),
                mountPoint.toString(), Integer.toString(fsyncLatencyMs)))
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        powerOff = false;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MOUNT_TIMEOUT_MS);
        while (!isMounted()) {
            if (!daemon.isAlive()) {
                throw new IOException("lossyfs for " + mountPoint + " exited with " + daemon.exitValue()
                        + " before mounting; see " + log);
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("lossyfs did not mount " + mountPoint + " within " + MOUNT_TIMEOUT_MS + " ms");
            }
            Thread.sleep(20);
        }
    }

    /**
     * Turns the power off: from its return on, nothing more becomes durable; fsyncs (also those already in flight)
     * and directory operations fail with EIO, writes stay pending. The processes using the mount are still running:
     * kill them next, then {@link #cut()}.
     */
    void powerOff() throws IOException, InterruptedException {
        if (powerOff) {
            return;
        }
        daemon.getOutputStream().write("off\n".getBytes(StandardCharsets.US_ASCII));
        daemon.getOutputStream().flush();
        InputStream answer = daemon.getInputStream();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (answer.available() < 4) {
            if (!daemon.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("lossyfs for " + mountPoint + " did not turn the power off; see " + log);
            }
            Thread.sleep(1);
        }
        String line = new String(answer.readNBytes(4), StandardCharsets.US_ASCII);
        if (!line.equals("off\n")) {
            throw new IOException("lossyfs for " + mountPoint + " answered '" + line + "' to 'off'");
        }
        powerOff = true;
    }

    /**
     * Cuts the power (turning it off first if {@link #powerOff()} was not called): unmounts (the kernel writes its dirty pages back to the daemon, where they stay pending) and
     * waits for the daemon to exit, which drops every write not fsynced. Every process using the mount must be dead.
     */
    void cut() throws IOException, InterruptedException {
        powerOff();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String lastError = "";
        while (isMounted()) {
            lastError = run("umount", mountPoint.toString());
            if (!lastError.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("umount " + mountPoint + " kept failing: " + lastError);
                }
                Thread.sleep(50); // EBUSY while the killed process's files are being released
            }
        }
        if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
            daemon.destroyForcibly();
            daemon.waitFor(10, TimeUnit.SECONDS);
            throw new IOException("lossyfs for " + mountPoint + " did not exit after the unmount");
        }
    }

    /** Unmounts if mounted (same as a cut). */
    @Override
    public void close() throws IOException, InterruptedException {
        if (daemon != null && (daemon.isAlive() || isMounted())) {
            try {
                cut();
            } finally {
                if (isMounted()) {
                    run("umount", "-l", mountPoint.toString());
                }
            }
        }
    }

    private static Path script() throws IOException {
        try {
            return Path.of(LossyFileSystem.class.getResource("/lossyfs.py").toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IOException("lossyfs.py is not on the test class path", e);
        }
    }

    /** Runs a command; returns "" on success, else its exit status and output. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", command) + " did not finish";
        }
        return p.exitValue() == 0 ? "" : "exit " + p.exitValue() + ": " + out.trim();
    }
}
