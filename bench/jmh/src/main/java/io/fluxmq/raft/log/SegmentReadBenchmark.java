package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
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
 * {@link SegmentLog#read} at a random offset, as a fetch does: the segment found by base offset, the sparse offset
 * index looked up, the batches from there scanned to the wanted offset, a read-only view of up to {@code maxBytes}
 * returned (no copy). Over 50,000 batches of about 1 KiB in 16 MiB segments (an index entry per 4 KiB).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SegmentReadBenchmark {
    private static final int BATCHES = 50_000;

    @Param({"1048576", "65536"})
    int maxBytes;

    private Path dir;
    private SegmentLog log;
    private long end;
    private final SplittableRandom random = new SplittableRandom(7);

    @Setup(Level.Trial)
    public void fill() throws IOException {
        dir = Files.createTempDirectory("fluxmq-jmh-read");
        log = SegmentLog.open(dir, new SegmentLogConfig(16 << 20, Long.MAX_VALUE, 4096, 10 << 20),
                System::currentTimeMillis);
        MemoryRecords batch = BenchBatches.ofAbout(1024);
        MutableRecordBatch header = batch.batches().iterator().next();
        for (int i = 0; i < BATCHES; i++) {
            header.setLastOffset(log.logEndOffset() + (header.lastOffset() - header.baseOffset()));
            log.append(batch.buffer(), false);
        }
        end = log.logEndOffset();
    }

    @Benchmark
    public int read() {
        return log.read(random.nextLong(end), maxBytes, end, true).sizeInBytes();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        log.close();
        BenchBatches.deleteTree(dir);
    }
}
