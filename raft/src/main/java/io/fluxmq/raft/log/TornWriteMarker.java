package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How far past the valid prefix of a log's active segment recovery must look for bytes to zero, recorded in the log's
 * directory as {@value #FILE_NAME}: the kernel's boot id when the log was last opened and the largest single append
 * since then (rounded up to a power of two, at least {@link #INITIAL_WINDOW}).
 *
 * <p>Why: the active segment is pre-sized and memory-mapped, so after a power cut anything unsynced may come back from
 * the disk in any order of pages, and recovery zeroes {@link SegmentRecovery#TORN_WRITE_WINDOW} bytes past the last
 * valid batch. Scanning that window faults in 4,096 pages per replica, most of them holes of the sparse file, which
 * made a node with thousands of replicas take minutes to open them. Without a power cut (the process was killed, the
 * machine kept running) the page cache kept every byte the process wrote, and the writes were sequential, so what
 * follows the valid prefix is at most one torn append: recovery needs to look only as far as the largest append. The
 * boot id tells the two apart: it changes with every boot, so a power cut (which always ends in one) makes the marker
 * stale and the full window applies.
 *
 * <p>The marker is written after recovery and never forced: a cut that loses it leaves an unreadable or stale marker,
 * which again means the full window. (The test file system that simulates power cuts without a reboot,
 * {@code lossyfs}, drops every unsynced write, this file's content included, so it too leads to the full window.)
 * An append larger than the recorded window rewrites the marker before the bytes are copied.
 */
final class TornWriteMarker {

    private static final Logger LOGGER = LoggerFactory.getLogger(TornWriteMarker.class);
    static final String FILE_NAME = "torn-write-window";
    /**
     * The window recorded when a log opens, 16 pages: four times a Java producer's default {@code batch.size}. Larger
     * appends widen it (a batch may be up to {@code message.max.bytes}, 1 MiB by default); a smaller one keeps the
     * search cheap for thousands of replicas, each of whose windows is mostly holes of a sparse file.
     */
    static final int INITIAL_WINDOW = 64 << 10;
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    private final Path file;
    /** This boot's id, or null where the kernel does not tell (then the full window always applies). */
    private final String bootId;
    private int window;

    private TornWriteMarker(Path file, String bootId, int window) {
        this.file = file;
        this.bootId = bootId;
        this.window = window;
    }

    /** This boot's id; null if it cannot be read (not Linux). */
    static String currentBootId() {
        return BootIdHolder.ID;
    }

    private static final class BootIdHolder {
        static final String ID = readBootId();
    }

    private static String readBootId() {
        try {
            String id = Files.readString(BOOT_ID).trim();
            return id.isEmpty() ? null : id;
        } catch (IOException | SecurityException e) {
            LOGGER.info("No boot id ({}): every log's recovery searches the full torn-write window", e.toString());
            return null;
        }
    }

    /**
     * How far past the valid prefix recovery of the log in {@code dir} must search when the current boot's id is
     * {@code bootId}: the recorded window if the marker names this boot, else {@link SegmentRecovery#TORN_WRITE_WINDOW}.
     */
    static int windowToSearch(Path dir, String bootId) {
        Path file = dir.resolve(FILE_NAME);
        if (bootId == null || !Files.exists(file)) {
            return SegmentRecovery.TORN_WRITE_WINDOW;
        }
        try {
            String recordedBoot = null;
            int recordedWindow = -1;
            for (String line : Files.readAllLines(file)) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String key = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                if (key.equals("boot_id")) {
                    recordedBoot = value;
                } else if (key.equals("window_bytes")) {
                    recordedWindow = Integer.parseInt(value);
                }
            }
            if (bootId.equals(recordedBoot) && recordedWindow > 0) {
                return Math.min(recordedWindow, SegmentRecovery.TORN_WRITE_WINDOW);
            }
        } catch (IOException | RuntimeException e) {
            // torn by a crash while it was written: the full window, which is always safe
        }
        return SegmentRecovery.TORN_WRITE_WINDOW;
    }

    /** Records that the log in {@code dir} was recovered in boot {@code bootId}; null (and nothing written) without one. */
    static TornWriteMarker recovered(Path dir, String bootId) throws IOException {
        if (bootId == null) {
            return null;
        }
        TornWriteMarker marker = new TornWriteMarker(dir.resolve(FILE_NAME), bootId, INITIAL_WINDOW);
        if (!marker.content().equals(readQuietly(marker.file))) {
            marker.write(); // once per log and boot: an unchanged marker is not written again
        }
        return marker;
    }

    /** Before an append of {@code bytes}: widens the recorded window first if the append is larger. Writer. */
    void beforeAppend(int bytes) throws IOException {
        if (bytes > window) {
            int widened = Integer.highestOneBit(bytes - 1) << 1;
            window = widened > 0 ? widened : Integer.MAX_VALUE; // past 2^30 bytes the next power of two overflows
            write();
        }
    }

    private String content() {
        return "boot_id: " + bootId + "\nwindow_bytes: " + window + "\n";
    }

    private void write() throws IOException {
        Files.writeString(file, content());
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
