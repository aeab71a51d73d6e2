package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.engine.GroupMessage;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Frames on a transport connection: {@code length:int32 type:byte body}, the length counting the type and the body.
 * A connection starts with {@link #HELLO} from the dialer, answered by {@link #WELCOME} or {@link #REFUSE}; then only
 * the dialer writes, {@link #BATCH} frames ({@link GroupMessageCodec}). One connection per ordered node pair carries
 * one direction of traffic (see {@link NettyTransport}).
 */
final class Frames {

    static final byte HELLO = 1;
    static final byte WELCOME = 2;
    static final byte REFUSE = 3;
    static final byte BATCH = 4;
    /** Type byte and the longest message count. */
    private static final int BATCH_OVERHEAD = 1 + Varints.MAX_BYTES;
    private static final int MAX_REASON_BYTES = 1000;

    private Frames() {
    }

    /** The decoder that cuts frames and refuses (closing the connection) one larger than {@code maxFrameBytes}. */
    static LengthFieldBasedFrameDecoder decoder(int maxFrameBytes) {
        return new LengthFieldBasedFrameDecoder(maxFrameBytes + 4, 0, 4, 0, 4, true);
    }

    static void writeHello(ByteBuf out, byte type, Hello hello) {
        int start = begin(out, type);
        hello.writeTo(out);
        end(out, start);
    }

    static void writeRefuse(ByteBuf out, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        int start = begin(out, REFUSE);
        out.writeBytes(text, 0, Math.min(text.length, MAX_REASON_BYTES));
        end(out, start);
    }

    static String readRefuse(ByteBuf body) {
        return body.readCharSequence(body.readableBytes(), StandardCharsets.UTF_8).toString();
    }

    /**
     * Writes the batch as one frame, or as several (in order) when it would not fit in {@code maxFrameBytes}: the
     * receiver takes any consecutive part of a batch as a batch. An empty batch is one frame (the node heartbeat).
     * A single message too large for a frame is left out.
     *
     * @return the messages left out
     */
    static int writeBatch(ByteBuf out, List<GroupMessage> batch, int maxFrameBytes) {
        int dropped = 0;
        int from = 0;
        do {
            long bound = BATCH_OVERHEAD;
            int to = from;
            while (to < batch.size()) {
                int size = GroupMessageCodec.sizeBound(batch.get(to));
                if (to > from && bound + size > maxFrameBytes) {
                    break;
                }
                bound += size;
                to++;
            }
            if (bound > maxFrameBytes) {
                dropped++;
            } else {
                int start = begin(out, BATCH);
                GroupMessageCodec.encode(batch, from, to, out);
                end(out, start);
            }
            from = to;
        } while (from < batch.size());
        return dropped;
    }

    private static int begin(ByteBuf out, byte type) {
        int start = out.writerIndex();
        out.writeInt(0);
        out.writeByte(type);
        return start;
    }

    private static void end(ByteBuf out, int start) {
        out.setInt(start, out.writerIndex() - start - 4);
    }
}
