package io.fluxmq.raft.tls;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;

/**
 * Logs failed TLS handshakes of a Raft transport: one warning per remote host and {@value #INTERVAL_MS} ms at most
 * (a process without the cluster's certificate that keeps dialing would otherwise write a line per attempt), with the
 * number of failures left unlogged since. A connection closed before it sent anything (a port probe, a health check)
 * is not a failure worth a warning. Thread-safe.
 */
public final class TlsFailures {
    static final long INTERVAL_MS = 10_000;
    /** How Netty's TLS handler fails a handshake its channel closed under. */
    private static final String CLOSED_EARLY = "SslHandler removed before handshake completed";

    private final Logger logger;
    private final String who;
    private final Map<String, long[]> byHost = new ConcurrentHashMap<>();

    /** @param who names the transport and node in each line, e.g. "node 2 Raft port" */
    public TlsFailures(Logger logger, String who) {
        this.logger = logger;
        this.who = who;
    }

    /** Whether {@code cause} (or a cause of it) is a TLS failure rather than an ordinary I/O error. */
    public static boolean isTls(Throwable cause) {
        for (Throwable c = cause; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SSLException) {
                return true;
            }
        }
        return false;
    }

    /** Records a failed handshake with {@code remote}, in the role {@code inbound} (accepted) or dialed. */
    public void failed(SocketAddress remote, boolean inbound, Throwable cause) {
        if (cause instanceof ClosedChannelException || String.valueOf(cause.getMessage()).startsWith(CLOSED_EARLY)) {
            return; // closed before or while handshaking (a probe, or this side closing), not refused
        }
        String host = remote instanceof InetSocketAddress a ? a.getHostString() : String.valueOf(remote);
        long now = System.nanoTime();
        long[] state = byHost.computeIfAbsent(host, h -> new long[] {now - TimeUnit.MILLISECONDS.toNanos(INTERVAL_MS), 0});
        long suppressed;
        synchronized (state) {
            if (now - state[0] < TimeUnit.MILLISECONDS.toNanos(INTERVAL_MS)) {
                state[1]++;
                return;
            }
            state[0] = now;
            suppressed = state[1];
            state[1] = 0;
        }
        logger.warn("{}: TLS handshake {} {} failed, connection closed: {}{}", who, inbound ? "from" : "to", remote,
                message(cause), suppressed == 0 ? "" : " (" + suppressed + " more from this host since the last report)");
    }

    private static String message(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == cause ? cause.toString() : cause.toString() + " (" + root + ")";
    }
}
