package io.fluxmq.raft.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Appends go through the segment's file channel into a sparse, pre-sized file: on a full disk (a small tmpfs, so this
 * needs root, as CI has) the append that does not fit fails with an IOException, the log keeps exactly what it had,
 * and once there is room again it goes on from there, also after a reopen that recovers the torn write's remains.
 */
class SegmentLogFullDiskTest {

    private static final SegmentLogConfig SPARSE = new SegmentLogConfig(8 << 20, 3_600_000, 4096, 64 << 10);
    private static final int VALUE_BYTES = 1000;
    private static final int RECORDS_PER_BATCH = 64;

    @TempDir
    Path tmp;
    private Path dir;
    private SegmentLog log;

    @BeforeEach
    void mountSmallDisk() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        dir = tmp.resolve("disk");
        Files.createDirectories(dir);
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=1m", "fluxmq-full-segment", dir.toString()) == 0,
            "mount -t tmpfs failed");
    }

    @AfterEach
    void unmount() throws Exception {
        if (log != null) {
            log.close();
        }
        if (dir != null) {
            run("umount", "-l", dir.toString());
        }
    }

    @Test
    void anAppendThatDoesNotFitFailsAndTheLogKeepsWhatItHad() throws Exception {
        log = SegmentLog.open(dir.resolve("p-0"), SPARSE, () -> 1_000_000L);
        IOException full = null;
        for (int i = 0; i < 100 && full == null; i++) {
            long end = log.logEndOffset();
            ByteBuffer batch = batch(end);
            try {
                log.append(batch);
            } catch (IOException e) {
                full = e;
                assertThat(log.logEndOffset()).as("log end after the failed append").isEqualTo(end);
            }
        }
        assertThat(full).as("a 1 MiB disk fills up before 100 batches of 64 KiB").isNotNull();
        assertThat(full).hasMessageContaining("No space left on device");
        long end = log.logEndOffset();
        assertThat(end).as("batches written before the disk filled").isGreaterThan(0);
        assertThat(TestBatches.readAll(log)).isEqualTo(offsets(0, end));
        assertThatThrownBy(() -> log.append(batch(end))).isInstanceOf(IOException.class);
        assertThat(log.logEndOffset()).isEqualTo(end);

        assertThat(run("mount", "-o", "remount,size=16m", dir.toString())).isZero();
        log.append(batch(end));
        long more = log.logEndOffset();
        assertThat(more).isEqualTo(end + RECORDS_PER_BATCH);
        assertThat(TestBatches.readAll(log)).isEqualTo(offsets(0, more));

        log.flush();
        log = null; // abandoned, as by a crash: reopening recovers the file as it is
        log = SegmentLog.open(dir.resolve("p-0"), SPARSE, () -> 1_000_000L);
        assertThat(log.logEndOffset()).isEqualTo(more);
        assertThat(TestBatches.readAll(log)).isEqualTo(offsets(0, more));
        log.append(batch(more));
        assertThat(TestBatches.readAll(log)).isEqualTo(offsets(0, more + RECORDS_PER_BATCH));
    }

    private static ByteBuffer batch(long baseOffset) {
        long[] timestamps = new long[RECORDS_PER_BATCH];
        java.util.Arrays.fill(timestamps, 1000 + baseOffset);
        return TestBatches.batch(baseOffset, VALUE_BYTES, timestamps);
    }

    private static List<Long> offsets(long from, long to) {
        return LongStream.range(from, to).boxed().toList();
    }

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish in 30 s");
        }
        return p.exitValue();
    }
}
