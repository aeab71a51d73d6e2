package io.fluxmq.raft.engine;

import io.fluxmq.raft.storage.DurableFiles;
import io.fluxmq.raftcore.Snapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * The file {@code raft-snapshot} in a {@link SegmentRaftLog}'s directory: the {@link Snapshot} the log starts from
 * (start offset, the term of the entry before it, the voters as of there, the owner's state), written with a durable
 * write ({@link DurableFiles}: temp file, fsync, rename, directory fsync) before any segment below the start is
 * deleted or replaced. Format (big-endian): magic {@code "FXLS"} int32, version int16 (1), offset int64, term int64,
 * voterCount int32, voters int32 each, dataLength int32, data, then the CRC-32C (int32) of every preceding byte. A
 * missing file is a log never cut ({@link Snapshot#NONE}); anything malformed fails the read. Stateless.
 */
final class LogStartSnapshot {

    static final String FILE = "raft-snapshot";
    private static final int MAGIC = 0x46584C53; // "FXLS"
    private static final short VERSION = 1;

    private LogStartSnapshot() {
    }

    static void write(Path dir, Snapshot snapshot) throws IOException {
        ByteBuffer data = snapshot.data().duplicate();
        ByteBuffer out = ByteBuffer.allocate(4 + 2 + 8 + 8 + 4 + 4 * snapshot.voters().size() + 4 + data.remaining()
            + 4);
        out.putInt(MAGIC).putShort(VERSION).putLong(snapshot.offset()).putLong(snapshot.term());
        out.putInt(snapshot.voters().size());
        for (int voter : snapshot.voters()) {
            out.putInt(voter);
        }
        out.putInt(data.remaining()).put(data);
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        DurableFiles.write(dir.resolve(FILE), out.array());
    }

    /** The snapshot in {@code dir}, or null when there is none. */
    static Snapshot read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        try {
            if (content.length < 4 + 2 + 8 + 8 + 4 + 4 + 4) {
                throw new IllegalArgumentException(content.length + " bytes");
            }
            ByteBuffer in = ByteBuffer.wrap(content);
            CRC32C crc = new CRC32C();
            crc.update(content, 0, content.length - 4);
            if (in.getInt(content.length - 4) != (int) crc.getValue()) {
                throw new IllegalArgumentException("CRC mismatch");
            }
            if (in.getInt() != MAGIC || in.getShort() != VERSION) {
                throw new IllegalArgumentException("bad magic or version");
            }
            long offset = in.getLong();
            long term = in.getLong();
            int voterCount = in.getInt();
            if (voterCount < 0 || voterCount > (content.length - in.position()) / 4) {
                throw new IllegalArgumentException(voterCount + " voters");
            }
            Set<Integer> voters = new TreeSet<>();
            for (int i = 0; i < voterCount; i++) {
                voters.add(in.getInt());
            }
            int length = in.getInt();
            if (length != content.length - 4 - in.position()) {
                throw new IllegalArgumentException("data of " + length + " bytes");
            }
            byte[] data = new byte[length];
            in.get(data);
            return new Snapshot(offset, term, voters, ByteBuffer.wrap(data));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " is corrupt: " + e.getMessage(), e);
        }
    }
}
