package io.fluxmq.raft.log;

/**
 * The per-topic settings of log compaction, with Kafka's names and meaning.
 *
 * @param deleteRetentionMs      how long a tombstone (a record with a key and a null value) stays readable after the
 *                               cleaner first saw it: the cleaner stamps the batch with a delete horizon of
 *                               now + this, and drops the tombstone in a clean after that (Kafka
 *                               {@code delete.retention.ms}, default one day)
 * @param minCleanableDirtyRatio the share of the cleanable log that must be dirty (written since the last clean)
 *                               before a clean starts (Kafka {@code min.cleanable.dirty.ratio}, default 0.5)
 * @param minCompactionLagMs     a segment whose newest record is younger than this is not cleaned (Kafka
 *                               {@code min.compaction.lag.ms}, default 0)
 */
public record CompactionPolicy(long deleteRetentionMs, double minCleanableDirtyRatio, long minCompactionLagMs) {

    public CompactionPolicy {
        if (deleteRetentionMs < 0 || minCompactionLagMs < 0 || minCleanableDirtyRatio < 0
            || minCleanableDirtyRatio > 1) {
            throw new IllegalArgumentException("invalid compaction policy: delete.retention.ms=" + deleteRetentionMs
                + ", min.cleanable.dirty.ratio=" + minCleanableDirtyRatio + ", min.compaction.lag.ms="
                + minCompactionLagMs);
        }
    }

    /** Kafka's defaults: one day, 0.5, 0. */
    public static CompactionPolicy defaults() {
        return new CompactionPolicy(86_400_000L, 0.5, 0);
    }
}
