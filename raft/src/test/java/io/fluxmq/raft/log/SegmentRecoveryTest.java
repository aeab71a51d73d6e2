package io.fluxmq.raft.log;

import static io.fluxmq.raft.log.TestBatches.batch;
import static io.fluxmq.raft.log.TestBatches.concat;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SegmentRecovery#recover} on an in-memory image of a pre-sized segment: whole batches, then what a crash may
 * leave (a torn batch, garbage, zeros). The valid prefix ends at a batch boundary and everything after it is zeroed.
 */
class SegmentRecoveryTest {
    private static final Path FILE = Path.of("00000000000000000100.log");
    private static final int SEGMENT = 64 * 1024;

    /** A segment image starting at offset 100: three batches of 3 records (offsets 100-108), then zeros. */
    private static ByteBuffer segment(ByteBuffer... tail) {
        ByteBuffer image = ByteBuffer.allocate(SEGMENT);
        image.put(concat(batch(100, 3), batch(103, 3), batch(106, 3)));
        for (ByteBuffer t : tail) {
            image.put(t.duplicate());
        }
        return image.clear();
    }

    private static int threeBatches() {
        return concat(batch(100, 3), batch(103, 3), batch(106, 3)).remaining();
    }

    @Test
    void wholeBatchesFollowedByZerosAreKeptAsTheyAre() {
        ByteBuffer image = segment();
        assertThat(SegmentRecovery.recover(image, SEGMENT, 100, FILE)).isEqualTo(threeBatches());
    }

    @Test
    void aBatchCutShortEndsThePrefixAndIsZeroed() {
        ByteBuffer next = batch(109, 3);
        ByteBuffer torn = next.duplicate().limit(next.remaining() - 7);
        ByteBuffer image = segment(torn);

        assertThat(SegmentRecovery.recover(image, SEGMENT, 100, FILE)).isEqualTo(threeBatches());
        assertZeroFrom(image, threeBatches());
    }

    @Test
    void aBatchThatGoesBackInTheOffsetsEndsThePrefix() {
        ByteBuffer image = segment(batch(108, 3), batch(111, 3)); // 108 is already in the batch at 106

        assertThat(SegmentRecovery.recover(image, SEGMENT, 100, FILE)).isEqualTo(threeBatches());
        assertZeroFrom(image, threeBatches());
    }

    @Test
    void aGapInTheOffsetsIsKeptAsInACompactedLog() {
        ByteBuffer image = segment(batch(110, 3)); // 109 is missing: the cleaner removed it, or the leader's did

        assertThat(SegmentRecovery.recover(image, SEGMENT, 100, FILE))
            .isEqualTo(threeBatches() + batch(110, 3).remaining());
    }

    @Test
    void aCorruptBatchEndsThePrefixEvenWhenValidBatchesFollowIt() {
        ByteBuffer bad = batch(109, 3);
        bad.put(bad.limit() - 3, (byte) (bad.get(bad.limit() - 3) ^ 0x40)); // a flipped bit in a record: CRC fails
        ByteBuffer image = segment(bad, batch(112, 3));

        assertThat(SegmentRecovery.recover(image, SEGMENT, 100, FILE)).isEqualTo(threeBatches());
        assertZeroFrom(image, threeBatches());
    }

    @Test
    void theFirstBatchMustNotStartBelowTheSegmentBaseOffset() {
        ByteBuffer image = segment();

        assertThat(SegmentRecovery.recover(image, SEGMENT, 101, FILE)).isZero();
        assertZeroFrom(image, 0);
    }

    @Test
    void anAllZeroSegmentIsEmpty() {
        assertThat(SegmentRecovery.recover(ByteBuffer.allocate(SEGMENT), SEGMENT, 100, FILE)).isZero();
    }

    @Test
    void garbageAfterARunOfZerosLongerThanTheScanBlockIsFoundAndZeroed() {
        // what a power cut can leave: pages of a pass's writes persisted, pages before them not (zeros)
        int size = 1 << 20;
        ByteBuffer image = ByteBuffer.allocateDirect(size);
        image.put(concat(batch(100, 3), batch(103, 3), batch(106, 3)));
        int garbageAt = threeBatches() + 300_000;
        image.put(garbageAt, (byte) 7).put(garbageAt + 1, (byte) 9);
        image.put(size - 1, (byte) 1); // the window's last byte

        assertThat(SegmentRecovery.recover(image.clear(), size, 100, FILE)).isEqualTo(threeBatches());
        assertThat(SegmentRecovery.endOfNonZero(image, threeBatches(), size)).isEqualTo(threeBatches());
    }

    @Test
    void theEndOfNonZeroBytesIsFoundInsideABlockAndAtBlockEdges() {
        ByteBuffer image = ByteBuffer.allocateDirect(300_000);
        assertThat(SegmentRecovery.endOfNonZero(image, 10, 300_000)).isEqualTo(10);
        image.put(10, (byte) 1);
        assertThat(SegmentRecovery.endOfNonZero(image, 10, 300_000)).isEqualTo(11);
        image.put(65_546, (byte) 1); // the first byte of the second block
        assertThat(SegmentRecovery.endOfNonZero(image, 10, 300_000)).isEqualTo(65_547);
        image.put(131_081, (byte) 1); // the last byte of the second block
        assertThat(SegmentRecovery.endOfNonZero(image, 10, 300_000)).isEqualTo(131_082);
        image.put(299_999, (byte) 1);
        assertThat(SegmentRecovery.endOfNonZero(image, 10, 300_000)).isEqualTo(300_000);
        assertThat(SegmentRecovery.endOfNonZero(image, 10, 200_000)).isEqualTo(131_082);
    }

    /** The same search through {@code pread} (how a segment file is searched, so no hole is faulted in). */
    @Test
    void theFileIsSearchedLikeItsImage(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("00000000000000000100.log");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            channel.truncate(0);
            channel.write(ByteBuffer.allocate(1), 299_999); // a sparse file of 300,000 bytes
            assertThat(SegmentRecovery.endOfNonZero(channel, 10, 300_000)).isEqualTo(10);
            for (int at : new int[] {10, 65_546, 131_081, 299_999}) {
                channel.write(ByteBuffer.wrap(new byte[] {1}), at);
                assertThat(SegmentRecovery.endOfNonZero(channel, 10, 300_000)).as("after a byte at %d", at)
                        .isEqualTo(at + 1);
            }
            assertThat(SegmentRecovery.endOfNonZero(channel, 10, 200_000)).isEqualTo(131_082);
            assertThat(SegmentRecovery.endOfNonZero(channel, 299_000, 310_000)).as("past the end: zeros")
                    .isEqualTo(300_000);

            // a segment of three batches, a torn fourth, garbage further on
            ByteBuffer torn = batch(109, 3);
            torn.limit(torn.limit() / 2);
            ByteBuffer image = segment(torn);
            image.put(40_000, (byte) 5);
            channel.truncate(0);
            channel.write(image.duplicate(), 0);
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, SEGMENT);
            assertThat(SegmentRecovery.recover(mapped, channel, SEGMENT, 100, file, SEGMENT))
                    .isEqualTo(threeBatches());
            assertZeroFrom(mapped, threeBatches());
        }
    }

    @Test
    void aSegmentOfZerosIsEmptyWithoutTouchingItsMap(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("00000000000000000100.log");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(1), SEGMENT - 1);
            // an unreadable map stands for one whose pages would be faulted in: the pread path must not read it
            ByteBuffer untouchable = ByteBuffer.allocate(0);
            assertThat(SegmentRecovery.recover(untouchable, channel, SEGMENT, 100, file, SEGMENT)).isZero();
        }
    }

    @Test
    void zeroingBackwardsClearsTheRangeAndNothingAroundIt() {
        ByteBuffer image = ByteBuffer.allocate(200_000);
        for (int i = 0; i < image.capacity(); i++) {
            image.put(i, (byte) 7);
        }
        SegmentRecovery.zeroBackwards(image, 1_000, 150_001);
        assertThat(image.get(999)).isEqualTo((byte) 7);
        assertThat(image.get(150_001)).isEqualTo((byte) 7);
        for (int i = 1_000; i < 150_001; i++) {
            assertThat(image.get(i)).isZero();
        }
    }

    private static void assertZeroFrom(ByteBuffer image, int from) {
        for (int i = from; i < SEGMENT; i++) {
            if (image.get(i) != 0) {
                throw new AssertionError("byte " + i + " after the valid prefix (" + from + ") is not zero");
            }
        }
    }
}
