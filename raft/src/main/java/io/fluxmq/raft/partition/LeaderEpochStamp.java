package io.fluxmq.raft.partition;

import org.apache.kafka.common.record.Records;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Keeps a batch's partition leader epoch equal to the term of the Raft entry that carries it. The leader stamps the
 * epoch with the term it read before submitting the entry; if the node lost and regained leadership since, Ratis would
 * append the entry in a later term. Ratis calls {@code preAppendTransaction} under its server lock right before it
 * builds the entry with its current term (RaftServerImpl.appendTransaction → ServerState.appendLog →
 * RaftLogBase.append), and terms only grow, so a batch whose epoch equals the term read there gets exactly that term.
 * Stateless.
 */
final class LeaderEpochStamp {
    /** Where a record batch holds its partitionLeaderEpoch:int32 (after baseOffset:int64 and batchLength:int32). */
    private static final int OFFSET = Records.LOG_OVERHEAD;

    private LeaderEpochStamp() {
    }

    /**
     * Throws when {@code batch} is stamped with another epoch than {@code term}: a StateMachineException (the leader
     * does not step down) whose cause is a {@link PartitionError#NOT_LEADER} PartitionException, which the producer
     * retries and the leader then re-stamps with its new term.
     */
    static void check(ByteString batch, long term) throws StateMachineException {
        check(batch, 0, term);
    }

    /** {@link #check(ByteString, long)} for the batch starting at byte {@code at} of {@code batches}. */
    static void check(ByteString batches, int at, long term) throws StateMachineException {
        int p = at + OFFSET;
        int epoch = (batches.byteAt(p) & 0xff) << 24 | (batches.byteAt(p + 1) & 0xff) << 16
                | (batches.byteAt(p + 2) & 0xff) << 8 | batches.byteAt(p + 3) & 0xff;
        if (epoch != term) {
            throw new StateMachineException("batch stamped with leader epoch " + epoch + " would be appended in term "
                    + term, new PartitionException(PartitionError.NOT_LEADER, "leadership changed from term " + epoch
                    + " to " + term + " while the batch was submitted"), false);
        }
    }
}
