package io.fluxmq.node;

import io.fluxmq.control.v1.ControlServiceGrpc;
import io.fluxmq.control.v1.RaftControlGrpc;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The node's gRPC listener ({@code control.host}:{@code control.port}, plaintext) serving {@link ControlService} and
 * {@link RaftControlService}. */
final class ControlServer implements Closeable {
    private static final Logger LOGGER = LoggerFactory.getLogger(ControlServer.class);
    private final Server server;

    ControlServer(String host, int port, ControlService service, RaftControlService raftControl) {
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .addService(ControlServiceGrpc.bindService(service))
                .addService(RaftControlGrpc.bindService(raftControl)).build();
    }

    ControlServer start() throws IOException {
        server.start();
        LOGGER.info("gRPC control service listening on port {}", port());
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
