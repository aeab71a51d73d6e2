package io.fluxmq.raft.log;

import static io.fluxmq.raft.log.SegmentLogReadTest.LARGE;
import static io.fluxmq.raft.log.SegmentLogReadTest.logFiles;
import static io.fluxmq.raft.log.TestBatches.batch;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crashes are simulated by abandoning a log without closing it and opening the directory again. */
class SegmentLogRecoveryTest {

    @TempDir
    Path dir;
    private SegmentLog log;

    @AfterEach
    void closeLog() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    private SegmentLog open(SegmentLogConfig config) throws IOException {
        log = SegmentLog.open(dir, config, () -> 1_000_000L);
        return log;
    }

    private static List<Long> range(long from, long to) {
        return LongStream.range(from, to).boxed().toList();
    }

    /** Appends 5 batches of 3 records, abandons the log, and returns the number of valid bytes in its file. */
    private int crashAfterFiveBatches() throws Exception {
        open(LARGE);
        int size = TestBatches.appendBatches(log, 5, 3).stream().mapToInt(Integer::intValue).sum();
        log.flush();
        log = null;
        return size;
    }

    private Path onlyLogFile() {
        return dir.resolve(LogSegment.fileName(0, ".log"));
    }

    private void writeAt(long position, ByteBuffer bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(onlyLogFile(), StandardOpenOption.WRITE)) {
            ch.write(bytes, position);
        }
    }

    private void assertRecoveredToFifteenAndAppendable(int validBytes, int droppedBytes) throws Exception {
        open(LARGE);
        assertThat(log.logEndOffset()).isEqualTo(15);
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, 15));
        byte[] file = Files.readAllBytes(onlyLogFile());
        assertThat(Arrays.copyOfRange(file, validBytes, validBytes + droppedBytes)).as("dropped bytes are zeroed")
            .containsOnly(0);
        log.append(batch(15, 3));
        log.close();
        open(LARGE);
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, 18));
    }

    @Test
    void crashWithoutCloseKeepsEveryAppendedBatch() throws Exception {
        crashAfterFiveBatches();
        open(LARGE);
        assertThat(log.logEndOffset()).isEqualTo(15);
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, 15));
        assertThat(log.offsetForTimestamp(1007, Long.MAX_VALUE))
            .contains(new TimestampAndOffset(1007, 7, TestBatches.EPOCH));
    }

    @Test
    void garbageAfterTheLastBatchIsDropped() throws Exception {
        int valid = crashAfterFiveBatches();
        byte[] garbage = new byte[100];
        new Random(1).nextBytes(garbage);
        garbage[0] = 1;
        writeAt(valid, ByteBuffer.wrap(garbage));
        assertRecoveredToFifteenAndAppendable(valid, garbage.length);
    }

    @Test
    void partiallyWrittenBatchIsDropped() throws Exception {
        int valid = crashAfterFiveBatches();
        ByteBuffer next = batch(15, 3);
        next.limit(next.limit() / 2);
        int torn = next.remaining();
        writeAt(valid, next);
        assertRecoveredToFifteenAndAppendable(valid, torn);
    }

    @Test
    void batchThatGoesBackInTheOffsetsIsDropped() throws Exception {
        int valid = crashAfterFiveBatches();
        ByteBuffer gap = batch(14, 3);
        int size = gap.remaining();
        writeAt(valid, gap);
        assertRecoveredToFifteenAndAppendable(valid, size);
    }

    @Test
    void flippedByteInTheLastBatchDropsThatBatch() throws Exception {
        int valid = crashAfterFiveBatches();
        int lastBatchSize = batch(12, 3).remaining();
        ByteBuffer oneByte = ByteBuffer.allocate(1);
        try (FileChannel ch = FileChannel.open(onlyLogFile(), StandardOpenOption.READ)) {
            ch.read(oneByte, valid - 5);
        }
        writeAt(valid - 5, ByteBuffer.wrap(new byte[] {(byte) (oneByte.get(0) ^ 0x10)}));
        open(LARGE);
        assertThat(log.logEndOffset()).isEqualTo(12);
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, 12));
        byte[] file = Files.readAllBytes(onlyLogFile());
        assertThat(Arrays.copyOfRange(file, valid - lastBatchSize, valid)).containsOnly(0);
        log.append(batch(12, 3));
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, 15));
    }

    /** 8 MiB segments: room for garbage past the torn-write window of one boot and inside a reboot's (16 MiB). */
    private static final SegmentLogConfig EIGHT_MIB = new SegmentLogConfig(8 << 20, 3_600_000, 4096, 1 << 16);

    /**
     * Writes five batches, abandons the log, and puts valid-looking bytes 3 MiB past them: further than any append of
     * this boot went (so a process crash cannot have left them), within a power cut's window.
     */
    private int crashAndScribbleThreeMibPastTheEnd() throws Exception {
        open(EIGHT_MIB);
        int valid = TestBatches.appendBatches(log, 5, 3).stream().mapToInt(Integer::intValue).sum();
        log.flush();
        log = null;
        writeAt(valid + (3 << 20), batch(15, 3));
        return valid;
    }

    private byte[] bytesThreeMibPast(int valid) throws IOException {
        byte[] file = Files.readAllBytes(onlyLogFile());
        return Arrays.copyOfRange(file, valid + (3 << 20), valid + (3 << 20) + 16);
    }

    @Test
    void inTheBootThatWroteTheLogRecoverySearchesOnlyAsFarAsTheLargestAppend() throws Exception {
        assertThat(TornWriteMarker.currentBootId()).as("the kernel's boot id (Linux)").isNotNull();
        int valid = crashAndScribbleThreeMibPastTheEnd();
        assertThat(Files.readString(dir.resolve(TornWriteMarker.FILE_NAME)))
            .contains("boot_id: " + TornWriteMarker.currentBootId())
            .contains("window_bytes: " + TornWriteMarker.INITIAL_WINDOW);

        open(EIGHT_MIB);
        assertThat(log.logEndOffset()).isEqualTo(15);
        assertThat(bytesThreeMibPast(valid)).as("not searched: no append of this boot reached that far")
            .isEqualTo(Arrays.copyOf(batch(15, 3).array(), 16));
    }

    @Test
    void afterARebootRecoverySearchesTheWholeTornWriteWindow() throws Exception {
        int valid = crashAndScribbleThreeMibPastTheEnd();
        Files.writeString(dir.resolve(TornWriteMarker.FILE_NAME), "boot_id: another-boot\nwindow_bytes: 65536\n");

        open(EIGHT_MIB);
        assertThat(log.logEndOffset()).isEqualTo(15);
        assertThat(bytesThreeMibPast(valid)).as("zeroed").containsOnly(0);
        assertThat(Files.readString(dir.resolve(TornWriteMarker.FILE_NAME)))
            .contains("boot_id: " + TornWriteMarker.currentBootId());
    }

    @Test
    void aTornOrMissingMarkerMeansTheWholeWindow() throws Exception {
        int valid = crashAndScribbleThreeMibPastTheEnd();
        Files.writeString(dir.resolve(TornWriteMarker.FILE_NAME), "boot_id: " + TornWriteMarker.currentBootId());
        open(EIGHT_MIB);
        assertThat(bytesThreeMibPast(valid)).as("zeroed: the marker names no window").containsOnly(0);
        log.close();
        log = null;

        writeAt(valid + (3 << 20), batch(15, 3));
        Files.delete(dir.resolve(TornWriteMarker.FILE_NAME));
        open(EIGHT_MIB);
        assertThat(bytesThreeMibPast(valid)).as("zeroed: no marker").containsOnly(0);
    }

    @Test
    void anAppendLargerThanTheWindowWidensItBeforeItIsWritten() throws Exception {
        open(EIGHT_MIB);
        log.append(TestBatches.batch(0, 3 << 20, 1000L));
        assertThat(Files.readString(dir.resolve(TornWriteMarker.FILE_NAME))).contains("window_bytes: " + (4 << 20));
        log.close();
        log = null;
        open(EIGHT_MIB);
        assertThat(Files.readString(dir.resolve(TornWriteMarker.FILE_NAME)))
            .as("a new run starts again from the initial window")
            .contains("window_bytes: " + TornWriteMarker.INITIAL_WINDOW);
    }

    @Test
    void garbageAppendedToACleanlyClosedFileIsDropped() throws Exception {
        open(LARGE);
        int valid = TestBatches.appendBatches(log, 5, 3).stream().mapToInt(Integer::intValue).sum();
        log.close();
        assertThat(Files.size(onlyLogFile())).isEqualTo(valid);
        Files.write(onlyLogFile(), new byte[] {0, 0, 0, 0, 0, 0, 0, 15, 0, 0, 0, 99, 1, 2}, StandardOpenOption.APPEND);
        assertRecoveredToFifteenAndAppendable(valid, 14);
    }

    @Test
    void missingOrMalformedIndexesOfOlderSegmentsAreRebuiltIdentically() throws Exception {
        SegmentLogConfig config = new SegmentLogConfig(1024, 3_600_000, 0, 4096);
        open(config);
        TestBatches.appendBatches(log, 30, 3);
        log.close();
        List<Path> files = log.segmentFiles();
        assertThat(files.size()).isGreaterThanOrEqualTo(12);
        byte[][] original = new byte[9][];
        for (int i = 0; i < 9; i++) {
            original[i] = Files.readAllBytes(files.get(i));
        }
        assertThat(Files.size(files.get(1))).as("sealed index holds entries").isGreaterThan(0);

        Files.delete(files.get(1));
        Files.delete(files.get(2));
        Files.write(files.get(5), new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
        try (FileChannel ch = FileChannel.open(files.get(7), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).putInt(0, Integer.MAX_VALUE), Files.size(files.get(7)) - 4);
        }

        open(config);
        for (int i = 0; i < 9; i++) {
            assertThat(Files.readAllBytes(files.get(i))).as("file %s", files.get(i)).isEqualTo(original[i]);
        }
        assertThat(TestBatches.readAll(log)).isEqualTo(range(0, 90));
        assertThat(log.offsetForTimestamp(1004, Long.MAX_VALUE))
            .contains(new TimestampAndOffset(1004, 4, TestBatches.EPOCH));
    }

    @Test
    void orphanIndexFilesAreDeleted() throws Exception {
        Files.createDirectories(dir);
        Path orphan = dir.resolve(LogSegment.fileName(42, ".index"));
        Files.write(orphan, new byte[16]);
        open(LARGE);
        assertThat(orphan).doesNotExist();
        assertThat(log.logEndOffset()).isZero();
        assertThat(logFiles(log)).hasSize(1);
    }
}
