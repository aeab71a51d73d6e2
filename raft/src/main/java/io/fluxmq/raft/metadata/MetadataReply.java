package io.fluxmq.raft.metadata;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The outcome of an applied metadata command: success with an optional long value (the first producer id of a
 * block), or a Kafka error code with a message. Encoding: {@code errorCode:int16 | value:int64 | message UTF-8}.
 */
public record MetadataReply(short errorCode, long value, String message) {
    public static MetadataReply ok(long value) {
        return new MetadataReply((short) 0, value, "");
    }

    public static MetadataReply error(short errorCode, String message) {
        return new MetadataReply(errorCode, -1, message);
    }

    public boolean isOk() {
        return errorCode == 0;
    }

    public byte[] encode() {
        byte[] msg = message.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(10 + msg.length).putShort(errorCode).putLong(value).put(msg).array();
    }

    public static MetadataReply decode(ByteBuffer buffer) {
        short code = buffer.getShort();
        long value = buffer.getLong();
        byte[] msg = new byte[buffer.remaining()];
        buffer.get(msg);
        return new MetadataReply(code, value, new String(msg, StandardCharsets.UTF_8));
    }
}
