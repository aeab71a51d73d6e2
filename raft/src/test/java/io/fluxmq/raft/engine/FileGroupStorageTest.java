package io.fluxmq.raft.engine;

import static io.fluxmq.raft.engine.TestEntries.data;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raft.log.ForcedImage;
import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.MemoryRaftLog;
import io.fluxmq.raftcore.engine.GroupStorage.Persist;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileGroupStorageTest {

    private static final int SEGMENT = 64 * 1024;
    private static final SegmentLogConfig CONFIG = new SegmentLogConfig(SEGMENT, Long.MAX_VALUE, 128, 4096);

    @TempDir
    Path dir;
    private final List<SegmentRaftLog> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (SegmentRaftLog log : opened) {
            log.close();
        }
    }

    private SegmentRaftLog open(Path path, ForcedImage disk) throws Exception {
        SegmentRaftLog log = disk == null ? SegmentRaftLog.open(path, CONFIG, () -> 0L)
            : SegmentRaftLog.open(path, disk.open(path, CONFIG));
        opened.add(log);
        return log;
    }

    /** One persist call: hard states on disk, every log forced to its persist end; what came after may vanish. */
    @Test
    void persistMakesHardStatesAndLogsDurable() throws Exception {
        ForcedImage diskA = new ForcedImage(SEGMENT);
        ForcedImage diskB = new ForcedImage(SEGMENT);
        SegmentRaftLog a = open(dir.resolve("a"), diskA);
        SegmentRaftLog b = open(dir.resolve("b"), diskB);
        FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(dir.resolve("hard-state")));
        a.append(Entry.leaderChange(0, 2));
        a.append(data(1, 3, 2));
        b.append(Entry.leaderChange(0, 1));
        storage.persist(List.of(new Persist(1, a, new HardState(2, 1), 4), new Persist(2, b, null, 1)));
        a.append(data(4, 3, 2)); // not persisted

        for (ForcedImage disk : List.of(diskA, diskB)) {
            Path source = disk == diskA ? dir.resolve("a") : dir.resolve("b");
            Path copy = dir.resolve("cut-" + source.getFileName());
            Files.createDirectories(copy);
            try (var files = Files.list(source)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Files.copy(file, copy.resolve(file.getFileName()));
                }
            }
            disk.writeTo(copy);
        }
        assertThat(open(dir.resolve("cut-a"), null).endOffset()).isEqualTo(4);
        assertThat(open(dir.resolve("cut-b"), null).endOffset()).isEqualTo(1);
        HardStateFile reopened = HardStateFile.open(dir.resolve("hard-state"));
        assertThat(reopened.get(1)).isEqualTo(new HardState(2, 1));
        assertThat(reopened.get(2)).isEqualTo(HardState.INITIAL);
    }

    /**
     * With an executor the forces of one pass overlap: each log's force waits (at most 5 s) until the other's has
     * started, which one after another on the loop thread would never happen (the first would fail).
     */
    @Test
    void forcesOfOnePassRunSideBySideOnTheExecutor() throws Exception {
        ForcedImage diskA = new ForcedImage(SEGMENT);
        ForcedImage diskB = new ForcedImage(SEGMENT);
        SegmentRaftLog a = open(dir.resolve("a"), diskA);
        SegmentRaftLog b = open(dir.resolve("b"), diskB);
        CountDownLatch bothStarted = new CountDownLatch(2);
        ForcedImage.Hook waitForTheOther = () -> {
            bothStarted.countDown();
            try {
                if (!bothStarted.await(5, TimeUnit.SECONDS)) {
                    throw new IOException("the other log's force did not start meanwhile");
                }
            } catch (InterruptedException e) {
                throw new InterruptedIOException();
            }
        };
        diskA.onForce(waitForTheOther);
        diskB.onForce(waitForTheOther);
        a.append(Entry.leaderChange(0, 1));
        b.append(Entry.leaderChange(0, 1));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(dir.resolve("hard-state")), pool);
            storage.persist(List.of(new Persist(1, a, null, 1), new Persist(2, b, null, 1)));
        } finally {
            pool.shutdownNow();
        }
        assertThat(a.needsForce(1)).isFalse();
        assertThat(b.needsForce(1)).isFalse();
    }

    /**
     * persistAsync with an executor: the hard states are on disk when it returns, while a log's force is still held;
     * each log has its own future, and a failed force fails that log's alone.
     */
    @Test
    void persistAsyncWritesHardStatesAtOnceAndFailsOnlyTheLogWhoseForceFailed() throws Exception {
        ForcedImage diskA = new ForcedImage(SEGMENT);
        ForcedImage diskB = new ForcedImage(SEGMENT);
        ForcedImage diskC = new ForcedImage(SEGMENT);
        SegmentRaftLog a = open(dir.resolve("a"), diskA);
        SegmentRaftLog b = open(dir.resolve("b"), diskB);
        SegmentRaftLog c = open(dir.resolve("c"), diskC);
        CountDownLatch release = new CountDownLatch(1);
        diskA.onForce(() -> {
            try {
                if (!release.await(5, TimeUnit.SECONDS)) {
                    throw new IOException("not released");
                }
            } catch (InterruptedException e) {
                throw new InterruptedIOException();
            }
        });
        diskB.onForce(() -> {
            throw new IOException("device gone");
        });
        a.append(Entry.leaderChange(0, 2));
        b.append(Entry.leaderChange(0, 1));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(dir.resolve("hard-state")), pool);
            List<CompletableFuture<Void>> durable = storage.persistAsync(List.of(
                new Persist(1, a, new HardState(2, 1), 1), new Persist(2, b, null, 1),
                new Persist(3, c, new HardState(5, 3), 0)));
            assertThat(HardStateFile.open(dir.resolve("hard-state")).get(3)).isEqualTo(new HardState(5, 3));
            assertThat(HardStateFile.open(dir.resolve("hard-state")).get(1)).isEqualTo(new HardState(2, 1));
            assertThat(durable.get(2)).as("nothing to force in c").isDone();
            assertThat(durable.get(0)).as("a's force is held").isNotDone();
            assertThatThrownBy(() -> durable.get(1).get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasRootCauseMessage("device gone");
            assertThat(durable.get(0)).isNotDone();
            release.countDown();
            durable.get(0).get(5, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertThat(a.needsForce(1)).isFalse();
        assertThat(b.needsForce(1)).as("b's failed force").isTrue();
    }

    @Test
    void aHardStateBehindItsLogFailsTheStart() throws Exception {
        SegmentRaftLog log = open(dir.resolve("a"), null);
        log.append(Entry.leaderChange(0, 3));
        HardStateFile states = HardStateFile.open(dir.resolve("hard-state"));
        FileGroupStorage storage = new FileGroupStorage(states);
        assertThatThrownBy(() -> storage.initialHardState(1, log)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("behind its log's last term 3");
        states.write(java.util.Map.of(1L, new HardState(3, 2)));
        assertThat(storage.initialHardState(1, log)).isEqualTo(new HardState(3, 2));
    }

    @Test
    void refusesLogsItCannotForce() throws Exception {
        FileGroupStorage storage = new FileGroupStorage(HardStateFile.open(dir.resolve("hard-state")));
        assertThatThrownBy(() -> storage.persist(List.of(new Persist(1, new MemoryRaftLog(), null, 0))))
            .isInstanceOf(IllegalArgumentException.class);
    }
}
