package io.fluxmq.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.compress.Compression;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** A batch is appended only in the term its partition leader epoch was stamped with. */
class LeaderEpochStampTest {
    /** The state-machine data exactly as startTransaction cuts it from a submitted message (header + batch). */
    private static ByteString submittedBatch(int stampedEpoch) {
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(1L, "v".getBytes()));
        MutableRecordBatch batch = records.batches().iterator().next();
        batch.setLastOffset(41);
        batch.setPartitionLeaderEpoch(stampedEpoch);
        EntryHeader header = EntryHeader.of(batch, records.sizeInBytes(), 1L);
        ByteString message = PartitionStateMachine.concat(header.toBuffer(), records.buffer());
        return message.substring(EntryHeader.SIZE);
    }

    @Test
    void acceptsABatchStampedWithTheTermItIsAppendedIn() throws Exception {
        LeaderEpochStamp.check(submittedBatch(5), 5);
        LeaderEpochStamp.check(submittedBatch(70_000), 70_000);
    }

    @Test
    void refusesABatchStampedInAnEarlierTermAsRetriableNotLeader() {
        assertThatThrownBy(() -> LeaderEpochStamp.check(submittedBatch(5), 7))
                .isInstanceOfSatisfying(StateMachineException.class, e -> {
                    assertThat(e.leaderShouldStepDown()).as("the leader stays leader of the new term").isFalse();
                    assertThat(PartitionReplica.translate(new CompletionException(e)).error())
                            .isEqualTo(PartitionError.NOT_LEADER);
                });
    }

    @Test
    void readsTheEpochFieldNotSomeOtherBytes() {
        ByteString batch = submittedBatch(0x01020304);
        ByteBuffer bytes = batch.asReadOnlyByteBuffer();
        assertThat(bytes.getInt(bytes.position() + 12)).isEqualTo(0x01020304);
        assertThatThrownBy(() -> LeaderEpochStamp.check(batch, 0x01020305))
                .hasMessageContaining("leader epoch 16909060 would be appended in term 16909061");
    }
}
