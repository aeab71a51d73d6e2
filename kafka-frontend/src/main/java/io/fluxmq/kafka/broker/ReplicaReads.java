package io.fluxmq.kafka.broker;

import io.fluxmq.raft.partition.PartitionReplica;
import java.util.function.LongConsumer;
import org.apache.kafka.common.record.MemoryRecords;

/** {@link PartitionReads} over the node's Raft replica. Thread-safe as the replica is. */
record ReplicaReads(PartitionReplica replica) implements PartitionReads {
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
    public void addHighWatermarkListener(LongConsumer listener) {
        replica.addHighWatermarkListener(listener);
    }

    @Override
    public void removeHighWatermarkListener(LongConsumer listener) {
        replica.removeHighWatermarkListener(listener);
    }
}
