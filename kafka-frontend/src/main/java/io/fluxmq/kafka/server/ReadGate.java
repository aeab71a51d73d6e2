package io.fluxmq.kafka.server;

import io.netty.channel.Channel;

/**
 * Whether one connection reads from its socket: it does unless at least one reason to pause holds: too many of its
 * requests in flight ({@link #IN_FLIGHT}, see {@link ResponseOrderer}) or the node's request memory used up
 * ({@link #MEMORY}, see {@link RequestMemory}), or the connection waiting for a slot under {@code max.connections}
 * ({@link #ADMISSION}, see {@link ConnectionLimiter}), or the client being throttled for exceeding a quota
 * ({@link #THROTTLE}, see {@link ConnectionHandler}). Confined to the channel's event loop.
 */
final class ReadGate {
    static final int IN_FLIGHT = 1;
    static final int MEMORY = 2;
    static final int ADMISSION = 4;
    static final int THROTTLE = 8;

    private final Channel channel;
    private int reasons;

    ReadGate(Channel channel) {
        this.channel = channel;
    }

    void pause(int reason) {
        reasons |= reason;
        if (channel.config().isAutoRead()) {
            channel.config().setAutoRead(false);
        }
    }

    void resume(int reason) {
        reasons &= ~reason;
        if (reasons == 0 && !channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
    }

    boolean paused(int reason) {
        return (reasons & reason) != 0;
    }
}
