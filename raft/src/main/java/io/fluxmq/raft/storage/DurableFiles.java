package io.fluxmq.raft.storage;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Small files that must survive a power cut whole or not at all (partition specs, {@code meta.properties},
 * snapshots): the content goes to {@code <name>.tmp}, which is fsynced, renamed over the target and followed by an
 * fsync of the directory, so after a crash the target holds either its previous or its new content, never a prefix
 * or an empty file. Stateless and thread-safe (two writers of the same target must not overlap).
 */
public final class DurableFiles {
    private DurableFiles() {
    }

    /** What writes a file's content. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Replaces {@code target} durably with what {@code content} writes. */
    public static void write(Path target, Content content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
             OutputStream out = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(channel))) {
            content.writeTo(out);
            out.flush();
            channel.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(dir);
    }

    /** Replaces {@code target} durably with {@code bytes}. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }

    /** Renames {@code from} to {@code to} (same file system) and makes the rename durable in both directories. */
    public static void move(Path from, Path to) throws IOException {
        Files.createDirectories(to.toAbsolutePath().getParent());
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(to.toAbsolutePath().getParent());
        if (!from.toAbsolutePath().getParent().equals(to.toAbsolutePath().getParent())) {
            syncDirectory(from.toAbsolutePath().getParent());
        }
    }

    /**
     * Forces every regular file under {@code root} and every directory of the tree to disk (files Ratis wrote without
     * an fsync, such as the chunks of a snapshot installed from the leader). Does nothing if {@code root} is absent.
     */
    public static void syncTree(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (java.util.stream.Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                if (Files.isRegularFile(p)) {
                    try (FileChannel channel = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        channel.force(true);
                    }
                } else if (Files.isDirectory(p)) {
                    syncDirectory(p);
                }
            }
        }
    }

    /** Deletes {@code root} and everything under it; does nothing if it is absent. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (java.util.stream.Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Forces a directory's entries (files created, renamed or deleted in it) to disk. */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
