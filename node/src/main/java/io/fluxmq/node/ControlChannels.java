package io.fluxmq.node;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.Closeable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * One gRPC channel per peer control address (plaintext, or mutual TLS with the cluster's certificate), opened on first use. A channel whose call failed with an
 * unreachable peer is {@linkplain #discard dropped}, so the next call connects afresh instead of waiting out gRPC's
 * reconnect back-off (up to two minutes) after the peer comes back. Thread-safe.
 */
final class ControlChannels implements Closeable {
    private final IntFunction<String> addressOf;
    private final Map<Integer, ManagedChannel> channels = new ConcurrentHashMap<>();

    private final ChannelCredentials credentials;

    /** {@code addressOf} maps a node id to {@code host:controlPort}; {@code tls} null: plaintext. */
    ControlChannels(IntFunction<String> addressOf, ClusterTls tls) {
        this.addressOf = addressOf;
        this.credentials = tls == null ? InsecureChannelCredentials.create() : tls.channelCredentials();
    }

    ManagedChannel channel(int nodeId) {
        return channels.computeIfAbsent(nodeId, id -> NettyChannelBuilder.forTarget(addressOf.apply(id), credentials)
                .build());
    }

    void discard(int nodeId) {
        ManagedChannel c = channels.remove(nodeId);
        if (c != null) {
            c.shutdownNow();
        }
    }

    @Override
    public void close() {
        for (ManagedChannel c : channels.values()) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels.values()) {
            try {
                c.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        channels.clear();
    }
}
