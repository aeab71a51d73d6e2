package io.fluxmq.raft.partition;

import io.fluxmq.raft.log.CleanResult;
import io.fluxmq.raft.log.CompactionPolicy;
import io.fluxmq.raft.log.LogCleaner;
import io.fluxmq.raft.log.TimestampAndOffset;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * This node's replica of one partition, as the Kafka frontend uses it: produce, fetch, offsets, transaction markers
 * and the log start. Two implementations: {@link PartitionReplica} (a Ratis group) and
 * {@code io.fluxmq.raft.engine.EnginePartition} (a group of FluxMQ's own multi-Raft, docs/adr/0003). Thread-safe;
 * futures may complete on any thread and listeners run on the replication layer's threads, so neither may block.
 */
public interface Partition {

    TopicPartition topicPartition();

    /**
     * Appends one record batch (magic v2). Completes with the assigned base offset once the batch is committed, or
     * exceptionally with a {@link PartitionException}.
     */
    CompletableFuture<AppendResult> append(MemoryRecords records);

    /**
     * Writes a transaction marker (Kafka's EndTransactionMarker control batch) for producer {@code producerId} at
     * {@code producerEpoch}: COMMIT when {@code commit}, else ABORT. Completes once committed; a marker with an epoch
     * older than the producer's fails with INVALID_PRODUCER_EPOCH, a newer one fences the producer's older epochs.
     */
    CompletableFuture<AppendResult> appendMarker(long producerId, short producerEpoch, boolean commit,
                                                 int coordinatorEpoch);

    /**
     * Reads committed batches from {@code offset}: up to {@code maxBytes}, at least one batch if {@code minOneBatch}.
     * Throws {@link PartitionException} with {@link PartitionError#OFFSET_OUT_OF_RANGE} outside [logStart, hw].
     */
    MemoryRecords read(long offset, int maxBytes, boolean minOneBatch);

    /**
     * Reads as {@link #read(long, int, boolean)} but only batches below {@code upTo} (at most the high watermark): the
     * last stable offset for {@code read_committed}. An offset between {@code upTo} and the high watermark reads nothing.
     */
    MemoryRecords read(long offset, int maxBytes, boolean minOneBatch, long upTo);

    /** The last stable offset: the high watermark unless a transaction is open on this partition. */
    long lastStableOffset();

    /** Aborted transactions with their marker at or after {@code from} and their first offset before {@code to}. */
    List<TxnIndex.AbortedTxn> abortedTransactions(long from, long to);

    /**
     * The producers of the committed entries, in producer id order, as Kafka's DescribeProducers reports a partition
     * leader's producer state: epoch, last sequence, last timestamp and the first offset of an open transaction.
     */
    List<ProducerState> activeProducers();

    /** (epoch, end offset) as OffsetForLeaderEpoch answers it; (-1, -1) when unknown. */
    long[] endOffsetForEpoch(int epoch);

    /**
     * On the leader: where retention moves the log start (whole committed segments past {@code retentionMs} or beyond
     * {@code retentionBytes}), replicated so every replica deletes the same data. Completes with the new log start, or
     * the current one when nothing expired or this replica does not lead.
     */
    CompletableFuture<Long> enforceRetention(long retentionMs, long retentionBytes);

    /** Moves the log start offset of every replica to {@code offset} (at most the high watermark); completes once done here. */
    CompletableFuture<Long> advanceLogStart(long offset);

    long highWatermark();

    long logStartOffset();

    Optional<TimestampAndOffset> offsetForTimestamp(long timestamp);

    Optional<TimestampAndOffset> maxTimestamp();

    /** True when this node leads the partition and has committed an entry of its term (it may serve produce and fetch). */
    boolean isLeader();

    /** The Kafka leader epoch: the current Raft term. */
    int leaderEpoch();

    /** Listeners run on a replication thread whenever the high watermark advances; they must not block. */
    void addHighWatermarkListener(LongConsumer listener);

    void removeHighWatermarkListener(LongConsumer listener);

    /** Bytes in this replica's segment files (metrics). */
    long logSizeBytes();

    /** Segments in this replica's log (metrics). */
    int logSegmentCount();

    /** The batches this replica committed as leader and their time from proposal to commit (metrics). */
    CommitLatencies commitLatencies();

    /**
     * Runs one pass of the log cleaner over this replica's own segments (every replica cleans its own copy, as Kafka's
     * brokers do), below the offset this engine allows; see {@link LogCleaner}.
     *
     * @throws UnsupportedOperationException when the engine cannot compact
     */
    default CleanResult compact(LogCleaner cleaner, CompactionPolicy policy) throws IOException, InterruptedException {
        throw new UnsupportedOperationException("log compaction is not supported by this partition engine");
    }
}
