package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.engine.GroupMessage;
import io.fluxmq.raft.tls.PeerTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.handler.ssl.SslHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's connection to one peer, which carries this node's batches to it (the peer's batches come on the
 * connection it dialed, {@link InboundHandler}). It keeps itself connected from the first send until the transport
 * closes: connect, handshake, then write; on a lost or refused connection it waits a backoff and dials again.
 *
 * <p>{@link #send} may be called from any thread and never blocks: it encodes the batch at once, on the caller's
 * thread, and puts the bytes on a bounded queue; one task on the link's Netty event loop writes all that are queued
 * and flushes once ({@link #drain}). Encoding in {@code send} matters: entries of a segment log are views of its
 * mapped file, valid only until the log is truncated, which the engine's loop may do right after this call; bytes
 * copied in the same loop pass that read the entries are the entries' bytes. Batches sent while the link is in
 * backoff, or beyond the queue's bound, are dropped and counted; so are those still queued when a connection is
 * lost. Everything else (state, channel events, reconnects) happens on that one event loop.
 */
final class PeerLink {

    private enum State { CONNECTING, HANDSHAKING, READY, BACKOFF, CLOSED }

    private static final Logger LOGGER = LoggerFactory.getLogger(PeerLink.class);
    /** The channel's write buffer bounds. */
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(1 << 20, 4 << 20);

    private final NettyTransport transport;
    private final int peer;
    private final EventLoop loop;
    /** A batch encoded as frames, with the number of messages it carries. */
    private record Encoded(ByteBuf bytes, int messages, int size) {
    }

    private final ConcurrentLinkedQueue<Encoded> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    /**
     * Bytes of the batches queued. A pass's batch to one peer is cut to what fits under {@link #MAX_QUEUED_BYTES}
     * (the rest is dropped and counted; Raft sends again what goes unanswered): a peer that stops reading, or a
     * pass with many groups' catch-up appends, must not make one link hold hundreds of MiB of direct memory (an
     * unbounded batch once failed a 240 MiB allocation and stopped the event loop that encoded it).
     */
    private final AtomicLong queuedBytes = new AtomicLong();
    static final long MAX_QUEUED_BYTES = 64L << 20;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private volatile State state = State.CONNECTING;
    // On the event loop only:
    private Channel channel;
    private long peerIncarnation;
    private int failures;
    private String problem;
    private String lastLoggedProblem;
    private ScheduledFuture<?> reconnect;
    /** A live connection was lost and no connection was made or refused since: a refusal now means the peer is gone. */
    private boolean lostLive;

    PeerLink(NettyTransport transport, int peer, EventLoop loop) {
        this.transport = transport;
        this.peer = peer;
        this.loop = loop;
        run(this::connect);
    }

    void send(List<GroupMessage> batch) {
        State now = state;
        if (now == State.READY || now == State.CONNECTING || now == State.HANDSHAKING) {
            int fitting = fitting(batch);
            boolean fits = fitting > 0 || batch.isEmpty(); // an empty batch is a node heartbeat
            if (fits && queued.incrementAndGet() <= transport.config().maxQueuedBatches()) {
                if (fitting < batch.size()) {
                    transport.counters().messagesDropped(batch.size() - fitting);
                }
                Encoded encoded = encode(fitting == batch.size() ? batch : batch.subList(0, fitting));
                queuedBytes.addAndGet(encoded.size());
                queue.add(encoded);
                if (state == State.CLOSED) {
                    run(this::dropQueued); // closed meanwhile: release what close() did not see
                } else if (drainScheduled.compareAndSet(false, true)) {
                    run(this::drain);
                }
                return;
            }
            if (fits) {
                queued.decrementAndGet();
            }
        }
        transport.counters().dropped(batch.size());
    }

    /** How many of the batch's leading messages fit under {@link #MAX_QUEUED_BYTES} with what is queued. */
    private int fitting(List<GroupMessage> batch) {
        long room = MAX_QUEUED_BYTES - queuedBytes.get();
        long used = 0;
        int n = 0;
        for (GroupMessage message : batch) {
            used += GroupMessageCodec.sizeBound(message);
            if (used > room) {
                break;
            }
            n++;
        }
        return n;
    }

    private Encoded encode(List<GroupMessage> batch) {
        int maxFrame = transport.config().maxFrameBytes();
        ByteBuf out = PooledByteBufAllocator.DEFAULT.ioBuffer();
        int tooLarge = Frames.writeBatch(out, batch, maxFrame);
        if (tooLarge > 0) {
            transport.counters().messagesDropped(tooLarge);
            LOGGER.warn("Dropped {} Raft message(s) to node {} larger than a frame ({} bytes)", tooLarge, peer,
                    maxFrame);
        }
        return new Encoded(out, batch.size(), out.readableBytes());
    }

    /** Closes the connection if it reached another incarnation of the peer than {@code incarnation}. */
    void dropIfNot(long incarnation) {
        run(() -> {
            if (state == State.READY && peerIncarnation != incarnation) {
                problem = "the peer restarted";
                channel.close();
            }
        });
    }

    void close() {
        run(() -> {
            state = State.CLOSED;
            if (reconnect != null) {
                reconnect.cancel(false);
            }
            if (channel != null) {
                channel.close();
            }
            dropQueued();
        });
    }

    private void run(Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // The transport is shutting down.
            state = State.CLOSED;
            dropQueued();
        }
    }

    private void connect() {
        if (state == State.CLOSED || transport.closed()) {
            return;
        }
        state = State.CONNECTING;
        InetSocketAddress address = transport.addressOf(peer);
        if (address == null) {
            problem = "no address known";
            backOff();
            return;
        }
        Channel connecting = new Bootstrap()
                .group(loop)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) transport.config().connectTimeout().toMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        PeerTls tls = transport.config().tls();
                        if (tls != null) {
                            SslHandler ssl = new SslHandler(tls.clientEngine(address.getHostString(),
                                    address.getPort()));
                            ssl.setHandshakeTimeoutMillis(tls.handshakeTimeoutMs());
                            ssl.handshakeFuture().addListener(done -> {
                                if (!done.isSuccess()) {
                                    problem = "TLS handshake failed: " + done.cause();
                                }
                            });
                            ch.pipeline().addLast("tls", ssl);
                        }
                        ch.pipeline().addLast("frames", Frames.decoder(transport.config().maxFrameBytes()))
                                .addLast("link", new Handler());
                    }
                })
                .connect(address)
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        problem = "cannot connect to " + address + ": " + f.cause().getMessage();
                        if (lostLive && f.cause() instanceof java.net.ConnectException
                            && !(f.cause() instanceof io.netty.channel.ConnectTimeoutException)) {
                            lostLive = false;
                            transport.peerGone(peer);
                        }
                    }
                })
                .channel();
        channel = connecting;
        connecting.closeFuture().addListener(f -> closed(connecting));
    }

    private void closed(Channel lost) {
        if (lost != channel) {
            return;
        }
        channel = null;
        boolean wasReady = state == State.READY;
        dropQueued();
        if (state == State.CLOSED) {
            return;
        }
        if (wasReady) {
            lostLive = true;
            LOGGER.info("Raft connection of node {} to node {} lost ({}); dialing again", transport.config().nodeId(),
                    peer, problem == null ? "closed" : problem);
            lastLoggedProblem = null;
        } else if (problem != null && !problem.equals(lastLoggedProblem)) {
            LOGGER.warn("Raft connection of node {} to node {} failed: {}; retrying every {} ms at most",
                    transport.config().nodeId(), peer, problem, transport.config().reconnectBackoffMax().toMillis());
            lastLoggedProblem = problem;
        }
        backOff();
    }

    private void backOff() {
        state = State.BACKOFF;
        long min = transport.config().reconnectBackoffMin().toMillis();
        long max = transport.config().reconnectBackoffMax().toMillis();
        long delay = Math.min(max, min << Math.min(failures, 20));
        failures++;
        // Up to a quarter less, so the nodes of a cluster that lost a peer together do not dial it in step.
        delay -= ThreadLocalRandom.current().nextLong(delay / 4 + 1);
        problem = null;
        reconnect = loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    private void dropQueued() {
        Encoded batch;
        while ((batch = queue.poll()) != null) {
            queued.decrementAndGet();
            queuedBytes.addAndGet(-batch.size());
            batch.bytes().release();
            transport.counters().dropped(batch.messages());
        }
    }

    /** Writes everything queued, in one flush; what does not fit under the high-water mark waits for writability. */
    private void drain() {
        drainScheduled.set(false);
        Channel ready = channel;
        if (state != State.READY || !ready.isWritable()) {
            return;
        }
        Encoded batch;
        while ((batch = queue.poll()) != null) {
            queued.decrementAndGet();
            queuedBytes.addAndGet(-batch.size());
            transport.counters().sent(batch.messages());
            write(ready, batch.bytes());
            if (!ready.isWritable()) {
                break;
            }
        }
        ready.flush();
    }

    private void write(Channel ready, ByteBuf out) {
        transport.counters().bytesSent(out.readableBytes());
        ready.write(out, ready.voidPromise());
    }

    private void handshakeDone(Hello welcome) {
        state = State.READY;
        lostLive = false;
        peerIncarnation = welcome.incarnation();
        failures = 0;
        lastLoggedProblem = null;
        LOGGER.info("Raft connection of node {} to node {} at {} open (its incarnation {})",
                transport.config().nodeId(), peer, channel.remoteAddress(), welcome.incarnation());
        transport.sawIncarnation(peer, welcome.incarnation());
        drain();
    }

    /** The link's end of its connection: sends the handshake, reads the answer; nothing else comes this way. */
    private final class Handler extends ChannelInboundHandlerAdapter {

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (state == State.CLOSED) {
                ctx.close();
                return;
            }
            state = State.HANDSHAKING;
            ByteBuf hello = ctx.alloc().ioBuffer(64);
            Frames.writeHello(hello, Frames.HELLO, transport.hello(peer));
            transport.counters().bytesSent(hello.readableBytes());
            ctx.writeAndFlush(hello, ctx.voidPromise());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            try {
                transport.counters().bytesReceived(frame.readableBytes() + 4L);
                byte type = frame.readByte();
                if (state == State.HANDSHAKING && type == Frames.WELCOME) {
                    Hello welcome = Hello.readFrom(frame);
                    String mismatch = welcome.mismatch(transport.config().clusterId(), transport.config().nodeId(),
                            peer);
                    if (mismatch != null) {
                        transport.counters().refused();
                        problem = "refused the peer's answer: " + mismatch;
                        ctx.close();
                        return;
                    }
                    handshakeDone(welcome);
                } else if (state == State.HANDSHAKING && type == Frames.REFUSE) {
                    transport.counters().refused();
                    problem = "refused by the peer: " + Frames.readRefuse(frame);
                    ctx.close();
                } else {
                    throw new CorruptFrameException("unexpected frame of type " + type + " in state " + state);
                }
            } finally {
                ReferenceCountUtil.release(frame);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && drainScheduled.compareAndSet(false, true)) {
                drain();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof CorruptFrameException) {
                transport.counters().corrupt();
            }
            problem = cause.toString();
            ctx.close();
        }
    }
}
