package io.fluxmq.kafka.broker;

import io.fluxmq.raft.partition.TxnIndex;
import java.util.List;
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

    /** The last stable offset: where {@code read_committed} reads end; the high watermark without transactions. */
    default long lastStableOffset() {
        return highWatermark();
    }

    /** As {@link #read(long, int, boolean)}, but only batches below {@code upTo} (the last stable offset). */
    default MemoryRecords read(long offset, int maxBytes, boolean minOneBatch, long upTo) {
        return read(offset, maxBytes, minOneBatch);
    }

    /** Aborted transactions with their ABORT marker at or after {@code from} and their first offset before {@code to}. */
    default List<TxnIndex.AbortedTxn> abortedTransactions(long from, long to) {
        return List.of();
    }

    /** Listeners run whenever the high watermark advances, on a thread of the replica's; they must not block. */
    void addHighWatermarkListener(LongConsumer listener);

    void removeHighWatermarkListener(LongConsumer listener);
}
