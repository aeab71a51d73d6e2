package io.fluxmq.kafka.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;

/**
 * The Netty form of a response frame: byte for byte the heap form, direct (so the socket write copies nothing into
 * the JVM), and large record sets referenced where they lie rather than copied.
 */
class ResponseEncoderTest {
    private static final short V = 17;

    /** One batch of {@code count} 100-byte records in a direct buffer, as a mapped segment would hold it. */
    private static ByteBuffer directBatch(int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(new byte[100]);
        }
        ByteBuffer heap = MemoryRecords.withRecords(0L, Compression.NONE, records).buffer();
        ByteBuffer direct = ByteBuffer.allocateDirect(heap.remaining());
        direct.put(heap).flip();
        return direct;
    }

    private static FetchResponseData response(ByteBuffer... batches) {
        FetchResponseData.FetchableTopicResponse topic = new FetchResponseData.FetchableTopicResponse()
                .setTopicId(Uuid.randomUuid());
        for (int p = 0; p < batches.length; p++) {
            topic.partitions().add(new FetchResponseData.PartitionData().setPartitionIndex(p).setHighWatermark(10)
                    .setRecords(MemoryRecords.readableRecords(batches[p].asReadOnlyBuffer())));
        }
        return new FetchResponseData().setSessionId(5).setResponses(List.of(topic));
    }

    private static byte[] bytes(ByteBuf buf) {
        byte[] out = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), out);
        return out;
    }

    @Test
    void largeRecordSetsAreReferencedNotCopiedAndTheFrameMatchesTheHeapEncoding() {
        ByteBuffer large = directBatch(50);
        ByteBuffer small = directBatch(2);
        assertThat(large.remaining()).isGreaterThanOrEqualTo(ByteBufWritable.ZERO_COPY_MIN_BYTES);
        assertThat(small.remaining()).isLessThan(ByteBufWritable.ZERO_COPY_MIN_BYTES);
        FetchResponseData body = response(large, small);

        ByteBuf frame = ResponseEncoder.encode(ApiKeys.FETCH, V, 42, body, PooledByteBufAllocator.DEFAULT);
        try {
            ByteBuffer heap = ResponseEncoder.encode(ApiKeys.FETCH, V, 42, body);
            byte[] expected = new byte[heap.remaining()];
            heap.get(expected);
            assertThat(bytes(frame)).isEqualTo(expected);
            assertThat(frame.isDirect()).isTrue();

            // change the last byte of each source: the large set shows the change (a view), the small one does not
            int before = frame.readableBytes();
            large.put(large.limit() - 1, (byte) 7);
            small.put(small.limit() - 1, (byte) 7);
            byte[] after = bytes(frame);
            assertThat(after).hasSize(before);
            int changed = 0;
            for (int i = 0; i < after.length; i++) {
                changed += after[i] != expected[i] ? 1 : 0;
            }
            assertThat(changed).isEqualTo(1);
        } finally {
            assertThat(frame.release()).isTrue();
        }
    }

    @Test
    void responsesWithoutRecordsAreOneDirectBuffer() {
        ByteBuf frame = ResponseEncoder.encode(ApiKeys.FETCH, V, 1, new FetchResponseData().setSessionId(3),
                PooledByteBufAllocator.DEFAULT);
        try {
            assertThat(frame.isDirect()).isTrue();
            assertThat(frame).isNotInstanceOf(CompositeByteBuf.class);
            assertThat(frame.getInt(0)).isEqualTo(frame.readableBytes() - 4);
        } finally {
            frame.release();
        }
    }
}
