package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link SegmentLog#append}: one stamped batch copied into the memory-mapped active segment, its index entries
 * written. With {@code verifyCrc} as a follower appends (CRC checked), without as the leader does (it checked the CRC
 * when the batch arrived). No flush: fsync cost is the device's, measured by the side-by-side bench. The log starts
 * anew every 64 MiB so the disk use stays bounded; that reset is inside the measurement, amortized over the appends.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SegmentAppendBenchmark {
    private static final long RESET_BYTES = 64L << 20;

    @Param({"1024", "16384"})
    int batchBytes;

    @Param({"false", "true"})
    boolean verifyCrc;

    private Path dir;
    private SegmentLog log;
    private MemoryRecords batch;
    private MutableRecordBatch header;
    private long appendedBytes;

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = Files.createTempDirectory("fluxmq-jmh-append");
        log = SegmentLog.open(dir, new SegmentLogConfig(128 << 20, Long.MAX_VALUE, 4096, 10 << 20),
                System::currentTimeMillis);
        batch = BenchBatches.ofAbout(batchBytes);
        header = batch.batches().iterator().next();
    }

    @Benchmark
    public long append() throws IOException {
        if (appendedBytes >= RESET_BYTES) {
            log.resetTo(log.logEndOffset() + 1); // a log start past the end: every segment deleted
            appendedBytes = 0;
        }
        long base = log.logEndOffset();
        header.setLastOffset(base + (header.lastOffset() - header.baseOffset()));
        log.append(batch.buffer(), verifyCrc);
        appendedBytes += batch.sizeInBytes();
        return base;
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        log.close();
        BenchBatches.deleteTree(dir);
    }
}
