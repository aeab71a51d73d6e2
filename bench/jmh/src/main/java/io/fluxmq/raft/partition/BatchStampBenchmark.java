package io.fluxmq.raft.partition;

import io.fluxmq.raft.log.BenchBatches;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The leader's per-batch work before a batch goes to Raft ({@link PartitionReplica#append}): validation (one batch,
 * magic 2, CRC over the records), offset assignment and leader epoch stamped into the batch header, the entry header
 * built and encoded.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BatchStampBenchmark {
    @Param({"1024", "16384", "65536"})
    int batchBytes;

    private MemoryRecords records;
    private long nextOffset;

    @Setup
    public void batch() {
        records = BenchBatches.ofAbout(batchBytes);
    }

    @Benchmark
    public int validateAndStamp() {
        MutableRecordBatch batch = PartitionReplica.validate(records, 1 << 20);
        long lastOffset = nextOffset + (batch.lastOffset() - batch.baseOffset());
        batch.setLastOffset(lastOffset);
        batch.setPartitionLeaderEpoch(7);
        EntryHeader header = EntryHeader.of(batch, records.sizeInBytes(), 1_700_000_000_000L);
        nextOffset = header.nextOffset();
        return header.toBuffer().remaining();
    }
}
