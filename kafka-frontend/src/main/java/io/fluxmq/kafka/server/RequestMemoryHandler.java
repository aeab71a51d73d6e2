package io.fluxmq.kafka.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * First handler after the socket: counts every byte a connection reads against the node's {@link RequestMemory} and
 * pauses the connection's reading (through its {@link ReadGate}) while the node is over its bound. The
 * {@link ConnectionHandler} gives a request's bytes back when the request is answered; closing the connection gives
 * back everything it still holds. Confined to the channel's event loop.
 */
final class RequestMemoryHandler extends ChannelInboundHandlerAdapter {
    private final RequestMemory memory;
    private final ReadGate gate;
    private long held;
    private boolean closed;

    RequestMemoryHandler(RequestMemory memory, ReadGate gate) {
        this.memory = memory;
        this.gate = gate;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf && !closed) {
            int bytes = buf.readableBytes();
            held += bytes;
            if (!memory.take(bytes) && !gate.paused(ReadGate.MEMORY)) {
                gate.pause(ReadGate.MEMORY);
                memory.await(() -> ctx.channel().eventLoop().execute(() -> gate.resume(ReadGate.MEMORY)));
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** A request of {@code bytes} (with its size prefix) was answered or dropped. */
    void release(long bytes) {
        if (!closed) {
            long given = Math.min(bytes, held);
            held -= given;
            memory.release(given);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closed = true;
        memory.release(held);
        held = 0;
        super.channelInactive(ctx);
    }
}
