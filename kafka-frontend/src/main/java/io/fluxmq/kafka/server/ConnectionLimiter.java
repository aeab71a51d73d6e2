package io.fluxmq.kafka.server;

import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Counts the node's Kafka connections against {@link ConnectionLimits}: per client address every connection the
 * node holds, in total those it serves. At {@code max.connections} it closes its accept gate (so new connections
 * wait in the kernel's listen backlog, as with Kafka's acceptor) and opens it again when a served connection
 * closes; a connection that was accepted before the gate closed waits, unread, in arrival order until a slot frees.
 * Thread-safe (connections open and close on different event loops).
 */
final class ConnectionLimiter {
    /** A connection the limiter counts; {@link #serve()} starts reading from it. */
    interface Connection {
        InetAddress address();

        void serve();
    }

    /** What happens to a new connection. */
    enum Admission { SERVED, WAITING, PER_IP_LIMIT }

    private final ConnectionLimits limits;
    private final Consumer<Boolean> acceptGate;
    private final Map<InetAddress, Integer> perIp = new HashMap<>();
    private final ArrayDeque<Connection> waiting = new ArrayDeque<>();
    private int served;

    /** {@code acceptGate.accept(false)} stops accepting connections, {@code accept(true)} resumes. */
    ConnectionLimiter(ConnectionLimits limits, Consumer<Boolean> acceptGate) {
        this.limits = limits;
        this.acceptGate = acceptGate;
    }

    /**
     * Counts a new connection: served at once (the caller reads from it), waiting (the limiter calls
     * {@link Connection#serve()} when a slot frees), or refused because its address is at its bound (not counted; the
     * caller closes it).
     */
    synchronized Admission admit(Connection c) {
        int fromAddress = perIp.getOrDefault(c.address(), 0);
        if (fromAddress >= limits.maxConnections(c.address())) {
            return Admission.PER_IP_LIMIT;
        }
        perIp.put(c.address(), fromAddress + 1);
        if (served >= limits.maxConnections()) {
            waiting.addLast(c);
            return Admission.WAITING;
        }
        serveOne();
        return Admission.SERVED;
    }

    /** An admitted connection closed (served or still waiting). */
    void closed(Connection c) {
        Connection next = null;
        synchronized (this) {
            perIp.computeIfPresent(c.address(), (a, n) -> n == 1 ? null : n - 1);
            if (waiting.remove(c)) {
                return;
            }
            if (served-- == limits.maxConnections()) {
                next = waiting.pollFirst();
                if (next != null) {
                    served++; // the slot passes to the waiting connection; the gate stays closed
                } else {
                    acceptGate.accept(true);
                }
            }
        }
        if (next != null) {
            next.serve();
        }
    }

    private void serveOne() {
        if (++served == limits.maxConnections()) {
            acceptGate.accept(false);
        }
    }

    /** Connections served now. */
    synchronized int served() {
        return served;
    }

    /** Connections accepted and waiting for a slot. */
    synchronized int waiting() {
        return waiting.size();
    }
}
