package io.fluxmq.node;

import io.fluxmq.control.v1.ControlServiceGrpc;
import io.fluxmq.control.v1.RaftControlGrpc;
import io.fluxmq.kafka.auth.Authorization;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
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
    private final boolean authorized;

    /**
     * {@code tls} null: plaintext. With TLS and an enabled {@code authorization}, every call is authorized by the
     * caller's certificate ({@link ControlAuthorizer}); otherwise any caller (with TLS: any holder of a certificate of
     * the cluster's CA) may call every method.
     */
    ControlServer(String host, int port, ClusterTls tls, Authorization authorization, ControlService service,
                  RaftControlService raftControl) {
        ServerServiceDefinition control = ControlServiceGrpc.bindService(service);
        ServerServiceDefinition raft = RaftControlGrpc.bindService(raftControl);
        this.authorized = tls != null && authorization.enabled();
        if (authorized) {
            ControlAuthorizer authorizer = new ControlAuthorizer(tls, authorization);
            control = ServerInterceptors.intercept(control, authorizer);
            raft = ServerInterceptors.intercept(raft, authorizer);
        }
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port),
                        tls == null ? InsecureServerCredentials.create() : tls.serverCredentials())
                .addService(control).addService(raft).build();
        this.tls = tls != null;
    }

    ControlServer start() throws IOException {
        server.start();
        LOGGER.info("gRPC control service listening on port {}{}", port(), !tls ? ""
                : authorized ? " (mutual TLS, calls authorized by ACLs on the cluster)" : " (mutual TLS)");
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
