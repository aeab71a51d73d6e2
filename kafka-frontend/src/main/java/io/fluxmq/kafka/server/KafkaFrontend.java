package io.fluxmq.kafka.server;

import io.fluxmq.kafka.api.ApiRegistry;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka-protocol listener. Pipeline per connection: size-prefixed frame decoder (with the maximum request size)
 * → {@link ConnectionHandler} (decode, dispatch, {@link ResponseOrderer}). Closing it also closes the registry's
 * shared services.
 */
public final class KafkaFrontend implements Closeable {
    private static final Logger LOGGER = LoggerFactory.getLogger(KafkaFrontend.class);

    private final KafkaFrontendConfig config;
    private final ApiRegistry registry;
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private Channel serverChannel;

    public KafkaFrontend(KafkaFrontendConfig config, ApiRegistry registry) {
        this.config = config;
        this.registry = registry;
    }

    /** Binds the listener; throws if the port is taken. */
    public void start() throws InterruptedException {
        boss = new NioEventLoopGroup(1);
        workers = new NioEventLoopGroup();
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
                                        config.maxInFlightPerConnection()));
                    }
                });
        serverChannel = bootstrap.bind(config.host(), config.port()).sync().channel();
        LOGGER.info("Kafka listener {} on {}", config.listener(), serverChannel.localAddress());
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        if (boss != null) {
            boss.shutdownGracefully().syncUninterruptibly();
            workers.shutdownGracefully().syncUninterruptibly();
        }
        registry.close();
    }
}
