package io.fluxmq.raft.engine;

import static io.fluxmq.raft.engine.TestEntries.bytes;
import static io.fluxmq.raft.engine.TestEntries.data;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raft.log.ForcedImage;
import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.engine.GroupStorage.Persist;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write-ahead log as a power cut sees it: the partition logs' segments keep only what was forced
 * ({@link ForcedImage}), the write-ahead log what it forced; replay must give back every entry a persisted pass held.
 */
class WriteAheadLogTest {

    private static final int SEGMENT = 64 * 1024;
    private static final SegmentLogConfig CONFIG = new SegmentLogConfig(SEGMENT, Long.MAX_VALUE, 128, 4096);

    @TempDir
    Path dir;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private final ExecutorService flushers = Executors.newFixedThreadPool(2);

    @AfterEach
    void closeAll() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        flushers.shutdownNow();
    }

    private WriteAheadLog wal(long segmentBytes) throws IOException {
        WriteAheadLog wal = WriteAheadLog.open(dir.resolve("wal"), segmentBytes, flushers, "test");
        opened.add(wal);
        return wal;
    }

    private SegmentRaftLog open(Path path, ForcedImage disk) throws IOException {
        SegmentRaftLog log = disk == null ? SegmentRaftLog.open(path, CONFIG, () -> 0L)
            : SegmentRaftLog.open(path, disk.open(path, CONFIG));
        opened.add(log);
        return log;
    }

    /** What a power cut leaves of {@code source}: its files with only the forced bytes, in a new directory. */
    private Path cut(Path source, ForcedImage disk, String name) throws IOException {
        Path copy = dir.resolve(name);
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(source)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.copy(file, copy.resolve(file.getFileName()));
            }
        }
        disk.writeTo(copy);
        return copy;
    }

    private static void persist(FileGroupStorage storage, SegmentRaftLog log, long groupId) throws Exception {
        List<CompletableFuture<Void>> durable = storage.persistAsync(List.of(
            new Persist(groupId, log, new HardState(log.lastTerm(), 0), log.endOffset())));
        durable.get(0).get(10, TimeUnit.SECONDS);
    }

    private static List<byte[]> contents(SegmentRaftLog log) {
        return log.read(log.startOffset(), Integer.MAX_VALUE).stream()
            .map(e -> e.kind() == Entry.Kind.DATA ? bytes(e) : e.toString().getBytes()).toList();
    }

    @Test
    void replayGivesBackWhatThePersistedPassesAppendedAndTheSegmentsLost() throws Exception {
        ForcedImage disk = new ForcedImage(SEGMENT);
        SegmentRaftLog log = open(dir.resolve("p-0"), disk);
        WriteAheadLog wal = wal(1 << 20);
        log.attachWal(wal, 7);
        FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(dir.resolve("hard-state")), flushers, wal);
        log.append(Entry.leaderChange(0, 1));
        log.append(data(1, 3, 1));
        persist(storage, log, 7);
        log.append(data(4, 2, 1));
        log.append(Entry.config(6, 1, java.util.Set.of(1, 2, 3)));
        persist(storage, log, 7);
        log.append(data(7, 5, 1)); // never persisted: may be lost
        assertThat(log.needsForce(7)).as("the segments were never forced").isTrue();

        Path restored = cut(dir.resolve("p-0"), disk, "cut");
        SegmentRaftLog reopened = open(restored, null);
        assertThat(reopened.endOffset()).as("the segments alone lost everything").isZero();
        WriteAheadLog again = WriteAheadLog.open(dir.resolve("wal"), 1 << 20, flushers, "again");
        opened.add(again);
        assertThat(again.unreplayedGroups()).containsExactly(7L);
        again.replay(7, reopened);
        assertThat(reopened.endOffset()).isEqualTo(7);
        assertThat(contents(reopened)).usingElementComparator(java.util.Arrays::compare)
            .containsExactlyElementsOf(contents(log).subList(0, 4));
        assertThat(reopened.configEntries()).hasSize(1);
        assertThat(again.unreplayedGroups()).isEmpty();
    }

    /**
     * A truncation and the entries written over it replay in order, onto segments that still hold the old entries
     * (as they were before the truncation, which the segment log forces by itself; here a copy of them).
     */
    @Test
    void replayRedoesTruncationsOverSegmentsThatKeptTheOldEntries() throws Exception {
        ForcedImage disk = new ForcedImage(SEGMENT);
        SegmentRaftLog log = open(dir.resolve("p-0"), disk);
        log.append(Entry.leaderChange(0, 1));
        log.append(data(1, 3, 1));
        log.append(data(4, 3, 1));
        log.force(7);
        Path before = cut(dir.resolve("p-0"), disk, "before");
        WriteAheadLog wal = wal(1 << 20);
        log.attachWal(wal, 9);
        FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(dir.resolve("hard-state")), flushers, wal);
        log.truncateTo(4);
        log.append(Entry.leaderChange(4, 2));
        log.append(data(5, 2, 2));
        persist(storage, log, 9);

        SegmentRaftLog reopened = open(before, null);
        assertThat(reopened.endOffset()).isEqualTo(7);
        assertThat(reopened.lastTerm()).as("the old entries").isEqualTo(1);
        WriteAheadLog again = WriteAheadLog.open(dir.resolve("wal"), 1 << 20, flushers, "again");
        opened.add(again);
        again.replay(9, reopened);
        assertThat(reopened.endOffset()).isEqualTo(7);
        assertThat(reopened.termOfEntryEndingAt(6)).isEqualTo(2);
        assertThat(contents(reopened)).usingElementComparator(java.util.Arrays::compare)
            .containsExactlyElementsOf(contents(log));
    }

    /** Entries that differ from the records' (no truncation recorded) are replaced from the first that differs. */
    @Test
    void replayReplacesEntriesThatDifferFromTheRecords() throws Exception {
        ForcedImage disk = new ForcedImage(SEGMENT);
        SegmentRaftLog log = open(dir.resolve("p-0"), disk);
        log.append(Entry.leaderChange(0, 1));
        log.append(data(1, 3, 1));
        log.force(4);
        Path before = cut(dir.resolve("p-0"), disk, "before");
        try (SegmentRaftLog stale = SegmentRaftLog.open(before, CONFIG, () -> 0L)) {
            stale.append(data(4, 3, 1, 50)); // other bytes than the records will hold at 4
            stale.append(data(7, 1, 1));
            stale.force(8);
        }
        WriteAheadLog wal = wal(1 << 20);
        log.attachWal(wal, 4);
        FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(dir.resolve("hard-state")), flushers, wal);
        log.append(data(4, 3, 1));
        persist(storage, log, 4);

        SegmentRaftLog reopened = open(before, null);
        assertThat(reopened.endOffset()).isEqualTo(8);
        WriteAheadLog again = WriteAheadLog.open(dir.resolve("wal"), 1 << 20, flushers, "again");
        opened.add(again);
        again.replay(4, reopened);
        assertThat(reopened.endOffset()).as("cut after the replaced batch").isEqualTo(7);
        assertThat(contents(reopened)).usingElementComparator(java.util.Arrays::compare)
            .containsExactlyElementsOf(contents(log));
    }

    /** A record that would leave a hole (the entries before it are missing) fails the replay, loudly. */
    @Test
    void aRecordPastTheLogsEndFailsTheReplay() throws Exception {
        SegmentRaftLog source = open(dir.resolve("p-0"), null);
        source.append(Entry.leaderChange(0, 1));
        source.append(data(1, 3, 1));
        WriteAheadLog wal = wal(1 << 20);
        source.attachWal(wal, 3);
        source.append(data(4, 2, 1));
        WriteAheadLog.Batch batch = new WriteAheadLog.Batch();
        source.logTo(batch, 6);
        wal.submitSync(batch);

        SegmentRaftLog empty = open(dir.resolve("p-1"), null);
        WriteAheadLog again = WriteAheadLog.open(dir.resolve("wal"), 1 << 20, flushers, "again");
        opened.add(again);
        assertThatThrownBy(() -> again.replay(3, empty)).isInstanceOf(IOException.class)
            .hasMessageContaining("past the log's end 0");
    }

    /** A torn last frame (a write cut off by the crash) ends the file; the frames before it are read. */
    @Test
    void aTornFrameEndsTheFile() throws Exception {
        WriteAheadLog wal = wal(1 << 20);
        for (int i = 0; i < 3; i++) {
            WriteAheadLog.Batch batch = new WriteAheadLog.Batch();
            batch.add(WriteAheadLog.TRUNCATE, i, 10 + i, null, null);
            wal.submitSync(batch);
        }
        wal.close();
        Path file;
        try (Stream<Path> files = Files.list(dir.resolve("wal"))) {
            file = files.findFirst().orElseThrow();
        }
        long size = Files.size(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {(byte) 0xFF}), size - 3); // inside the last frame's record
        }
        var records = WriteAheadLog.readAll(dir.resolve("wal"));
        assertThat(records.keySet()).containsExactlyInAnyOrder(0L, 1L);
        assertThat(records.get(1L).get(0).offset()).isEqualTo(11);
    }

    /**
     * Once a file is full the next one starts and the full one is deleted after every log with records in it was
     * flushed: the segments then hold what the records did.
     */
    @Test
    void aFullFileIsDeletedOnceItsLogsAreFlushed() throws Exception {
        ForcedImage disk = new ForcedImage(SEGMENT);
        SegmentRaftLog log = open(dir.resolve("p-0"), disk);
        WriteAheadLog wal = wal(4096);
        log.attachWal(wal, 1);
        FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(dir.resolve("hard-state")), flushers, wal);
        appendTenPersistedBatches(storage, log);
        await(() -> walFiles() == 1, "full files deleted after their checkpoint");
        SegmentRaftLog reopened = open(cut(dir.resolve("p-0"), disk, "cut"), null);
        WriteAheadLog again = WriteAheadLog.open(dir.resolve("wal"), 4096, flushers, "again");
        opened.add(again);
        again.replay(1, reopened);
        assertThat(reopened.endOffset()).as("flushed segments plus the current file's records").isEqualTo(21);
    }

    /**
     * Files found on open hold back the deletion of every later file until each group's records were replayed or
     * forgotten: a record read again after a second crash must find every later record of its group (its replay's
     * marker, a truncation) still there to apply after it.
     */
    @Test
    void filesFoundOnOpenHoldBackTheDeletionOfLaterOnesUntilEveryGroupWasReplayed() throws Exception {
        WriteAheadLog first = wal(1 << 20);
        WriteAheadLog.Batch before = new WriteAheadLog.Batch();
        before.add(WriteAheadLog.TRUNCATE, 1, 0, null, null);
        before.add(WriteAheadLog.TRUNCATE, 2, 0, null, null);
        first.submitSync(before);
        first.close(); // a crash: the file stays
        opened.remove(first);

        SegmentRaftLog log = open(dir.resolve("p-1"), null);
        WriteAheadLog wal = wal(4096);
        assertThat(wal.unreplayedGroups()).containsExactlyInAnyOrder(1L, 2L);
        wal.replay(1, log);
        log.attachWal(wal, 1);
        FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(dir.resolve("hard-state")), flushers, wal);
        appendTenPersistedBatches(storage, log);
        await(() -> wal.checkpointsDone() >= 2, "two full files checkpointed");
        assertThat(walFiles()).as("kept: the found file, the two checkpointed, the current").isGreaterThanOrEqualTo(4);
        wal.forget(2); // group 2 has no replica here
        await(() -> walFiles() == 1, "the found file and the checkpointed ones, deleted together");
    }

    /** Leader change at 0, then ten 2-record batches of about 800 bytes, each persisted on its own: group 1. */
    private static void appendTenPersistedBatches(FileGroupStorage storage, SegmentRaftLog log) throws Exception {
        log.append(Entry.leaderChange(0, 1));
        for (int i = 0; i < 10; i++) {
            log.append(data(1 + 2L * i, 2, 1, 400));
            persist(storage, log, 1);
        }
    }

    private interface Condition {
        boolean holds() throws IOException;
    }

    /** Waits (at most 10 s) until {@code condition} holds, failing with {@code what} otherwise. */
    private static void await(Condition condition, String what) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.holds()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    private long walFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("wal"))) {
            return files.count();
        }
    }
}
