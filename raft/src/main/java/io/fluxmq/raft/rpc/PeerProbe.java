package io.fluxmq.raft.rpc;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.thirdparty.io.netty.bootstrap.Bootstrap;
import org.apache.ratis.thirdparty.io.netty.channel.Channel;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelFuture;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelHandlerContext;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelInboundHandlerAdapter;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelOption;
import org.apache.ratis.thirdparty.io.netty.channel.ConnectTimeoutException;
import org.apache.ratis.thirdparty.io.netty.channel.EventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.socket.nio.NioSocketChannel;
import org.apache.ratis.thirdparty.io.netty.util.concurrent.ScheduledFuture;
import org.apache.ratis.util.NetUtils;

/**
 * Finds out whether a peer's process is gone by connecting to its Raft port: gone when the connection is refused (the
 * peer's host answers and nothing listens there). A connect that times out or fails otherwise says nothing (a frozen
 * peer, a cut network, an address that vanished with its container).
 *
 * <p>A process being killed closes its sockets one by one while it exits, and its listening socket can still complete
 * a connection for a moment after its connections to peers were closed: seen with {@code docker kill}, a probe
 * connected about 230 ms after the SIGKILL, 80 ms before the process had exited, and was reset right after. So an
 * accepted probe connection is held for {@code holdMs}; when the peer closes or resets it within that time (a live Raft
 * server keeps an idle connection open), or a connect fails other than by a refusal or a timeout (reset during the
 * handshake, no route), the probe connects again, {@code attempts} times in all at most. A refusal is the only answer
 * that says gone, whichever attempt gets it. Thread-safe.
 */
final class PeerProbe {
    /** How long an accepted probe connection is held to see whether the peer resets it (ms). */
    static final long HOLD_MS = 1000;
    /** Connects at most this often per probe (each after the previous connection was closed by the peer). */
    static final int ATTEMPTS = 3;

    private final EventLoopGroup group;
    private final int connectTimeoutMs;
    private final long holdMs;
    private final int attempts;

    PeerProbe(EventLoopGroup group, int connectTimeoutMs) {
        this(group, connectTimeoutMs, HOLD_MS, ATTEMPTS);
    }

    PeerProbe(EventLoopGroup group, int connectTimeoutMs, long holdMs, int attempts) {
        this.group = group;
        this.connectTimeoutMs = connectTimeoutMs;
        this.holdMs = holdMs;
        this.attempts = attempts;
    }

    /**
     * Completes with the attempt (1 for the first connect) at which {@code address} ({@code host:port}, resolved at
     * each attempt) refused a connection: the peer is gone. Completes with 0 when a connection stays open for the hold
     * time, the attempts are used up or a connect fails otherwise. Completes on an event loop thread of the group,
     * within about {@code attempts * (connect timeout + hold)}.
     */
    CompletableFuture<Integer> refusedAt(String address) {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        attempt(address, 1, result);
        return result;
    }

    private void attempt(String address, int attempt, CompletableFuture<Integer> result) {
        InetSocketAddress target;
        try {
            target = NetUtils.createSocketAddr(address);
        } catch (RuntimeException e) {
            result.complete(0);
            return;
        }
        try {
            connect(target, address, attempt, result);
        } catch (RuntimeException e) { // the group is shutting down
            result.complete(0);
        }
    }

    private void connect(InetSocketAddress target, String address, int attempt, CompletableFuture<Integer> result) {
        new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close(); // a reset: the close below decides
                    }
                })
                .connect(target)
                .addListener((ChannelFuture f) -> {
                    if (!f.isSuccess()) {
                        if (f.cause() instanceof ConnectTimeoutException) {
                            result.complete(0); // no answer: frozen, cut off or its address gone
                        } else if (f.cause() instanceof ConnectException) {
                            result.complete(attempt); // refused
                        } else {
                            // reset while connecting (the listener closed between the handshake and Netty's
                            // finishConnect), no route, no address: ask again while attempts are left
                            next(address, attempt, result);
                        }
                        return;
                    }
                    Channel channel = f.channel();
                    // both run on the channel's event loop, so exactly one of them decides
                    ScheduledFuture<?> hold = channel.eventLoop().schedule(() -> {
                        result.complete(0); // it kept the connection open: alive
                        channel.close();
                    }, holdMs, TimeUnit.MILLISECONDS);
                    channel.closeFuture().addListener(c -> {
                        hold.cancel(false);
                        if (!result.isDone()) { // closed by the peer within the hold
                            next(address, attempt, result);
                        }
                    });
                });
    }

    private void next(String address, int attempt, CompletableFuture<Integer> result) {
        if (attempt < attempts) {
            attempt(address, attempt + 1, result);
        } else {
            result.complete(0);
        }
    }
}
