package io.fluxmq.kafka.server;

import io.fluxmq.kafka.api.ApiRegistry;
import io.fluxmq.kafka.metrics.FrontendMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka-protocol listeners of a node: one or more (say INTERNAL for a container network and EXTERNAL for clients
 * on the host), sharing one registry and event loops; each connection knows the listener it came in on, so Metadata
 * answers with that listener's addresses. Pipeline per connection: size-prefixed frame decoder (with the maximum
 * request size) → {@link ConnectionHandler} (decode, dispatch, {@link ResponseOrderer}). Closing it also closes the
 * registry's shared services.
 */
public final class KafkaFrontend implements Closeable {
    private static final Logger LOGGER = LoggerFactory.getLogger(KafkaFrontend.class);

    private final List<KafkaFrontendConfig> listeners;
    private final ApiRegistry registry;
    private final FrontendMetrics metrics;
    private final List<Channel> serverChannels = new ArrayList<>();
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
        if (listeners.isEmpty() || listeners.stream().map(KafkaFrontendConfig::listener).distinct().count()
                != listeners.size()) {
            throw new IllegalArgumentException("listeners must be at least one, with distinct names: " + listeners);
        }
        this.listeners = List.copyOf(listeners);
        this.registry = registry;
        this.metrics = metrics;
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
                        ch.pipeline()
                                .addLast("frames", new LengthFieldBasedFrameDecoder(
                                        config.maxRequestBytes(), 0, 4, 0, 4, true))
                                .addLast("requests", new ConnectionHandler(registry, config.listener(),
                                        config.maxInFlightPerConnection(), metrics));
                    }
                });
        Channel channel = bootstrap.bind(config.host(), config.port()).sync().channel();
        LOGGER.info("Kafka listener {} on {}", config.listener(), channel.localAddress());
        return channel;
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
