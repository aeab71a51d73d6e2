package io.fluxmq.kafka.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * Keeps one connection's responses in the order its requests arrived. Each request takes a slot when it is read;
 * a slot whose response is ready is written only when every earlier slot has been written (or dropped, for requests
 * that get no response). All methods run on the channel's event loop; completions from other threads hop onto it.
 */
final class ResponseOrderer {
    /** null response = the request expects none. */
    private static final class Slot {
        final CompletableFuture<ByteBuffer> response;

        Slot(CompletableFuture<ByteBuffer> response) {
            this.response = response;
        }
    }

    private final Channel channel;
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    private final int maxInFlight;

    ResponseOrderer(Channel channel, int maxInFlight) {
        this.channel = channel;
        this.maxInFlight = maxInFlight;
    }

    /** Adds a slot; the response future may complete on any thread, with null meaning "send nothing". */
    void enqueue(CompletableFuture<ByteBuffer> response) {
        slots.addLast(new Slot(response));
        if (slots.size() >= maxInFlight) {
            channel.config().setAutoRead(false);
        }
        response.whenComplete((r, e) -> {
            if (channel.eventLoop().inEventLoop()) {
                drain();
            } else {
                channel.eventLoop().execute(this::drain);
            }
        });
    }

    private void drain() {
        boolean wrote = false;
        while (!slots.isEmpty() && slots.peekFirst().response.isDone()) {
            Slot slot = slots.pollFirst();
            if (slot.response.isCompletedExceptionally()) {
                // earlier responses still go out, in order, before the connection closes
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                slots.clear();
                return;
            }
            ByteBuffer response = slot.response.join();
            if (response != null && channel.isActive()) {
                channel.write(Unpooled.wrappedBuffer(response), channel.voidPromise());
                wrote = true;
            }
        }
        if (wrote) {
            channel.flush();
        }
        if (slots.size() < maxInFlight && !channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
    }
}
