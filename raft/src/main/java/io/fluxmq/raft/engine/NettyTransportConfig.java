package io.fluxmq.raft.engine;

import io.fluxmq.raft.tls.PeerTls;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;

/**
 * Settings of a node's {@link NettyTransport}.
 *
 * @param nodeId             this node
 * @param clusterId          peers with another cluster id are refused at the handshake (1 to 255 UTF-8 bytes)
 * @param incarnation        this run of the node, sent in every handshake: peers that see it change know the node
 *                           restarted. {@link #of} draws a random one; a node must never reuse one after a restart
 * @param bindAddress        where peers connect to this node (port 0: any free port, see
 *                           {@link NettyTransport#localAddress()})
 * @param ioThreads          Netty event-loop threads for all connections of the node (default {@value #IO_THREADS_DEFAULT})
 * @param maxFrameBytes      largest frame sent or accepted; a larger one received closes its connection; batches are
 *                           split to stay under it (default {@value #MAX_FRAME_BYTES_DEFAULT}, 16 MiB)
 * @param maxQueuedBatches   batches waiting to be written to one peer; more are dropped (default
 *                           {@value #MAX_QUEUED_BATCHES_DEFAULT})
 * @param reconnectBackoffMin the wait before the first reconnect attempt after a connection is lost or refused,
 *                           doubled per failed attempt
 * @param reconnectBackoffMax the longest wait between attempts
 * @param connectTimeout     how long one connection attempt may take
 * @param tls                mutual TLS on every connection before the {@link Hello}, or null for plaintext (the
 *                           default): a peer whose certificate the cluster's CA did not sign completes no handshake
 */
public record NettyTransportConfig(int nodeId, String clusterId, long incarnation, InetSocketAddress bindAddress,
                                   int ioThreads, int maxFrameBytes, int maxQueuedBatches,
                                   Duration reconnectBackoffMin, Duration reconnectBackoffMax,
                                   Duration connectTimeout, PeerTls tls) {

    public static final int IO_THREADS_DEFAULT = 2;
    public static final int MAX_FRAME_BYTES_DEFAULT = 16 << 20;
    public static final int MAX_QUEUED_BATCHES_DEFAULT = 1024;
    public static final Duration RECONNECT_BACKOFF_MIN_DEFAULT = Duration.ofMillis(50);
    public static final Duration RECONNECT_BACKOFF_MAX_DEFAULT = Duration.ofSeconds(1);
    public static final Duration CONNECT_TIMEOUT_DEFAULT = Duration.ofSeconds(1);
    /** The smallest frame limit: a handshake and a heartbeat batch of a few groups must fit. */
    static final int MIN_FRAME_BYTES = 1024;
    /** The largest frame limit (1 GiB): a frame is held whole in memory while it is decoded. */
    static final int MAX_FRAME_BYTES = 1 << 30;

    public NettyTransportConfig {
        Hello.checkClusterId(clusterId);
        if (ioThreads < 1 || maxQueuedBatches < 1) {
            throw new IllegalArgumentException("ioThreads and maxQueuedBatches must be at least 1");
        }
        if (maxFrameBytes < MIN_FRAME_BYTES || maxFrameBytes > MAX_FRAME_BYTES) {
            throw new IllegalArgumentException("maxFrameBytes must be between " + MIN_FRAME_BYTES + " and "
                    + MAX_FRAME_BYTES + ": " + maxFrameBytes);
        }
        if (reconnectBackoffMin.isNegative() || reconnectBackoffMin.isZero()
                || reconnectBackoffMax.compareTo(reconnectBackoffMin) < 0) {
            throw new IllegalArgumentException("reconnect backoff must be 0 < min (" + reconnectBackoffMin
                    + ") <= max (" + reconnectBackoffMax + ")");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive");
        }
    }

    /** Plaintext. */
    public NettyTransportConfig(int nodeId, String clusterId, long incarnation, InetSocketAddress bindAddress,
                                int ioThreads, int maxFrameBytes, int maxQueuedBatches,
                                Duration reconnectBackoffMin, Duration reconnectBackoffMax, Duration connectTimeout) {
        this(nodeId, clusterId, incarnation, bindAddress, ioThreads, maxFrameBytes, maxQueuedBatches,
                reconnectBackoffMin, reconnectBackoffMax, connectTimeout, null);
    }

    /** Defaults and a new random incarnation. */
    public static NettyTransportConfig of(int nodeId, String clusterId, InetSocketAddress bindAddress) {
        return new NettyTransportConfig(nodeId, clusterId, new SecureRandom().nextLong(), bindAddress,
                IO_THREADS_DEFAULT, MAX_FRAME_BYTES_DEFAULT, MAX_QUEUED_BATCHES_DEFAULT, RECONNECT_BACKOFF_MIN_DEFAULT,
                RECONNECT_BACKOFF_MAX_DEFAULT, CONNECT_TIMEOUT_DEFAULT);
    }

    public NettyTransportConfig withIoThreads(int threads) {
        return new NettyTransportConfig(nodeId, clusterId, incarnation, bindAddress, threads, maxFrameBytes,
                maxQueuedBatches, reconnectBackoffMin, reconnectBackoffMax, connectTimeout, tls);
    }

    public NettyTransportConfig withMaxFrameBytes(int bytes) {
        return new NettyTransportConfig(nodeId, clusterId, incarnation, bindAddress, ioThreads, bytes,
                maxQueuedBatches, reconnectBackoffMin, reconnectBackoffMax, connectTimeout, tls);
    }

    /** The same with mutual TLS ({@code tls} null: plaintext). */
    public NettyTransportConfig withTls(PeerTls tls) {
        return new NettyTransportConfig(nodeId, clusterId, incarnation, bindAddress, ioThreads, maxFrameBytes,
                maxQueuedBatches, reconnectBackoffMin, reconnectBackoffMax, connectTimeout, tls);
    }
}
