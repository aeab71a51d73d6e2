package io.fluxmq.raft.log;

import static io.fluxmq.raft.log.TestBatches.batch;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SegmentLog#flush} forces only what was written since the last flush, outside the append lock. A power cut is
 * simulated with a "disk" that holds only the bytes a flush forced: the log file is replaced by that image and the
 * directory reopened, as the node would after the cut.
 */
class SegmentLogFlushTest {
    private static final int SEGMENT = 64 * 1024;
    private static final SegmentLogConfig CONFIG = new SegmentLogConfig(SEGMENT, Long.MAX_VALUE, 0, 4096);

    @TempDir
    Path dir;
    @TempDir
    Path afterCut;
    private final Disk disk = new Disk();
    private SegmentLog log;

    /** What reached the device: the forced byte ranges of the active segment's data, and the ranges themselves. */
    private static final class Disk implements DataForcer {
        final byte[] image = new byte[SEGMENT];
        final List<int[]> forced = new ArrayList<>();
        volatile CountDownLatch hold;
        volatile CountDownLatch entered;

        @Override
        public void force(MappedByteBuffer data, int from, int length) {
            CountDownLatch h = hold;
            if (h != null) {
                entered.countDown();
                await(h);
            }
            synchronized (this) {
                data.get(from, image, from, length);
                forced.add(new int[] {from, from + length});
            }
        }

        synchronized List<int[]> ranges() {
            return List.copyOf(forced);
        }
    }

    @AfterEach
    void close() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private int append(int records) throws IOException {
        ByteBuffer b = batch(log.logEndOffset(), records);
        int size = b.remaining();
        log.append(b);
        return size;
    }

    /** The log as a power cut right now would leave it: only forced bytes of the data file survive. */
    private SegmentLog cutAndReopen() throws IOException {
        Path file = afterCut.resolve(LogSegment.fileName(0, LogSegment.LOG_SUFFIX));
        synchronized (disk) {
            Files.write(file, disk.image);
        }
        return SegmentLog.open(afterCut, CONFIG, () -> 1_000_000L);
    }

    private static List<Long> range(long from, long to) {
        return LongStream.range(from, to).boxed().toList();
    }

    @Test
    void eachFlushForcesOnlyTheBytesWrittenSinceThePreviousOne() throws Exception {
        log = SegmentLog.open(dir, CONFIG, () -> 1_000_000L, disk);
        int first = append(3);
        log.flush();
        int second = append(2) + append(4);
        log.flush();
        log.flush(); // nothing new

        assertThat(disk.ranges()).containsExactly(new int[] {0, first}, new int[] {first, first + second});
        try (SegmentLog recovered = cutAndReopen()) {
            assertThat(recovered.logEndOffset()).isEqualTo(9);
            assertThat(TestBatches.readAll(recovered)).isEqualTo(range(0, 9));
        }
    }

    @Test
    void aCutLosesExactlyWhatNoFlushCovered() throws Exception {
        log = SegmentLog.open(dir, CONFIG, () -> 1_000_000L, disk);
        append(3);
        log.flush();
        append(5);

        try (SegmentLog recovered = cutAndReopen()) {
            assertThat(TestBatches.readAll(recovered)).isEqualTo(range(0, 3));
        }
    }

    @Test
    void aTruncationForcesTheZeroedTailSoTheDroppedBatchesStayDropped() throws Exception {
        log = SegmentLog.open(dir, CONFIG, () -> 1_000_000L, disk);
        append(3);
        append(6);
        log.flush();
        log.truncateTo(3);
        append(1); // shorter than the dropped batch: its old bytes after this one must not come back
        log.flush();

        try (SegmentLog recovered = cutAndReopen()) {
            assertThat(TestBatches.readAll(recovered)).isEqualTo(range(0, 4));
        }
    }

    @Test
    void appendsProceedWhileAFlushIsForcingAndTheNextFlushCoversThem() throws Exception {
        log = SegmentLog.open(dir, CONFIG, () -> 1_000_000L, disk);
        int first = append(3);
        disk.entered = new CountDownLatch(1);
        disk.hold = new CountDownLatch(1);
        CompletableFuture<Void> flushing = CompletableFuture.runAsync(() -> {
            try {
                log.flush();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        await(disk.entered);
        int second = append(2); // would block here if the flush held the log's lock while forcing
        CountDownLatch held = disk.hold;
        disk.hold = null;
        held.countDown();
        flushing.get(10, TimeUnit.SECONDS);
        log.flush();

        assertThat(disk.ranges()).containsExactly(new int[] {0, first}, new int[] {first, first + second});
        try (SegmentLog recovered = cutAndReopen()) {
            assertThat(TestBatches.readAll(recovered)).isEqualTo(range(0, 5));
        }
    }
}
