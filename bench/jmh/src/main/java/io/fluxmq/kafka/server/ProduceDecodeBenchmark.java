package io.fluxmq.kafka.server;

import io.fluxmq.kafka.api.ApiHandler;
import io.fluxmq.kafka.api.ApiRegistry;
import io.fluxmq.raft.log.BenchBatches;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestHeader;
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
 * {@link RequestDecoder#decode} of a Produce request frame as a Java producer sends it (v11, one topic, six
 * partitions, one batch each): header and body parsed, the record batches left as views of the frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ProduceDecodeBenchmark {
    private static final short VERSION = 11;

    @Param({"1024", "16384"})
    int batchBytes;

    private RequestDecoder decoder;
    private ByteBuffer frame;

    @Setup
    public void frame() {
        decoder = new RequestDecoder(new ApiRegistry(List.of(new ProduceStub())));
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("bench");
        for (int p = 0; p < 6; p++) {
            topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(p)
                    .setRecords(BenchBatches.ofAbout(batchBytes)));
        }
        ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000);
        data.topicData().add(topic);
        frame = ProduceRequest.builder(data).build(VERSION)
                .serializeWithHeader(new RequestHeader(ApiKeys.PRODUCE, VERSION, "bench-producer", 42));
        if (!(decoder.decode(frame.duplicate()) instanceof RequestDecoder.Decoded.Request)) {
            throw new IllegalStateException("the benchmark's frame does not decode");
        }
    }

    @Benchmark
    public Object decode() {
        return decoder.decode(frame.duplicate());
    }

    /** Declares Produce v3-v12 so the decoder accepts the frame; never called. */
    private static final class ProduceStub implements ApiHandler<ProduceRequestData> {
        @Override
        public ApiKeys apiKey() {
            return ApiKeys.PRODUCE;
        }

        @Override
        public short minVersion() {
            return 3;
        }

        @Override
        public short maxVersion() {
            return 12;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext context, ProduceRequestData request) {
            throw new UnsupportedOperationException("decode only");
        }
    }
}
