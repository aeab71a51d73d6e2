package io.fluxmq.raft.log;

import static io.fluxmq.raft.log.SegmentLogReadTest.LARGE;
import static io.fluxmq.raft.log.SegmentLogReadTest.SMALL;
import static io.fluxmq.raft.log.SegmentLogReadTest.logFiles;
import static io.fluxmq.raft.log.TestBatches.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentLogTruncateTest {

    @TempDir
    Path dir;
    private SegmentLog log;

    @AfterEach
    void closeLog() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    private void open(SegmentLogConfig config) throws IOException {
        log = SegmentLog.open(dir, config, () -> 1_000_000L);
    }

    private static List<Long> range(long from, long to) {
        return LongStream.range(from, to).boxed().toList();
    }

    @Test
    void truncateInsideTheActiveSegmentZeroesTheTailAndAppendsContinue() throws Exception {
        open(LARGE);
        List<Integer> sizes = TestBatches.appendBatches(log, 5, 3);
        log.truncateTo(9);
        assertThat(log.logEndOffset()).isEqualTo(9);
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, 9));
        assertThat(log.read(9, 1000, Long.MAX_VALUE, true).sizeInBytes()).isZero();
        assertThatThrownBy(() -> log.read(10, 1000, Long.MAX_VALUE, true))
            .isInstanceOf(OffsetOutOfRangeException.class);
        assertThat(log.maxTimestamp(Long.MAX_VALUE)).contains(new TimestampAndOffset(1008, 8, TestBatches.EPOCH));
        assertThat(log.offsetForTimestamp(1009, Long.MAX_VALUE)).isEmpty();

        int kept = sizes.get(0) + sizes.get(1) + sizes.get(2);
        byte[] file = Files.readAllBytes(logFiles(log).get(0));
        assertThat(Arrays.copyOfRange(file, kept, kept + sizes.get(3) + sizes.get(4))).containsOnly(0);

        log.append(batch(9, 2));
        log.close();
        open(LARGE);
        assertThat(log.logEndOffset()).isEqualTo(11);
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, 11));
    }

    @Test
    void truncateIntoAnOlderSegmentDeletesLaterOnesThenAppendAndReopen() throws Exception {
        open(SMALL);
        TestBatches.appendBatches(log, 30, 3);
        List<Path> before = log.segmentFiles();
        List<Path> logs = logFiles(log);
        assertThat(logs).hasSizeGreaterThanOrEqualTo(4);
        long secondBase = Long.parseLong(logs.get(1).getFileName().toString().substring(0, 20));

        log.truncateTo(secondBase + 3);
        assertThat(log.logEndOffset()).isEqualTo(secondBase + 3);
        assertThat(log.segmentFiles()).isEqualTo(before.subList(0, 6));
        assertThat(before.subList(6, before.size())).allSatisfy(p -> assertThat(p).doesNotExist());
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, secondBase + 3));

        TestBatches.appendBatches(log, 20, 3);
        long end = secondBase + 3 + 60;
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, end));
        log.close();
        open(SMALL);
        assertThat(log.logEndOffset()).isEqualTo(end);
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, end));
        assertThat(log.offsetForTimestamp(1000 + secondBase + 4, Long.MAX_VALUE))
            .contains(new TimestampAndOffset(1000 + secondBase + 4, secondBase + 4, TestBatches.EPOCH));
    }

    @Test
    void truncateToASegmentBaseKeepsItEmpty() throws Exception {
        open(SMALL);
        TestBatches.appendBatches(log, 20, 3);
        long secondBase = Long.parseLong(logFiles(log).get(1).getFileName().toString().substring(0, 20));
        log.truncateTo(secondBase);
        assertThat(logFiles(log)).hasSize(2);
        assertThat(log.logEndOffset()).isEqualTo(secondBase);
        log.append(batch(secondBase, 3));
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, secondBase + 3));
    }

    @Test
    void truncateToTheLogStartEmptiesTheLog() throws Exception {
        open(SMALL);
        TestBatches.appendBatches(log, 20, 3);
        log.truncateTo(0);
        assertThat(log.logEndOffset()).isZero();
        assertThat(logFiles(log)).hasSize(1);
        assertThat(log.maxTimestamp(Long.MAX_VALUE)).isEmpty();
        log.append(batch(0, 3));
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, 3));
    }

    @Test
    void truncateRejectsOffsetsThatAreNotBatchBoundaries() throws Exception {
        open(SMALL);
        TestBatches.appendBatches(log, 5, 3);
        assertThatThrownBy(() -> log.truncateTo(4)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("boundary");
        assertThatThrownBy(() -> log.truncateTo(16)).isInstanceOf(IllegalArgumentException.class);
        log.truncateTo(15);
        assertThat(log.logEndOffset()).isEqualTo(15);
    }
}
