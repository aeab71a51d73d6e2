package io.fluxmq.raft.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.TopicPartition;

/**
 * Where a follower fetches what a leader purged from its Raft log: the leader's latest partition snapshot and the
 * record batches behind it. The node implements it over its HTTP endpoint.
 */
public interface SnapshotSource {
    /** The leader's latest snapshot: {@code term:int64 | index:int64 | snapshot file bytes}. */
    ByteBuffer snapshot(int leaderNodeId, TopicPartition tp) throws IOException;

    /** Committed batches of the leader's segment log from offset {@code from} (whole batches, possibly empty). */
    ByteBuffer records(int leaderNodeId, TopicPartition tp, long from, long to) throws IOException;

    /**
     * Batches read from one segment of the leader's log, and that segment's base offset (-1 when the source does not
     * say): a copy rolls where the leader's segments start, so every replica's segments hold the same batches and a
     * compacted log's active (never cleaned) segment holds the same records as the leader's.
     */
    record SegmentRecords(ByteBuffer batches, long segmentBase) {}

    /** As {@link #records}, with the base offset of the leader's segment they come from. */
    default SegmentRecords segmentRecords(int leaderNodeId, TopicPartition tp, long from, long to)
            throws IOException {
        return new SegmentRecords(records(leaderNodeId, tp, from, to), -1);
    }

    /** A source that has nothing: catch-up by snapshot fails with a clear error. */
    SnapshotSource NONE = new SnapshotSource() {
        @Override
        public ByteBuffer snapshot(int leaderNodeId, TopicPartition tp) throws IOException {
            throw new IOException("no snapshot source configured");
        }

        @Override
        public ByteBuffer records(int leaderNodeId, TopicPartition tp, long from, long to) throws IOException {
            throw new IOException("no snapshot source configured");
        }
    };
}
