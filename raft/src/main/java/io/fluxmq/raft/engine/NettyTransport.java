package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.engine.GroupMessage;
import io.fluxmq.raftcore.engine.RaftEngine;
import io.fluxmq.raftcore.engine.Transport;
import io.fluxmq.raft.tls.TlsFailures;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.handler.ssl.SslHandler;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multi-Raft engine's {@link Transport} over TCP with Netty: a node's batches of group messages to its peers.
 *
 * <p><b>Connections.</b> One per ordered node pair: a node dials each peer it sends to ({@link PeerLink}) and only
 * writes on that connection; it only reads on the connections peers dialed to it ({@link InboundHandler}). So there is
 * no race to settle when two nodes dial each other at once, each connection has one writer and one reader, and a
 * link that fails fails one direction only, which is what the engine's failure detector listens for: hearing from a
 * peer means the peer can reach this node. The cost is two sockets per node pair instead of one.
 *
 * <p><b>Handshake.</b> The dialer sends a {@link Hello} (magic, protocol version, cluster id, its node id, its
 * incarnation, the node it means to reach); the acceptor checks it and answers with its own, or refuses with a reason
 * both sides log. Nothing else is sent before it is accepted. A peer whose incarnation changes restarted:
 * {@code onPeerRestart} is called (on a Netty thread) and this node's own connection to it is dropped and dialed again.
 *
 * <p><b>Sending.</b> {@link #send} never blocks: it queues the batch on the peer's link (bounded, {@link
 * NettyTransportConfig#maxQueuedBatches()}) and the link's Netty thread encodes everything queued into one buffer and
 * flushes once per pass. While a peer is unreachable, or its queue is full, or its socket buffer above the high-water
 * mark, batches are dropped and counted ({@link #stats()}): Raft resends what matters. Lost connections are dialed
 * again after a backoff doubling from {@link NettyTransportConfig#reconnectBackoffMin()} to its max.
 *
 * <p><b>Receiving.</b> Frames larger than {@link NettyTransportConfig#maxFrameBytes()} or that do not decode close
 * their connection (logged); the node keeps serving the others. Decoded batches go to the receiver (the engine's
 * {@link RaftEngine#receive}) on the Netty thread.
 *
 * <p>Threads: {@link NettyTransportConfig#ioThreads()}, named {@code raft-net-<node>-…}. Thread-safe.
 */
public final class NettyTransport implements Transport, AutoCloseable {

    /** Where received batches go: the engine's {@link RaftEngine#receive}. */
    @FunctionalInterface
    public interface Receiver {
        void receive(int fromNode, List<GroupMessage> batch);
    }

    private static final Logger LOGGER = LoggerFactory.getLogger(NettyTransport.class);

    private final NettyTransportConfig config;
    private final IntFunction<InetSocketAddress> peerAddress;
    private final IntConsumer onPeerRestart;
    private final IntConsumer onPeerGone;
    private final EventLoopGroup group;
    private final Map<Integer, PeerLink> links = new ConcurrentHashMap<>();
    private final Map<Integer, Long> peerIncarnations = new ConcurrentHashMap<>();
    private final Map<Integer, Channel> inbound = new ConcurrentHashMap<>();
    private final Set<Channel> accepted = ConcurrentHashMap.newKeySet();
    private final Counters counters = new Counters();
    private final TlsFailures tlsFailures;
    private volatile Receiver receiver;
    private volatile Channel server;
    private volatile boolean closed;

    /**
     * @param peerAddress   where a peer node listens, asked at every connection attempt (null: not known yet, tried
     *                      again after the backoff)
     * @param onPeerRestart told a peer's id when it comes back with a new incarnation (on a Netty thread; must not
     *                      block)
     */
    public NettyTransport(NettyTransportConfig config, IntFunction<InetSocketAddress> peerAddress,
                          IntConsumer onPeerRestart) {
        this(config, peerAddress, onPeerRestart, peer -> { });
    }

    /**
     * @param onPeerGone told a peer's id when a live connection to it was lost and dialing it again was refused:
     *                   nothing listens on its port, so its process is gone (on a Netty thread; must not block)
     */
    public NettyTransport(NettyTransportConfig config, IntFunction<InetSocketAddress> peerAddress,
                          IntConsumer onPeerRestart, IntConsumer onPeerGone) {
        this.config = config;
        this.peerAddress = peerAddress;
        this.onPeerRestart = onPeerRestart;
        this.onPeerGone = onPeerGone;
        this.tlsFailures = new TlsFailures(LOGGER, "node " + config.nodeId() + " multi-Raft transport");
        this.group = new NioEventLoopGroup(config.ioThreads(),
                new DefaultThreadFactory("raft-net-" + config.nodeId(), true));
    }

    /** Listens for peers; their batches go to {@code receiver}. Returns this transport. */
    public NettyTransport start(Receiver receiver) {
        this.receiver = receiver;
        NettyTransport transport = this;
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        if (closed) {
                            channel.close();
                            return;
                        }
                        accepted.add(channel);
                        channel.closeFuture().addListener(f -> accepted.remove(channel));
                        if (config.tls() != null) {
                            SslHandler ssl = new SslHandler(config.tls().serverEngine(channel.remoteAddress()));
                            ssl.setHandshakeTimeoutMillis(config.tls().handshakeTimeoutMs());
                            ssl.handshakeFuture().addListener(done -> {
                                if (!done.isSuccess()) {
                                    counters.refused();
                                    tlsFailures.failed(channel.remoteAddress(), true, done.cause());
                                }
                            });
                            channel.pipeline().addLast("tls", ssl);
                        }
                        channel.pipeline().addLast("frames", Frames.decoder(config.maxFrameBytes()))
                                .addLast("inbound", new InboundHandler(transport));
                    }
                })
                .bind(config.bindAddress())
                .syncUninterruptibly()
                .channel();
        LOGGER.info("Raft transport of node {} listening on {} (incarnation {}{})", config.nodeId(),
                server.localAddress(), config.incarnation(), config.tls() != null ? ", mutual TLS" : "");
        return this;
    }

    /** The address peers reach this node at (the bound port when the configured one was 0). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) server.localAddress();
    }

    public long incarnation() {
        return config.incarnation();
    }

    @Override
    public void send(int toNode, List<GroupMessage> batch) {
        if (closed) {
            counters.dropped(batch.size());
            return;
        }
        PeerLink link = links.get(toNode);
        if (link == null) {
            link = links.computeIfAbsent(toNode, peer -> new PeerLink(this, peer, group.next()));
        }
        link.send(batch);
    }

    public TransportStats stats() {
        return counters.snapshot();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Channel listening = server;
        if (listening != null) {
            listening.close().syncUninterruptibly();
        }
        for (PeerLink link : links.values()) {
            link.close();
        }
        for (Channel channel : accepted) {
            channel.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        LOGGER.info("Raft transport of node {} closed", config.nodeId());
    }

    // For the links and handlers of this transport.

    NettyTransportConfig config() {
        return config;
    }

    boolean closed() {
        return closed;
    }

    InetSocketAddress addressOf(int peer) {
        return peerAddress.apply(peer);
    }

    Counters counters() {
        return counters;
    }

    Receiver receiver() {
        return receiver;
    }

    Hello hello(int peer) {
        return new Hello(Hello.VERSION, config.clusterId(), config.nodeId(), config.incarnation(), peer);
    }

    /** A link lost its live connection to {@code peer} and was then refused: see the constructor's onPeerGone. */
    void peerGone(int peer) {
        LOGGER.info("Raft peer node {} is gone (its connection was lost and a new one refused)", peer);
        try {
            onPeerGone.accept(peer);
        } catch (RuntimeException e) {
            LOGGER.error("Peer gone callback failed for node {}", peer, e);
        }
    }

    /**
     * A handshake from {@code peer} showed {@code incarnation}: if the peer had another before, it restarted, so its
     * hosts are told and this node's own connection to it (to the old process, or half-open) is dialed again.
     */
    void sawIncarnation(int peer, long incarnation) {
        Long before = peerIncarnations.put(peer, incarnation);
        if (before == null || before == incarnation) {
            return;
        }
        LOGGER.info("Raft peer node {} restarted (incarnation {}, was {})", peer, incarnation, before);
        PeerLink link = links.get(peer);
        if (link != null) {
            link.dropIfNot(incarnation);
        }
        try {
            onPeerRestart.accept(peer);
        } catch (RuntimeException e) {
            LOGGER.error("Peer restart callback failed for node {}", peer, e);
        }
    }

    /** A connection from {@code peer} was accepted; an older one from it, if any, is closed (its process is gone). */
    void inboundOpened(int peer, Channel channel) {
        Channel older = inbound.put(peer, channel);
        if (older != null && older != channel) {
            older.close();
        }
        channel.closeFuture().addListener(f -> inbound.remove(peer, channel));
    }

    /** Thread-safe counters behind {@link TransportStats}. */
    static final class Counters {
        private final LongAdder batchesSent = new LongAdder();
        private final LongAdder messagesSent = new LongAdder();
        private final LongAdder bytesSent = new LongAdder();
        private final LongAdder batchesReceived = new LongAdder();
        private final LongAdder messagesReceived = new LongAdder();
        private final LongAdder bytesReceived = new LongAdder();
        private final LongAdder batchesDropped = new LongAdder();
        private final LongAdder messagesDropped = new LongAdder();
        private final LongAdder connectionsRefused = new LongAdder();
        private final LongAdder connectionsCorrupt = new LongAdder();

        void sent(int messages) {
            batchesSent.increment();
            messagesSent.add(messages);
        }

        void bytesSent(long bytes) {
            bytesSent.add(bytes);
        }

        void received(int messages, long bytes) {
            batchesReceived.increment();
            messagesReceived.add(messages);
            bytesReceived.add(bytes);
        }

        void bytesReceived(long bytes) {
            bytesReceived.add(bytes);
        }

        void dropped(int messages) {
            batchesDropped.increment();
            messagesDropped.add(messages);
        }

        void messagesDropped(int messages) {
            messagesDropped.add(messages);
        }

        void refused() {
            connectionsRefused.increment();
        }

        void corrupt() {
            connectionsCorrupt.increment();
        }

        TransportStats snapshot() {
            return new TransportStats(batchesSent.sum(), messagesSent.sum(), bytesSent.sum(), batchesReceived.sum(),
                    messagesReceived.sum(), bytesReceived.sum(), batchesDropped.sum(), messagesDropped.sum(),
                    connectionsRefused.sum(), connectionsCorrupt.sum());
        }
    }
}
