package io.fluxmq.kafka.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * Keeps one connection's responses in the order its requests arrived. Each request takes a slot when it is read;
 * a slot whose response is ready is written only when every earlier slot has been written (or dropped, for requests
 * that get no response). All methods run on the channel's event loop; completions from other threads hop onto it.
 * Responses are reference-counted buffers (they may wrap mapped segment memory): each is written exactly once or
 * released, also when the connection closes before its turn.
 */
final class ResponseOrderer {
    private final Channel channel;
    /** A null response means the request expects none. */
    private final ArrayDeque<CompletableFuture<ByteBuf>> slots = new ArrayDeque<>();
    private final int maxInFlight;
    private final ReadGate gate;

    ResponseOrderer(Channel channel, int maxInFlight, ReadGate gate) {
        this.channel = channel;
        this.maxInFlight = maxInFlight;
        this.gate = gate;
    }

    /** Whether no request of this connection waits for its response. */
    boolean isEmpty() {
        return slots.isEmpty();
    }

    /**
     * Adds a slot; the response future may complete on any thread, with null meaning "send nothing". {@code done}
     * runs on the event loop once the response completed, before it is written.
     */
    void enqueue(CompletableFuture<ByteBuf> response, Runnable done) {
        slots.addLast(response);
        if (slots.size() >= maxInFlight) {
            gate.pause(ReadGate.IN_FLIGHT);
        }
        response.whenComplete((r, e) -> {
            if (channel.eventLoop().inEventLoop()) {
                done.run();
                drain();
            } else {
                channel.eventLoop().execute(() -> {
                    done.run();
                    drain();
                });
            }
        });
    }

    /** Drops every waiting slot (the connection closed); their responses are released as they complete. */
    void close() {
        while (!slots.isEmpty()) {
            slots.pollFirst().thenAccept(ReferenceCountUtil::release);
        }
    }

    private void drain() {
        boolean wrote = false;
        while (!slots.isEmpty() && slots.peekFirst().isDone()) {
            CompletableFuture<ByteBuf> slot = slots.pollFirst();
            if (slot.isCompletedExceptionally()) {
                // earlier responses still go out, in order, before the connection closes
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                close();
                return;
            }
            ByteBuf response = slot.join();
            if (response == null) {
                continue;
            }
            if (channel.isActive()) {
                channel.write(response, channel.voidPromise());
                wrote = true;
            } else {
                response.release();
            }
        }
        if (wrote) {
            channel.flush();
        }
        if (slots.size() < maxInFlight) {
            gate.resume(ReadGate.IN_FLIGHT);
        }
    }
}
