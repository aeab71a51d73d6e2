package io.fluxmq.raft.partition;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How many batches a replica committed as leader and their summed time from proposal to commit, since the replica
 * opened here: cumulative, so a metrics scraper derives the mean over any window from two readings (a per-partition
 * timer's count and sum). Thread-safe; a reading taken during a record may see the count before the time.
 */
public final class CommitLatencies {
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong totalNanos = new AtomicLong();

    /** One committed batch that took {@code nanos} from proposal to commit. */
    public void record(long nanos) {
        count.incrementAndGet();
        totalNanos.addAndGet(nanos);
    }

    public long count() {
        return count.get();
    }

    public long totalNanos() {
        return totalNanos.get();
    }
}
