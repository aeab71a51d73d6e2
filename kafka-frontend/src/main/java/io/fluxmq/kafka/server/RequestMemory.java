package io.fluxmq.kafka.server;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node's bound on memory held by Kafka requests, Kafka's {@code queued.max.request.bytes}: every byte read from
 * a client connection counts from the moment it is read until the request it belongs to has been answered (or its
 * connection closed). Bytes already read cannot be refused, so the read that crosses the bound is accounted and its
 * connection then stops reading until enough is released; other connections stop as their next read arrives. What
 * the node holds in requests therefore stays below the bound plus one socket read per connection.
 *
 * <p>Unlike Kafka, which reserves a request's declared size before reading it, only bytes that have arrived count:
 * a client that declares a 100 MB frame and stalls holds what it sent, not 100 MB, and cannot starve the others by
 * declaring. Thread-safe.
 */
public final class RequestMemory {
    /** Kafka's name; -1 (or 0) means unbounded. */
    public static final String KEY = "queued.max.request.bytes";
    /** Default of {@link #KEY}: 256 MiB (Kafka's default is unbounded; see docs/security.md). */
    public static final long DEFAULT = 256L << 20;

    private final long limit;
    private final AtomicLong used = new AtomicLong();
    private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

    /** A bound of {@code limit} bytes; {@code limit <= 0} is unbounded (nothing pauses). */
    public RequestMemory(long limit) {
        this.limit = limit <= 0 ? Long.MAX_VALUE : limit;
    }

    /** Accounts {@code bytes} just read; false when the node is now over its bound (the reader should pause). */
    boolean take(long bytes) {
        return used.addAndGet(bytes) <= limit;
    }

    /** Gives back {@code bytes}; wakes every paused reader once the node is within its bound again. */
    void release(long bytes) {
        if (used.addAndGet(-bytes) <= limit) {
            wakeAll();
        }
    }

    /** Runs {@code wake} (on the caller's or a releasing thread) once the node is within its bound. */
    void await(Runnable wake) {
        waiting.add(wake);
        if (used.get() <= limit) { // released between take() and here
            wakeAll();
        }
    }

    private void wakeAll() {
        Runnable wake;
        while ((wake = waiting.poll()) != null) {
            wake.run();
        }
    }

    /** Bytes held by requests now. */
    public long used() {
        return used.get();
    }

    public long limit() {
        return limit;
    }
}
