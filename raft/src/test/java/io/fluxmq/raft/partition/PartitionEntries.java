package io.fluxmq.raft.partition;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.raftlog.LogProtoUtils;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * Builds partition Raft log entries the way {@link PartitionReplica#append} and Ratis do, so a
 * {@link PartitionStateMachine} can be driven directly: a client batch is stamped with its base offset and leader epoch,
 * submitted through {@link PartitionStateMachine#startTransaction} and numbered with a term and index.
 */
final class PartitionEntries {
    static final RaftGroupId GROUP = RaftGroupId.randomId();
    static final RaftPeerId LEADER = RaftPeerId.valueOf("n2");
    private static final ClientId CLIENT = ClientId.randomId();
    private static final AtomicLong CALL_IDS = new AtomicLong();

    private PartitionEntries() {
    }

    /** A client's batch of {@code count} records (base offset 0, no leader epoch); values read {@code tag-i}. */
    static MemoryRecords clientBatch(String tag, int count) {
        return MemoryRecords.withRecords(Compression.NONE, records(tag, count));
    }

    /** An idempotent producer's batch of {@code count} records starting at {@code baseSequence}. */
    static MemoryRecords idempotentBatch(String tag, int count, long producerId, short epoch, int baseSequence) {
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch, baseSequence,
                records(tag, count));
    }

    /** Stamps the base offset and partition leader epoch in place, as the leader does before proposing a batch. */
    static MemoryRecords stamp(MemoryRecords records, long baseOffset, long term) {
        MutableRecordBatch batch = records.batches().iterator().next();
        batch.setLastOffset(baseOffset + (batch.lastOffset() - batch.baseOffset()));
        batch.setPartitionLeaderEpoch((int) term);
        return records;
    }

    static EntryHeader header(MemoryRecords stamped) {
        return EntryHeader.of(stamped.batches().iterator().next(), stamped.sizeInBytes());
    }

    /** The Raft entry carrying a stamped batch: header as log data, the batch as state-machine data. */
    static LogEntryProto batchEntry(PartitionStateMachine sm, long term, long index, MemoryRecords stamped) {
        return propose(sm, term, index, PartitionStateMachine.concat(header(stamped).toBuffer(), stamped.buffer()));
    }

    /**
     * The Raft entry carrying several stamped batches, contiguous in offsets, as the leader coalesces them: their
     * headers ({@link EntryHeaders}) as log data, the batches back to back as state-machine data.
     */
    static LogEntryProto coalescedEntry(PartitionStateMachine sm, long term, long index, List<MemoryRecords> stamped) {
        List<EntryHeader> headers = new ArrayList<>();
        int bytes = 0;
        for (MemoryRecords batch : stamped) {
            headers.add(header(batch));
            bytes += batch.sizeInBytes();
        }
        ByteBuffer head = new EntryHeaders(headers).toBuffer();
        ByteBuffer all = ByteBuffer.allocate(head.remaining() + bytes).put(head);
        stamped.forEach(batch -> all.put(batch.buffer()));
        return propose(sm, term, index, UnsafeByteOperations.unsafeWrap(all.flip()));
    }

    /** The Raft entry moving the log start offset. */
    static LogEntryProto logStartEntry(PartitionStateMachine sm, long term, long index, long logStartOffset) {
        return propose(sm, term, index, UnsafeByteOperations.unsafeWrap(new LogStartEntry(logStartOffset).toBuffer()));
    }

    /** A committed entry as a follower's Ratis hands it to applyTransaction: state-machine data stripped. */
    static TransactionContext committed(PartitionStateMachine sm, LogEntryProto entry) {
        return TransactionContext.newBuilder()
                .setServerRole(RaftPeerRole.FOLLOWER)
                .setStateMachine(sm)
                .setLogEntry(LogProtoUtils.removeStateMachineData(entry))
                .build();
    }

    private static LogEntryProto propose(PartitionStateMachine sm, long term, long index, ByteString message) {
        RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(CLIENT)
                .setServerId(LEADER)
                .setGroupId(GROUP)
                .setCallId(CALL_IDS.incrementAndGet())
                .setMessage(Message.valueOf(message))
                .setType(RaftClientRequest.writeRequestType())
                .build();
        return sm.startTransaction(request).initLogEntry(term, index);
    }

    private static SimpleRecord[] records(String tag, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            byte[] value = (tag + "-" + i + "-" + "x".repeat(100)).getBytes(StandardCharsets.UTF_8);
            records[i] = new SimpleRecord(1_000L + i, null, value);
        }
        return records;
    }
}
