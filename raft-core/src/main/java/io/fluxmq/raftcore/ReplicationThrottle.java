package io.fluxmq.raftcore;

/**
 * A node's bound on the bytes its group leaders send to throttled followers (replicas a reassignment is adding, while
 * they catch up), as Kafka's {@code leader.replication.throttled.rate}: a token bucket refilled at
 * {@code bytesPerSecond} that holds at most one second's worth. An append goes out while the bucket holds anything and
 * is charged whole, so the bucket may run below zero by one append; the rate holds over time. Shared by every group of
 * the node; its rate may change while groups use it ({@link #rate(long, long)}, a dynamic broker config). Thread-safe.
 */
public final class ReplicationThrottle {
    /** No bound: nothing is ever held back. */
    public static final ReplicationThrottle UNLIMITED = new ReplicationThrottle(Long.MAX_VALUE, 0);

    private volatile long bytesPerSecond;
    private long available;
    private long refilledAtMs;

    /** @param nowMs the engine's clock now (the bucket starts full) */
    public ReplicationThrottle(long bytesPerSecond, long nowMs) {
        if (bytesPerSecond < 1) {
            throw new IllegalArgumentException("a replication throttle needs at least 1 byte per second");
        }
        this.bytesPerSecond = bytesPerSecond;
        this.available = bytesPerSecond;
        this.refilledAtMs = nowMs;
    }

    public boolean unlimited() {
        return bytesPerSecond == Long.MAX_VALUE;
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /**
     * Changes the rate ({@link Long#MAX_VALUE}: no bound); the bucket keeps what it holds, up to one second of the new
     * rate.
     */
    public synchronized void rate(long newBytesPerSecond, long nowMs) {
        if (this == UNLIMITED) {
            throw new IllegalStateException("the shared unlimited throttle has no rate to change");
        }
        if (newBytesPerSecond < 1) {
            throw new IllegalArgumentException("a replication throttle needs at least 1 byte per second");
        }
        refill(nowMs);
        bytesPerSecond = newBytesPerSecond;
        available = Math.min(available, newBytesPerSecond);
    }

    /** Whether a throttled follower may be sent an append now. */
    public synchronized boolean mayAppend(long nowMs) {
        if (unlimited()) {
            return true;
        }
        refill(nowMs);
        return available > 0;
    }

    /** Counts an append of {@code bytes} sent to a throttled follower. */
    public synchronized void charge(long bytes, long nowMs) {
        if (unlimited()) {
            return;
        }
        refill(nowMs);
        available -= bytes;
    }

    private void refill(long nowMs) {
        if (nowMs <= refilledAtMs) {
            return;
        }
        double next = available + (double) (nowMs - refilledAtMs) * bytesPerSecond / 1000;
        available = next >= bytesPerSecond ? bytesPerSecond : (long) next;
        refilledAtMs = nowMs;
    }
}
