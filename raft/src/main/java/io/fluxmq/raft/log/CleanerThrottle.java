package io.fluxmq.raft.log;

import java.util.function.LongSupplier;

/**
 * Keeps the cleaner's disk traffic under a rate (Kafka's {@code log.cleaner.io.max.bytes.per.second}): after each
 * chunk of reads and writes it reports, the cleaner sleeps for as long as it ran ahead of the rate. Idle time earns
 * at most one second of credit (the count restarts when the cleaner fell more than a second behind the rate). A rate of {@code Long.MAX_VALUE} (or below 1) does not throttle.
 *
 * <p>Thread-safe (synchronized); meant for the one cleaner thread of a node.
 */
public final class CleanerThrottle {

    /** How the throttle waits; tests pass one that advances a fake clock. */
    @FunctionalInterface
    public interface Sleeper {
        void sleepNanos(long nanos) throws InterruptedException;
    }

    private final long bytesPerSecond;
    private final LongSupplier nanoClock;
    private final Sleeper sleeper;
    private long startNanos;
    private long bytes;

    public CleanerThrottle(long bytesPerSecond, LongSupplier nanoClock, Sleeper sleeper) {
        this.bytesPerSecond = bytesPerSecond;
        this.nanoClock = nanoClock;
        this.sleeper = sleeper;
        this.startNanos = nanoClock.getAsLong();
    }

    public static CleanerThrottle unlimited() {
        return new CleanerThrottle(Long.MAX_VALUE, System::nanoTime, n -> { });
    }

    public static CleanerThrottle of(long bytesPerSecond) {
        return new CleanerThrottle(bytesPerSecond, System::nanoTime,
            n -> java.util.concurrent.TimeUnit.NANOSECONDS.sleep(n));
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Counts {@code n} bytes read or written and sleeps if the cleaner is ahead of the rate. */
    public synchronized void acquire(long n) throws InterruptedException {
        if (bytesPerSecond < 1 || bytesPerSecond == Long.MAX_VALUE) {
            return;
        }
        long now = nanoClock.getAsLong();
        if (now - startNanos - (long) (bytes * 1e9 / bytesPerSecond) > 1_000_000_000L) {
            startNanos = now;
            bytes = 0;
        }
        bytes += n;
        long dueNanos = (long) (bytes * 1e9 / bytesPerSecond);
        long elapsed = now - startNanos;
        if (dueNanos > elapsed) {
            sleeper.sleepNanos(dueNanos - elapsed);
        }
    }
}
