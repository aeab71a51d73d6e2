package io.fluxmq.raft.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The size and segment count the node's metrics report: batch bytes in every segment, and how many segments. */
class SegmentLogStatsTest {
    @TempDir
    Path dir;

    @Test
    void sizeIsTheBatchBytesOfEverySegmentAcrossRollsAndRetention() throws Exception {
        try (SegmentLog log = SegmentLog.open(dir, new SegmentLogConfig(4096, Long.MAX_VALUE, 4096, 1 << 20),
                System::currentTimeMillis)) {
            assertThat(log.sizeInBytes()).isZero();
            assertThat(log.segmentCount()).isEqualTo(1);

            List<Integer> sizes = TestBatches.appendBatches(log, 20, 10);
            long written = sizes.stream().mapToLong(Integer::intValue).sum();
            assertThat(log.sizeInBytes()).isEqualTo(written);
            assertThat(log.segmentCount()).isGreaterThan(1);
            long logFiles;
            try (var files = Files.list(dir)) {
                logFiles = files.filter(f -> f.toString().endsWith(".log")).count();
            }
            assertThat(log.segmentCount()).isEqualTo((int) logFiles);

            int before = log.segmentCount();
            int deleted = log.deleteOldSegments(-1, 0, log.logEndOffset());
            assertThat(deleted).isPositive();
            assertThat(log.segmentCount()).isEqualTo(before - deleted);
            assertThat(log.sizeInBytes()).isLessThan(written);
        }
    }
}
