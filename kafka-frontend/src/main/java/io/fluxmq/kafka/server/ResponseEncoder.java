package io.fluxmq.kafka.server;

import java.nio.ByteBuffer;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageSizeAccumulator;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

/** Encodes a response as a size-prefixed frame: {@code length:int32 | response header | body}. Stateless. */
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
}
