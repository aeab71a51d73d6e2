package io.fluxmq.kafka.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageSizeAccumulator;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

/**
 * Encodes a response as a size-prefixed frame: {@code length:int32 | response header | body}. Stateless. The Netty
 * form leaves large record sets (Fetch) where they are, see {@link ByteBufWritable}.
 */
public final class ResponseEncoder {
    private ResponseEncoder() {
    }

    public static ByteBuffer encode(ApiKeys apiKey, short version, int correlationId, ApiMessage body) {
        short headerVersion = apiKey.responseHeaderVersion(version);
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        MessageSizeAccumulator size = new MessageSizeAccumulator();
        header.addSize(size, cache, headerVersion);
        body.addSize(size, cache, version);
        ByteBuffer buffer = ByteBuffer.allocate(4 + size.totalSize());
        buffer.putInt(size.totalSize());
        ByteBufferAccessor out = new ByteBufferAccessor(buffer);
        header.write(out, cache, headerVersion);
        body.write(out, cache, version);
        return buffer.flip();
    }

    /** The frame as a Netty buffer that references large record sets instead of copying them; caller owns it. */
    public static ByteBuf encode(ApiKeys apiKey, short version, int correlationId, ApiMessage body,
                                 ByteBufAllocator alloc) {
        short headerVersion = apiKey.responseHeaderVersion(version);
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        MessageSizeAccumulator size = new MessageSizeAccumulator();
        header.addSize(size, cache, headerVersion);
        body.addSize(size, cache, version);
        ByteBufWritable out = new ByteBufWritable(alloc, 4 + size.sizeExcludingZeroCopy());
        try {
            out.writeInt(size.totalSize());
            header.write(out, cache, headerVersion);
            body.write(out, cache, version);
        } catch (RuntimeException e) {
            out.discard();
            throw e;
        }
        return out.finish();
    }
}
