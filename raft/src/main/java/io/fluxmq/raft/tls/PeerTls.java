package io.fluxmq.raft.tls;

import java.net.InetSocketAddress;
import javax.net.ssl.SSLEngine;

/**
 * Mutual TLS between the nodes of a cluster: the Raft transports wrap every connection they accept in a
 * {@link #serverEngine server engine} (which requires and verifies the peer's certificate) and every connection they
 * dial in a {@link #clientEngine client engine} (which presents this node's certificate and verifies the peer's).
 * A process without a certificate signed by the cluster's CA completes no handshake, so it can neither send nor
 * receive Raft messages. The node implements it from its {@code cluster.ssl.*} settings. Implementations are
 * thread-safe: event loops ask for engines concurrently.
 */
public interface PeerTls {
    /** An engine in server mode, client certificate required, for a connection accepted from {@code peer}. */
    SSLEngine serverEngine(InetSocketAddress peer);

    /** An engine in client mode for a connection this node dials to {@code host:port}. */
    SSLEngine clientEngine(String host, int port);

    /** How long a handshake may take before its connection is closed (ms). */
    long handshakeTimeoutMs();
}
