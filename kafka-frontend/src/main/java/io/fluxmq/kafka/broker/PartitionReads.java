package io.fluxmq.kafka.broker;

import java.util.function.LongConsumer;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * What Fetch needs from this node's replica of a partition (see {@link BrokerServices#partitionReads}); the node's
 * Raft replica is adapted to it, tests supply their own. Implementations are thread-safe.
 */
public interface PartitionReads {
    boolean isLeader();

    int leaderEpoch();

    long highWatermark();

    long logStartOffset();

    /**
     * Committed batches from {@code offset}, at most {@code maxBytes} unless {@code minOneBatch} lets the first batch
     * exceed it; a read-only view of the log, not a copy. Throws a {@code PartitionException} (offset out of range).
     */
    MemoryRecords read(long offset, int maxBytes, boolean minOneBatch);

    /** Listeners run whenever the high watermark advances, on a thread of the replica's; they must not block. */
    void addHighWatermarkListener(LongConsumer listener);

    void removeHighWatermarkListener(LongConsumer listener);
}
