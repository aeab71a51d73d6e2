package io.fluxmq.kafka.broker;

import io.fluxmq.raft.partition.Partition;
import io.fluxmq.raft.partition.TxnIndex;
import java.util.List;
import java.util.function.LongConsumer;
import org.apache.kafka.common.record.MemoryRecords;

/** {@link PartitionReads} over the node's Raft replica. Thread-safe as the replica is. */
record ReplicaReads(Partition replica) implements PartitionReads {
    @Override
    public boolean isLeader() {
        return replica.isLeader();
    }

    @Override
    public int leaderEpoch() {
        return replica.leaderEpoch();
    }

    @Override
    public long highWatermark() {
        return replica.highWatermark();
    }

    @Override
    public long logStartOffset() {
        return replica.logStartOffset();
    }

    @Override
    public MemoryRecords read(long offset, int maxBytes, boolean minOneBatch) {
        return replica.read(offset, maxBytes, minOneBatch);
    }

    @Override
    public long lastStableOffset() {
        return replica.lastStableOffset();
    }

    @Override
    public MemoryRecords read(long offset, int maxBytes, boolean minOneBatch, long upTo) {
        return replica.read(offset, maxBytes, minOneBatch, upTo);
    }

    @Override
    public List<TxnIndex.AbortedTxn> abortedTransactions(long from, long to) {
        return replica.abortedTransactions(from, to);
    }

    @Override
    public void addHighWatermarkListener(LongConsumer listener) {
        replica.addHighWatermarkListener(listener);
    }

    @Override
    public void removeHighWatermarkListener(LongConsumer listener) {
        replica.removeHighWatermarkListener(listener);
    }
}
