package io.fluxmq.raft.log;

/**
 * Configuration of one {@link SegmentLog}. Values are validated when the record is constructed; a bad value raises
 * {@link IllegalArgumentException} naming the field.
 *
 * @param segmentBytes       maximum size of one {@code .log} file; the active segment is pre-sized to this
 *                           (Kafka {@code segment.bytes}, default 1 GiB, at least 1024)
 * @param segmentMs          roll the active segment once this long has passed since its first append
 *                           (Kafka {@code segment.ms}, default 7 days, at least 1)
 * @param indexIntervalBytes log bytes between two sparse index entries (Kafka {@code index.interval.bytes},
 *                           default 4096, 0 indexes every batch)
 * @param maxIndexBytes      pre-allocated size of each index file; a full index rolls the segment
 *                           (Kafka {@code segment.index.bytes}, default 10 MiB, at least one 12-byte entry)
 */
public record SegmentLogConfig(int segmentBytes, long segmentMs, int indexIntervalBytes, int maxIndexBytes) {

    /** Smallest accepted {@link #segmentBytes()}. */
    public static final int MIN_SEGMENT_BYTES = 1024;
    /** Smallest accepted {@link #maxIndexBytes()}: room for one time-index entry. */
    public static final int MIN_INDEX_BYTES = TimeIndex.ENTRY_SIZE;

    public SegmentLogConfig {
        require(segmentBytes >= MIN_SEGMENT_BYTES, "segmentBytes", segmentBytes, ">= " + MIN_SEGMENT_BYTES);
        require(segmentMs >= 1, "segmentMs", segmentMs, ">= 1");
        require(indexIntervalBytes >= 0, "indexIntervalBytes", indexIntervalBytes, ">= 0");
        require(maxIndexBytes >= MIN_INDEX_BYTES, "maxIndexBytes", maxIndexBytes, ">= " + MIN_INDEX_BYTES);
    }

    /** Kafka's broker defaults: 1 GiB segments, 7 days, an index entry per 4 KiB, 10 MiB indexes. */
    public static SegmentLogConfig defaults() {
        return new SegmentLogConfig(1024 * 1024 * 1024, 7L * 24 * 60 * 60 * 1000, 4096, 10 * 1024 * 1024);
    }

    private static void require(boolean ok, String field, long value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(field + " must be " + rule + " but was " + value);
        }
    }
}
