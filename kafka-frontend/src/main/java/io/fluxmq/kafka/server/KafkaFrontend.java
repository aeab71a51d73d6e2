package io.fluxmq.kafka.server;

import io.fluxmq.kafka.api.ApiRegistry;
import io.fluxmq.kafka.metrics.FrontendMetrics;
import io.fluxmq.kafka.quota.ClientQuotaManager;
import io.fluxmq.kafka.security.ListenerSecurity;
import io.fluxmq.kafka.security.ScramCredentials;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.Closeable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka-protocol listeners of a node: one or more (say INTERNAL for a container network and EXTERNAL for clients
 * on the host), sharing one registry and event loops; each connection knows the listener it came in on, so Metadata
 * answers with that listener's addresses. Pipeline per connection: idle timer → [TLS listeners: Netty's
 * {@link SslHandler} with a JDK engine and a handshake timeout → {@link TlsSessionHandler}] →
 * {@link RequestMemoryHandler} (the node's bound on request memory) → size-prefixed frame decoder (with the maximum
 * request size) → [SASL listeners, until authenticated: {@link SaslAuthenticationHandler}] →
 * {@link ConnectionHandler} (decode, dispatch, {@link ResponseOrderer}). A PLAINTEXT listener has exactly the
 * handlers it had before TLS and SASL existed. {@link ConnectionLimits} bound the
 * connections of all listeners together. Closing it also closes the registry's shared services.
 */
public final class KafkaFrontend implements Closeable {
    private static final Logger LOGGER = LoggerFactory.getLogger(KafkaFrontend.class);

    private final List<KafkaFrontendConfig> listeners;
    private final ApiRegistry registry;
    private final FrontendMetrics metrics;
    private final ConnectionLimits limits;
    private final RequestMemory memory;
    private final ConnectionLimiter limiter;
    private final ScramCredentials scramCredentials;
    private final ClientQuotaManager quotas;
    private final List<Channel> serverChannels = new CopyOnWriteArrayList<>();
    private EventLoopGroup boss;
    private EventLoopGroup workers;

    public KafkaFrontend(KafkaFrontendConfig config, ApiRegistry registry) {
        this(List.of(config), registry);
    }

    /** Listeners with distinct names; the first is the one {@link #port()} reports. */
    public KafkaFrontend(List<KafkaFrontendConfig> listeners, ApiRegistry registry) {
        this(listeners, registry, FrontendMetrics.NONE);
    }

    /** Listeners as above, reporting request latencies and connections to {@code metrics}. */
    public KafkaFrontend(List<KafkaFrontendConfig> listeners, ApiRegistry registry, FrontendMetrics metrics) {
        this(listeners, registry, metrics, ConnectionLimits.DEFAULTS);
    }

    /** Listeners as above, their connections together bounded by {@code limits}. */
    public KafkaFrontend(List<KafkaFrontendConfig> listeners, ApiRegistry registry, FrontendMetrics metrics,
                         ConnectionLimits limits) {
        this(listeners, registry, metrics, limits, ScramCredentials.NONE);
    }

    /** Listeners as above, whose SCRAM authentication looks users up in {@code scramCredentials} first. */
    public KafkaFrontend(List<KafkaFrontendConfig> listeners, ApiRegistry registry, FrontendMetrics metrics,
                         ConnectionLimits limits, ScramCredentials scramCredentials) {
        this(listeners, registry, metrics, limits, scramCredentials, ClientQuotaManager.NONE);
    }

    /**
     * Listeners as above, new connections from an address held to its {@code connection_creation_rate} in
     * {@code quotas}.
     */
    public KafkaFrontend(List<KafkaFrontendConfig> listeners, ApiRegistry registry, FrontendMetrics metrics,
                         ConnectionLimits limits, ScramCredentials scramCredentials, ClientQuotaManager quotas) {
        if (listeners.isEmpty() || listeners.stream().map(KafkaFrontendConfig::listener).distinct().count()
                != listeners.size()) {
            throw new IllegalArgumentException("listeners must be at least one, with distinct names: " + listeners);
        }
        this.listeners = List.copyOf(listeners);
        this.registry = registry;
        this.metrics = metrics;
        this.limits = limits;
        this.memory = new RequestMemory(limits.queuedMaxRequestBytes());
        this.limiter = new ConnectionLimiter(limits, this::accepting);
        this.scramCredentials = scramCredentials;
        this.quotas = quotas;
    }

    /** Opens or closes every listener's accept gate ({@code max.connections}). */
    private void accepting(boolean open) {
        if (!open) {
            LOGGER.warn("{} connections open, the bound {}: new connections wait until one closes",
                    limits.maxConnections(), ConnectionLimits.MAX_CONNECTIONS_KEY);
        }
        for (Channel server : serverChannels) {
            server.config().setAutoRead(open);
        }
    }

    /** Binds every listener; throws if a port is taken. */
    public void start() throws InterruptedException {
        boss = new NioEventLoopGroup(1);
        workers = new NioEventLoopGroup();
        for (KafkaFrontendConfig config : listeners) {
            serverChannels.add(bind(config));
        }
    }

    private Channel bind(KafkaFrontendConfig config) throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ReadGate gate = new ReadGate(ch);
                        if (!admitted(ch, gate)) {
                            return;
                        }
                        RequestMemoryHandler memoryHandler = new RequestMemoryHandler(memory, gate);
                        ListenerSecurity security = config.security();
                        ch.pipeline().addLast("idle",
                                new IdleStateHandler(0, 0, limits.maxIdleMs(), TimeUnit.MILLISECONDS));
                        if (security.tls()) {
                            SslHandler ssl = new SslHandler(security.ssl().newEngine(ch.remoteAddress()));
                            ssl.setHandshakeTimeoutMillis(security.handshakeTimeoutMs());
                            ch.pipeline().addLast("tls", ssl).addLast("tls-session", new TlsSessionHandler(
                                    security.ssl(), security.protocol() == SecurityProtocol.SSL));
                        }
                        ch.pipeline()
                                .addLast("memory", memoryHandler)
                                .addLast("frames", new LengthFieldBasedFrameDecoder(
                                        maxFrameBytes(config.maxRequestBytes()), 0, 4, 0, 4, true));
                        if (security.sasl() != null) {
                            ch.pipeline().addLast("sasl", new SaslAuthenticationHandler(security.sasl(),
                                    scramCredentials, memoryHandler));
                        }
                        ch.pipeline().addLast("requests", new ConnectionHandler(registry, config.listener(),
                                config.maxInFlightPerConnection(), metrics, gate, memoryHandler));
                    }
                });
        Channel channel = bootstrap.bind(config.host(), config.port()).sync().channel();
        LOGGER.info("Kafka listener {} ({}) on {}", config.listener(), config.security().protocol(),
                channel.localAddress());
        return channel;
    }

    /**
     * Counts {@code ch} against the connection bounds: it is served at once, waits unread for a slot
     * ({@code max.connections}), or is closed ({@code max.connections.per.ip}; over its address's
     * {@code connection_creation_rate}, after the throttle time). False when not served.
     */
    private boolean admitted(SocketChannel ch, ReadGate gate) {
        InetAddress address = ch.remoteAddress().getAddress();
        int throttleMs = quotas.limitsConnections() ? quotas.recordConnection(address) : 0;
        if (throttleMs > 0) {
            // as Kafka: not served, and closed only after the throttle time, so the client does not come back at once
            LOGGER.debug("Closing connection from {} in {} ms: over its connection_creation_rate",
                    ch.remoteAddress(), throttleMs);
            gate.pause(ReadGate.ADMISSION);
            ch.eventLoop().schedule((Runnable) ch::close, throttleMs, TimeUnit.MILLISECONDS);
            return false;
        }
        ConnectionLimiter.Connection connection = new ConnectionLimiter.Connection() {
            @Override
            public InetAddress address() {
                return address;
            }

            @Override
            public void serve() {
                ch.eventLoop().execute(() -> gate.resume(ReadGate.ADMISSION));
            }
        };
        switch (limiter.admit(connection)) {
            case SERVED -> {
                ch.closeFuture().addListener(f -> limiter.closed(connection));
                return true;
            }
            case WAITING -> {
                gate.pause(ReadGate.ADMISSION);
                ch.closeFuture().addListener(f -> limiter.closed(connection));
                return true;
            }
            default -> {
                LOGGER.info("Closing connection from {}: it already has {} connections ({})", ch.remoteAddress(),
                        limits.maxConnections(address), ConnectionLimits.MAX_PER_IP_KEY);
                ch.close();
                return false;
            }
        }
    }

    /**
     * The longest frame, size prefix included, for requests of up to {@code maxRequestBytes}: as in Kafka,
     * {@code socket.request.max.bytes} bounds the size the prefix declares.
     */
    static int maxFrameBytes(int maxRequestBytes) {
        return (int) Math.min(Integer.MAX_VALUE, maxRequestBytes + 4L);
    }

    /** Bytes held now by requests read and not yet answered ({@value RequestMemory#KEY}). */
    public long requestMemoryUsed() {
        return memory.used();
    }

    /** Kafka connections served now, over all listeners. */
    public int connections() {
        return limiter.served();
    }

    /** Kafka connections accepted and waiting for a slot under {@code max.connections}. */
    public int waitingConnections() {
        return limiter.waiting();
    }

    /** The bound port of the first listener. */
    public int port() {
        return port(listeners.get(0).listener());
    }

    /** The bound port of the listener named {@code listener}. */
    public int port(String listener) {
        for (int i = 0; i < listeners.size(); i++) {
            if (listeners.get(i).listener().equals(listener)) {
                return ((InetSocketAddress) serverChannels.get(i).localAddress()).getPort();
            }
        }
        throw new IllegalArgumentException("no listener " + listener);
    }

    @Override
    public void close() {
        for (Channel channel : serverChannels) {
            channel.close().syncUninterruptibly();
        }
        if (boss != null) {
            boss.shutdownGracefully().syncUninterruptibly();
            workers.shutdownGracefully().syncUninterruptibly();
        }
        registry.close();
    }
}
