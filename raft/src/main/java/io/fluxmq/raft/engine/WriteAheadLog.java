package io.fluxmq.raft.engine;

import io.fluxmq.raft.log.SegmentLog;
import io.fluxmq.raft.storage.DurableFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One write-ahead log for all the Raft logs of a node (CockroachDB's and TiKV's shared log): what an event-loop pass
 * appended to its groups' logs is copied here, and one {@code fdatasync} of this file makes all of it durable, instead
 * of one msync per partition log. The partition logs (mapped segments) are written as before and forced later, in the
 * background, by a <em>checkpoint</em>: once a file of this log is full, every partition log with records in it is
 * flushed, and only then is the file deleted. After a crash, {@link #replay} puts back into each partition log what its
 * segments lost.
 *
 * <p><b>Files.</b> {@code <sequence>.wal} in the directory, written one after another up to about
 * {@code segmentBytes} each. A file holds frames: {@code length (int, the whole frame), CRC32C (int, of what follows
 * it), the file's sequence (long)}, then the records of one or more passes. A record: {@code type (byte), group id
 * (long), offset (long), payload length (int), payload}. {@link #APPEND}'s payload is the Kafka record batches of the
 * group's log from that offset on, byte for byte as the segments store them; {@link #TRUNCATE} means the log was cut
 * at the offset; {@link #RESET} that it was emptied to start there (a snapshot from the leader); {@link #DROP} that the
 * replica was deleted. Reading a file stops at the first frame that is short, fails its CRC or names another sequence:
 * the tail of a write cut off by a crash.
 *
 * <p><b>Ordering.</b> A file is forced before the next one is written, and the directory after a new file is created,
 * so a durable frame implies every earlier frame is durable. A pass's records of one group cover its log from where the
 * previous ones ended, so for each group the records since its log was last flushed are contiguous.
 *
 * <p><b>Thread-safety.</b> {@link #submit} and {@link #submitSync} from any thread; one writer thread writes and forces;
 * one checkpoint thread flushes the partition logs (on the given executor) and deletes files.
 */
public final class WriteAheadLog implements Closeable {

    private static final Logger LOGGER = LoggerFactory.getLogger(WriteAheadLog.class);

    public static final byte APPEND = 1;
    public static final byte TRUNCATE = 2;
    public static final byte RESET = 3;
    public static final byte DROP = 4;

    static final long MARKER_SEGMENT_BYTES = 1 << 20;
    static final int FRAME_HEADER = 4 + 4 + 8;
    static final int RECORD_HEADER = 1 + 8 + 8 + 4;
    private static final String SUFFIX = ".wal";

    /** A record read back. */
    public record Record(byte type, long groupId, long offset, ByteBuffer payload) {
    }

    /** The records of one pass (or one call), built by the caller, then submitted. Not thread-safe. */
    public static final class Batch {
        private final List<ByteBuffer> parts = new ArrayList<>();
        private final Set<SegmentLog> logs = Collections.newSetFromMap(new IdentityHashMap<>());
        private int bytes;

        /** Adds a record; {@code payload} is copied at once (it may be a view of a mapped segment). */
        public void add(byte type, long groupId, long offset, ByteBuffer payload, SegmentLog log) {
            int length = payload == null ? 0 : payload.remaining();
            ByteBuffer record = ByteBuffer.allocate(RECORD_HEADER + length);
            record.put(type).putLong(groupId).putLong(offset).putInt(length);
            if (payload != null) {
                record.put(payload.duplicate());
            }
            parts.add(record.flip());
            bytes += record.remaining();
            if (log != null) {
                logs.add(log);
            }
        }

        public boolean isEmpty() {
            return parts.isEmpty();
        }

        int bytes() {
            return bytes;
        }
    }

    private record Submission(Batch batch, CompletableFuture<Void> done) {
    }

    /** A file and the partition logs with records in it (written by the writer thread until the file is rolled). */
    private static final class WalFile {
        final long sequence;
        final Path path;
        final Set<SegmentLog> logs = Collections.newSetFromMap(new IdentityHashMap<>());

        WalFile(long sequence, Path path) {
            this.sequence = sequence;
            this.path = path;
        }
    }

    private final Path dir;
    private final long segmentBytes;
    private final Executor flushers;
    /** Records found on open, per group in order, until the group's log is opened ({@link #replay}) or dropped. */
    private final Map<Long, List<Record>> recovered;
    /** The files those records came from: deleted once every group's records were replayed or dropped. */
    private final List<Path> recoveredFiles;
    private final LinkedBlockingQueue<Submission> queue = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<Runnable> checkpoints = new LinkedBlockingQueue<>();
    private final Thread writer;
    private final Thread checkpointer;
    /**
     * Checkpoint thread only: whether the files found on open are deleted. Until then no later file is deleted either
     * (they are kept, {@link #deferred}): a record is safe to replay again only while every later record of its group
     * is still there to replay after it (a later truncation, the marker that it was replayed).
     */
    private boolean recoveredGone;
    private final java.util.concurrent.atomic.AtomicInteger checkpointsDone = new java.util.concurrent.atomic.AtomicInteger();
    /** Checkpoint thread only: a checkpoint failed, so its file and every later one stay until the next start. */
    private boolean checkpointFailed;
    /** Checkpoint thread only: files checkpointed while the files found on open were still there. */
    private final List<Path> deferred = new ArrayList<>();
    private volatile boolean closed;
    /** Set once a write or force failed: nothing written after it can be trusted, every later submission fails. */
    private volatile IOException failure;
    // the writer thread's state
    private WalFile current;
    private FileChannel channel;
    private long position;

    private WriteAheadLog(Path dir, long segmentBytes, Executor flushers, Map<Long, List<Record>> recovered,
                          List<Path> recoveredFiles, long nextSequence, String name) throws IOException {
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.flushers = flushers;
        this.recovered = recovered;
        this.recoveredFiles = recoveredFiles;
        this.recoveredGone = recoveredFiles.isEmpty();
        openFile(nextSequence);
        this.writer = new Thread(this::writeLoop, "raft-wal-" + name);
        this.writer.setDaemon(true);
        this.checkpointer = new Thread(this::checkpointLoop, "raft-wal-checkpoint-" + name);
        this.checkpointer.setDaemon(true);
        writer.start();
        checkpointer.start();
    }

    /**
     * Opens the log in {@code dir}: reads every record of the files there (for {@link #replay}) and starts a new file
     * after them. {@code flushers} runs the checkpoints' log flushes side by side. {@code segmentBytes} may be 0 when
     * the logs are not to be made durable here (the setting was turned off after a crash): the log then replays what
     * it found and writes only the markers replays need (files of {@value #MARKER_SEGMENT_BYTES} bytes).
     */
    public static WriteAheadLog open(Path dir, long segmentBytes, Executor flushers, String name) throws IOException {
        Files.createDirectories(dir);
        List<Path> files = files(dir);
        Map<Long, List<Record>> recovered = new ConcurrentHashMap<>();
        long next = 0;
        int records = 0;
        for (Path file : files) {
            long sequence = sequenceOf(file);
            for (Record record : read(file, sequence)) {
                List<Record> group = recovered.computeIfAbsent(record.groupId(), id -> new ArrayList<>());
                if (record.type() == RESET || record.type() == DROP) {
                    group.clear(); // what came before is gone from the log (RESET is applied again, below)
                }
                if (record.type() != DROP) {
                    group.add(record);
                } else {
                    recovered.remove(record.groupId());
                }
                records++;
            }
            next = sequence + 1;
        }
        if (!files.isEmpty()) {
            LOGGER.info("Write-ahead log {}: {} records of {} groups in {} files to replay", dir, records,
                recovered.size(), files.size());
        }
        WriteAheadLog wal = new WriteAheadLog(dir, segmentBytes > 0 ? segmentBytes : MARKER_SEGMENT_BYTES, flushers,
            recovered, new ArrayList<>(files), next, name);
        if (recovered.isEmpty()) {
            wal.retireRecovered();
        }
        return wal;
    }

    /** Whether {@code dir} holds files of a write-ahead log (a crash left records to replay). */
    public static boolean hasFiles(Path dir) throws IOException {
        return Files.isDirectory(dir) && !files(dir).isEmpty();
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().endsWith(SUFFIX))
                .sorted((a, b) -> Long.compare(sequenceOf(a), sequenceOf(b))).toList();
        }
    }

    private static long sequenceOf(Path file) {
        String name = file.getFileName().toString();
        return Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
    }

    /** Every record of {@code file} up to its first invalid frame. */
    static List<Record> read(Path file, long sequence) throws IOException {
        ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(file));
        List<Record> records = new ArrayList<>();
        int pos = 0;
        while (pos + FRAME_HEADER <= data.limit()) {
            int length = data.getInt(pos);
            if (length < FRAME_HEADER || length > data.limit() - pos || data.getLong(pos + 8) != sequence) {
                break;
            }
            CRC32C crc = new CRC32C();
            crc.update(data.slice(pos + 8, length - 8));
            if ((int) crc.getValue() != data.getInt(pos + 4)) {
                break;
            }
            int at = pos + FRAME_HEADER;
            int end = pos + length;
            while (at < end) {
                if (end - at < RECORD_HEADER) {
                    throw new IOException("write-ahead log " + file + ": a record header crosses the end of its frame");
                }
                byte type = data.get(at);
                long groupId = data.getLong(at + 1);
                long offset = data.getLong(at + 9);
                int payload = data.getInt(at + 17);
                if (payload < 0 || payload > end - at - RECORD_HEADER || type < APPEND || type > DROP) {
                    throw new IOException("write-ahead log " + file + ": a bad record at " + at
                        + " in a frame whose checksum holds");
                }
                records.add(new Record(type, groupId, offset, data.slice(at + RECORD_HEADER, payload)));
                at += RECORD_HEADER + payload;
            }
            pos = end;
        }
        return records;
    }

    /** Durable once the returned future completes (exceptionally if this log failed). */
    public CompletableFuture<Void> submit(Batch batch) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        IOException failed = failure;
        if (failed != null || closed) {
            done.completeExceptionally(failed != null ? failed : new IOException("write-ahead log " + dir + " closed"));
            return done;
        }
        queue.add(new Submission(batch, done));
        return done;
    }

    /** As {@link #submit}, waiting for it: for the rare records a caller must not go on before (a reset, a drop). */
    public void submitSync(Batch batch) throws IOException {
        try {
            submit(batch).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the write-ahead log", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /**
     * Puts back into {@code log} (group {@code groupId}, just opened) what the records found on open say it held:
     * appends it lost, truncations and resets it missed; then flushes it, so the records are needed no more. A record
     * that cannot apply (an append past the log's end: something the records rely on is missing) fails with an
     * {@link IOException}: the replica must not serve.
     */
    public void replay(long groupId, SegmentRaftLog log) throws IOException {
        List<Record> records = recovered.get(groupId);
        if (records == null) {
            return;
        }
        int applied = 0;
        for (Record record : records) {
            applied += log.replay(record);
        }
        log.segmentLog().flush();
        // durably marked replayed, before the group runs: were the records read again after a crash, its later
        // changes (truncations) might not all be there to apply after them
        Batch replayed = new Batch();
        replayed.add(DROP, groupId, 0, null, null);
        submitSync(replayed);
        recovered.remove(groupId);
        LOGGER.info("Write-ahead log: group {} replayed, {} of {} records changed {}", groupId, applied,
            records.size(), log);
        if (recovered.isEmpty()) {
            retireRecovered();
        }
    }

    /** Forgets the records found on open for a group whose replica is gone. */
    public void forget(long groupId) {
        if (recovered.remove(groupId) != null && recovered.isEmpty()) {
            retireRecovered();
        }
    }

    /**
     * Forgets the records found on open of every group not in {@code present} (no replica directory of theirs is on
     * disk: nothing to replay them into).
     */
    public void forgetAllExcept(Set<Long> present) {
        for (Long groupId : Set.copyOf(recovered.keySet())) {
            if (!present.contains(groupId)) {
                LOGGER.info("Write-ahead log {}: group {} has records but no replica here; forgetting them", dir,
                    groupId);
                forget(groupId);
            }
        }
        if (!recovered.isEmpty()) {
            LOGGER.warn("Write-ahead log {}: groups {} still have records to replay; until they are, no file of the log "
                + "is deleted", dir, recovered.keySet());
        }
    }

    /** Groups with records found on open and not yet replayed. */
    public Set<Long> unreplayedGroups() {
        return Set.copyOf(recovered.keySet());
    }

    private synchronized void retireRecovered() {
        List<Path> files = List.copyOf(recoveredFiles);
        recoveredFiles.clear();
        checkpoints.add(() -> {
            delete(files);
            recoveredGone = true;
            if (!checkpointFailed) {
                delete(List.copyOf(deferred));
                deferred.clear();
            }
        });
    }

    private void writeLoop() {
        List<Submission> batch = new ArrayList<>();
        while (true) {
            try {
                Submission first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closed) {
                        break;
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch);
            } catch (InterruptedException e) {
                break;
            }
            try {
                if (failure != null) {
                    throw failure;
                }
                for (Submission submission : batch) {
                    write(submission.batch());
                }
                channel.force(false);
                for (Submission submission : batch) {
                    submission.done().complete(null);
                }
            } catch (IOException | RuntimeException e) {
                IOException cause = e instanceof IOException io ? io : new IOException(e);
                if (failure == null) {
                    LOGGER.error("Write-ahead log {} failed: every group writing to it stops", dir, cause);
                    failure = cause;
                }
                for (Submission submission : batch) {
                    submission.done().completeExceptionally(cause);
                }
            }
            batch.clear();
        }
        for (Submission left; (left = queue.poll()) != null; ) {
            left.done().completeExceptionally(new IOException("write-ahead log " + dir + " closed"));
        }
    }

    private void write(Batch batch) throws IOException {
        long length = FRAME_HEADER + (long) batch.bytes();
        if (position > 0 && position + length > segmentBytes) {
            roll();
        }
        ByteBuffer header = ByteBuffer.allocate(FRAME_HEADER);
        header.putInt((int) length).putInt(0).putLong(current.sequence).flip();
        CRC32C crc = new CRC32C();
        crc.update(header.slice(8, 8));
        for (ByteBuffer part : batch.parts) {
            crc.update(part.duplicate());
        }
        header.putInt(4, (int) crc.getValue());
        ByteBuffer[] all = new ByteBuffer[batch.parts.size() + 1];
        all[0] = header;
        for (int i = 0; i < batch.parts.size(); i++) {
            all[i + 1] = batch.parts.get(i).duplicate();
        }
        long written = 0;
        while (written < length) {
            written += channel.write(all);
        }
        position += length;
        current.logs.addAll(batch.logs);
    }

    /** Forces the full file, starts the next, and hands the full one to the checkpoint thread. */
    private void roll() throws IOException {
        channel.force(false);
        channel.close();
        WalFile full = current;
        openFile(full.sequence + 1);
        checkpoints.add(() -> checkpoint(full));
    }

    private void openFile(long sequence) throws IOException {
        Path path = dir.resolve(String.format("%020d%s", sequence, SUFFIX));
        channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        DurableFiles.syncDirectory(dir);
        current = new WalFile(sequence, path);
        position = 0;
    }

    private void checkpointLoop() {
        while (true) {
            Runnable task;
            try {
                task = checkpoints.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (task == null) {
                if (closed) {
                    return;
                }
                continue;
            }
            try {
                task.run();
            } catch (RuntimeException e) {
                LOGGER.warn("Write-ahead log {}: a checkpoint failed: {}", dir, e.toString());
            }
        }
    }

    /**
     * Flushes every partition log with records in {@code full}, side by side, then deletes it. A log closed meanwhile
     * was flushed by its close. If a flush fails the file stays (a restart replays it) and so do all later ones.
     */
    private void checkpoint(WalFile full) {
        List<CompletableFuture<Void>> flushes = new ArrayList<>(full.logs.size());
        for (SegmentLog log : full.logs) {
            flushes.add(CompletableFuture.runAsync(() -> {
                try {
                    log.flushIfOpen();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, flushers));
        }
        try {
            CompletableFuture.allOf(flushes.toArray(CompletableFuture[]::new)).join();
        } catch (RuntimeException e) {
            LOGGER.error("Write-ahead log {}: a checkpoint of {} failed; it and every later file stay for the next "
                + "start", dir, full.path, e);
            checkpointFailed = true;
            return;
        }
        if (recoveredGone && !checkpointFailed) {
            delete(List.of(full.path));
        } else {
            deferred.add(full.path);
        }
        checkpointsDone.incrementAndGet();
    }

    /** How many full files were checkpointed (their logs flushed), for tests. */
    int checkpointsDone() {
        return checkpointsDone.get();
    }

    private void delete(List<Path> files) {
        try {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
            if (!files.isEmpty()) {
                DurableFiles.syncDirectory(dir);
            }
        } catch (IOException e) {
            LOGGER.warn("Write-ahead log {}: could not delete {}: {}", dir, files, e.toString());
        }
    }

    /**
     * Stops writing (submissions not yet written fail). With {@code logsFlushed} (every partition log was closed, so
     * flushed) the files are deleted: the next start has nothing to replay.
     */
    public void close(boolean logsFlushed) throws IOException {
        closed = true;
        try {
            writer.join(10_000);
            checkpointer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        channel.close();
        if (logsFlushed && failure == null && recovered.isEmpty()) {
            delete(files(dir));
        }
    }

    @Override
    public void close() throws IOException {
        close(false);
    }

    /** Every record of the files in {@code dir}, per group in order, for tests. */
    static Map<Long, List<Record>> readAll(Path dir) throws IOException {
        Map<Long, List<Record>> all = new HashMap<>();
        for (Path file : files(dir)) {
            for (Record record : read(file, sequenceOf(file))) {
                all.computeIfAbsent(record.groupId(), id -> new ArrayList<>()).add(record);
            }
        }
        return all;
    }
}
