package io.fluxmq.raft.engine;

import io.fluxmq.raft.storage.DurableFiles;
import io.fluxmq.raftcore.HardState;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Every Raft group's hard state (term, vote) of one node, in one small file rewritten whole on each change.
 *
 * <p><b>Why a rewrite and not a journal.</b> Hard states change only when a group's term or vote changes (elections),
 * not with appends, and the file holds 20 bytes per group (60 KB at 3,000 groups), so writing it whole costs about what
 * appending to a journal would, while needing no compaction, and leaves exactly one valid file: a durable write
 * ({@link DurableFiles}: {@code <name>.tmp}, fsync, atomic rename over the file, directory fsync) keeps the previous
 * file in place until the new one is on disk, so a crash leaves the old or the new content, never a torn one. Any CRC
 * or structure mismatch on open is therefore corruption, not a torn write, and fails the open
 * ({@link CorruptHardStateException}) rather than resetting a vote: a member that forgot its vote could vote twice in
 * a term.
 *
 * <p><b>Group commit.</b> {@link #write} returns once the changes are durable. Writers on several event loops share
 * writes: while one thread writes the file, the others' changes queue up and the next write carries all of them.
 *
 * <p><b>Format</b> (big-endian): magic {@code "FXHS"} int32, version int16 (1), count int32, then {@code count}
 * records {groupId int64, term int64, votedFor int32} in increasing group id, then the CRC-32C (int32) of every
 * preceding byte. A missing file is a node without groups yet; a leftover {@code .tmp} is an unfinished write and is
 * ignored (the next write replaces it).
 *
 * <p>Thread-safe.
 */
public final class HardStateFile {

    private static final int MAGIC = 0x46584853; // "FXHS"
    private static final short VERSION = 1;
    private static final int HEADER = 4 + 2 + 4;
    private static final int RECORD = 8 + 8 + 4;

    /** The file does not hold a valid hard-state table. */
    public static final class CorruptHardStateException extends IOException {
        CorruptHardStateException(Path file, String problem) {
            super("hard-state file " + file + " is corrupt: " + problem
                + "; refusing to start with votes forgotten (restore the file or rebuild this node's replicas)");
        }
    }

    private final Path file;
    private final Object lock = new Object();
    /** What the file on disk holds. Guarded by lock. */
    private SortedMap<Long, HardState> durable;
    /** Changes waiting for the next write, and the number of write requests so far / covered by the file. */
    private final TreeMap<Long, HardState> pending = new TreeMap<>();
    private long requested;
    private long written;
    /** A thread is writing the file now (outside the lock); others wait for it and then, if needed, write next. */
    private boolean writing;
    private IOException failure;

    private HardStateFile(Path file, SortedMap<Long, HardState> durable) {
        this.file = file;
        this.durable = durable;
    }

    /** Loads the file (empty when absent); fails on any corruption. */
    public static HardStateFile open(Path file) throws IOException {
        return new HardStateFile(file, read(file));
    }

    public Path path() {
        return file;
    }

    /** A group's durable hard state, {@link HardState#INITIAL} for a group never written. */
    public HardState get(long groupId) {
        synchronized (lock) {
            return durable.getOrDefault(groupId, HardState.INITIAL);
        }
    }

    /** Every group's durable hard state. */
    public SortedMap<Long, HardState> all() {
        synchronized (lock) {
            return Collections.unmodifiableSortedMap(new TreeMap<>(durable));
        }
    }

    /**
     * Makes {@code changes} durable (with whatever other threads asked meanwhile); a {@code null} value removes the
     * group (a replica deleted from this node). Returns once the file holding them is on disk. After a failed write
     * every later call fails too: what reached the disk is not known, and the node must stop.
     */
    public void write(Map<Long, HardState> changes) throws IOException {
        if (changes.isEmpty()) {
            return;
        }
        long ticket;
        synchronized (lock) {
            pending.putAll(changes);
            ticket = ++requested;
        }
        while (true) {
            TreeMap<Long, HardState> next;
            long covers;
            synchronized (lock) {
                while (written < ticket && failure == null && writing) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted waiting for " + file);
                    }
                }
                if (written >= ticket) {
                    return;
                }
                if (failure != null) {
                    throw new IOException("an earlier write of " + file + " failed", failure);
                }
                // This thread writes the file for every change queued so far, its own included.
                writing = true;
                next = new TreeMap<>(durable);
                for (Map.Entry<Long, HardState> change : pending.entrySet()) {
                    if (change.getValue() == null) {
                        next.remove(change.getKey());
                    } else {
                        next.put(change.getKey(), change.getValue());
                    }
                }
                pending.clear();
                covers = requested;
            }
            IOException failed = null;
            try {
                DurableFiles.write(file, encode(next));
            } catch (IOException e) {
                failed = e;
            }
            synchronized (lock) {
                writing = false;
                if (failed == null) {
                    durable = next;
                    written = covers;
                } else {
                    failure = failed;
                }
                lock.notifyAll();
            }
            if (failed != null) {
                throw failed;
            }
        }
    }

    /** Removes a group's hard state durably (its replica left this node). */
    public void remove(long groupId) throws IOException {
        write(Collections.singletonMap(groupId, null));
    }

    static byte[] encode(SortedMap<Long, HardState> states) {
        ByteBuffer out = ByteBuffer.allocate(HEADER + RECORD * states.size() + 4);
        out.putInt(MAGIC).putShort(VERSION).putInt(states.size());
        for (Map.Entry<Long, HardState> state : states.entrySet()) {
            out.putLong(state.getKey()).putLong(state.getValue().term()).putInt(state.getValue().votedFor());
        }
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        return out.array();
    }

    private static SortedMap<Long, HardState> read(Path file) throws IOException {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new TreeMap<>();
        }
        if (content.length < HEADER + 4) {
            throw new CorruptHardStateException(file, content.length + " bytes, shorter than a header");
        }
        ByteBuffer in = ByteBuffer.wrap(content);
        CRC32C crc = new CRC32C();
        crc.update(content, 0, content.length - 4);
        if (in.getInt(content.length - 4) != (int) crc.getValue()) {
            throw new CorruptHardStateException(file, "CRC mismatch");
        }
        if (in.getInt() != MAGIC) {
            throw new CorruptHardStateException(file, "bad magic");
        }
        short version = in.getShort();
        if (version != VERSION) {
            throw new CorruptHardStateException(file, "unknown version " + version);
        }
        int count = in.getInt();
        if (count < 0 || (long) HEADER + (long) RECORD * count + 4 != content.length) {
            throw new CorruptHardStateException(file, count + " records in " + content.length + " bytes");
        }
        TreeMap<Long, HardState> states = new TreeMap<>();
        long previous = Long.MIN_VALUE;
        for (int i = 0; i < count; i++) {
            long groupId = in.getLong();
            long term = in.getLong();
            int votedFor = in.getInt();
            if ((i > 0 && groupId <= previous) || term < 0) {
                throw new CorruptHardStateException(file, "record " + i + " (group " + groupId + ", term " + term
                    + ") out of order or negative");
            }
            states.put(groupId, new HardState(term, votedFor));
            previous = groupId;
        }
        return states;
    }
}
