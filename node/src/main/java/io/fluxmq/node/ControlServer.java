package io.fluxmq.node;

import io.fluxmq.control.v1.ControlServiceGrpc;
import io.fluxmq.control.v1.RaftControlGrpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's gRPC listener ({@code control.host}:{@code control.port}) serving {@link ControlService} and
 * {@link RaftControlService}: plaintext, or with {@code cluster.security.protocol=SSL} mutual TLS with the cluster's
 * CA, so only holders of a certificate it signed (peers, {@code fluxmq-admin} with one) get a call through.
 */
final class ControlServer implements Closeable {
    private static final Logger LOGGER = LoggerFactory.getLogger(ControlServer.class);
    private final Server server;
    private final boolean tls;

    /** {@code tls} null: plaintext. */
    ControlServer(String host, int port, ClusterTls tls, ControlService service, RaftControlService raftControl) {
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port),
                        tls == null ? InsecureServerCredentials.create() : tls.serverCredentials())
                .addService(ControlServiceGrpc.bindService(service))
                .addService(RaftControlGrpc.bindService(raftControl)).build();
        this.tls = tls != null;
    }

    ControlServer start() throws IOException {
        server.start();
        LOGGER.info("gRPC control service listening on port {}{}", port(), tls ? " (mutual TLS)" : "");
        return this;
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
