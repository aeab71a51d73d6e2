package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * File operations shared by segments and indexes: mapping, trimming and directory sync. Channels are closed
 * right after mapping (a mapping outlives its channel), except the one an active segment writes its data through
 * ({@link #openWritable}), so a log holds one file descriptor between calls.
 *
 * <p>Stateless and thread-safe; callers decide when each operation is safe for concurrent readers.
 */
final class MappedFiles {

    private MappedFiles() {
    }

    /**
     * Maps {@code file[0, bytes)} READ_WRITE, creating the file if absent and extending it with zeros if shorter.
     * With {@code discardContent} any existing content is dropped first.
     */
    static MappedByteBuffer mapWritable(Path file, long bytes, boolean discardContent) throws IOException {
        try (FileChannel ch = discardContent
            ? FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)
            : FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
        }
    }

    /** Opens a segment's data file for reading and writing, creating it if absent and emptying it if {@code discardContent}. */
    static FileChannel openWritable(Path file, boolean discardContent) throws IOException {
        return discardContent
            ? FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)
            : FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /** Maps {@code [0, bytes)} of an open file READ_WRITE, extending it (sparse, zeros) if shorter; the channel stays open. */
    static MappedByteBuffer mapWritable(FileChannel channel, long bytes) throws IOException {
        return channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
    }

    private static final int ZERO_CHUNK = 64 * 1024;

    /**
     * Writes zeros over {@code file[from, to)} through the file system, so the blocks behind a mapped region are
     * allocated before the map is written: on a full disk this fails with an IOException ("No space left on device")
     * instead of a fault when a mapped page is first touched. Only for bytes no reader looks at yet.
     */
    static void allocate(Path file, long from, long to) throws IOException {
        if (to <= from) {
            return;
        }
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZERO_CHUNK, to - from));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            long pos = from;
            while (pos < to) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), to - pos));
                pos += ch.write(zeros, pos);
            }
        }
    }

    /** Maps the whole of an existing file READ_ONLY. */
    static MappedByteBuffer mapReadOnly(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
        }
    }

    /**
     * Cuts the file to {@code bytes}, forces it, and maps it READ_ONLY. Older, longer mappings stay valid for the
     * first {@code bytes} bytes, which is all any reader of them may touch.
     */
    static MappedByteBuffer trimAndMapReadOnly(Path file, long bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(bytes);
            ch.force(true);
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes);
        }
    }

    /** Size of a segment file, which must fit the int positions of the indexes. */
    static int segmentFileSize(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE) {
            throw new IOException("Segment file " + file + " is larger than 2 GiB: " + size);
        }
        return (int) size;
    }

    /** Makes created, renamed and deleted directory entries durable. */
    static void syncDirectory(Path dir) throws IOException {
        io.fluxmq.raft.storage.DurableFiles.syncDirectory(dir);
    }
}
