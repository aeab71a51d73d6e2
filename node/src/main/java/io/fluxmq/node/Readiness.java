package io.fluxmq.node;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code GET /ready} answers: a node is ready once it serves Kafka requests and is caught up with the cluster,
 * that is, its Kafka listener is up, the metadata controller accepted its registration, and its metadata replica has
 * applied a barrier committed after the node started (so it has seen every topic, ACL and membership change made
 * before it came up; a restarted node behind on metadata would otherwise answer Metadata requests from an old view).
 * The barrier is taken once, retried until the metadata group answers. Thread-safe.
 */
final class Readiness {
    private static final Logger LOGGER = LoggerFactory.getLogger(Readiness.class);
    static final long BARRIER_RETRY_MS = 500;

    /** Where start-up stands, in order. */
    enum Stage {
        STARTING("starting"),
        REGISTERING("registering with the metadata controller"),
        CATCHING_UP("catching up with the cluster metadata"),
        READY(null);

        /** What /ready answers with 503, null when ready. */
        final String reason;

        Stage(String reason) {
            this.reason = reason;
        }
    }

    private final int nodeId;
    private final BooleanSupplier registered;
    private volatile boolean listening;
    /** The metadata index the barrier was committed at, once this node's replica applied it; -1 before. */
    private volatile long caughtUpAt = -1;
    private volatile boolean closed;

    /** @param registered whether the controller accepted this node's registration (and has not asked again) */
    Readiness(int nodeId, BooleanSupplier registered) {
        this.nodeId = nodeId;
        this.registered = registered;
    }

    /** The Kafka listener serves. */
    void listening() {
        listening = true;
    }

    Stage stage() {
        if (!listening) {
            return Stage.STARTING;
        }
        if (!registered.getAsBoolean()) {
            return Stage.REGISTERING;
        }
        return caughtUpAt < 0 ? Stage.CATCHING_UP : Stage.READY;
    }

    /** Why the node is not ready, or null when it is. */
    String notReady() {
        return stage().reason;
    }

    /**
     * Commits a barrier to the metadata log and waits for this node's replica to apply it, retrying every
     * {@value #BARRIER_RETRY_MS} ms while the metadata group has no leader or does not answer.
     *
     * @param barrier      commits a barrier; completes with its index
     * @param awaitApplied completes once this node's metadata replica applied the index
     */
    void catchUp(Supplier<CompletableFuture<Long>> barrier, LongFunction<CompletableFuture<Void>> awaitApplied,
                 ScheduledExecutorService retries) {
        if (closed) {
            return;
        }
        barrier.get().thenCompose(index -> awaitApplied.apply(index).thenApply(v -> index))
                .whenComplete((index, e) -> {
                    if (e == null) {
                        caughtUpAt = index;
                        LOGGER.info("Node {} caught up with the cluster metadata (barrier at index {})", nodeId, index);
                    } else if (!closed) {
                        LOGGER.debug("Node {}: metadata barrier failed ({}); retrying", nodeId, e.toString());
                        try {
                            retries.schedule(() -> catchUp(barrier, awaitApplied, retries), BARRIER_RETRY_MS,
                                    TimeUnit.MILLISECONDS);
                        } catch (java.util.concurrent.RejectedExecutionException shutDown) {
                            // the node is closing
                        }
                    }
                });
    }

    /** Stops retrying the barrier. */
    void close() {
        closed = true;
    }
}
