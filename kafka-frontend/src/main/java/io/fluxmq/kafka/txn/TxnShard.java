package io.fluxmq.kafka.txn;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transactional ids of one {@code __transaction_state} partition this node leads, and Kafka's transaction state
 * machine over them (transaction versions 1 and 2: {@link #endTxn} and {@link #endTxnV2}). Every transition is written
 * to the partition first ({@link Writer}) and takes effect, and is answered, only once Raft committed it, so a new
 * leader of the partition that replays it ({@link #replay}) continues from exactly the state clients were told. While a
 * transition of an id is being written, other requests for that id get CONCURRENT_TRANSACTIONS (Kafka's pending state),
 * which clients retry.
 *
 * <p>Commit and abort: EndTxn writes PREPARE_COMMIT or PREPARE_ABORT and answers; then the markers are written to every
 * partition of the transaction ({@link MarkerWriter}, retried until each is written), and COMPLETE_COMMIT or
 * COMPLETE_ABORT is written. A shard loaded with a transaction in a PREPARE state writes its markers again (writing a
 * marker twice is harmless: the second closes no transaction). Time comes in as {@code nowMs}; thread-safe.
 */
public final class TxnShard {
    private static final Logger LOGGER = LoggerFactory.getLogger(TxnShard.class);

    /** Writes a transactional id's new state to the shard's partition; completes once committed. */
    @FunctionalInterface
    public interface Writer {
        CompletableFuture<Void> write(TxnMetadata metadata);
    }

    /** Writes one COMMIT or ABORT marker to a partition (through its leader); completes with the Kafka error. */
    @FunctionalInterface
    public interface MarkerWriter {
        CompletableFuture<Errors> write(TopicPartition tp, long producerId, short epoch, boolean commit,
                                        int coordinatorEpoch);
    }

    public enum Phase { LOADING, ACTIVE, UNLOADED }

    /** InitProducerId's answer. */
    public record InitResult(Errors error, long producerId, short epoch) {
        static InitResult error(Errors error) {
            return new InitResult(error, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH);
        }
    }

    private final int partition;
    private final int leaderEpoch;
    private final Writer writer;
    private final MarkerWriter markers;
    private final Supplier<CompletableFuture<Long>> producerIds;
    /** Runs a marker retry later: (task, delay ms). */
    private final java.util.function.BiConsumer<Runnable, Long> later;
    private final Map<String, TxnMetadata> txns = new HashMap<>();
    /** Transactional ids with a transition being written. */
    private final Set<String> pending = new HashSet<>();
    private volatile Phase phase = Phase.LOADING;

    static final long MARKER_RETRY_MS = 200;

    public TxnShard(int partition, int leaderEpoch, Writer writer, MarkerWriter markers,
                    Supplier<CompletableFuture<Long>> producerIds, java.util.function.BiConsumer<Runnable, Long> later) {
        this.partition = partition;
        this.leaderEpoch = leaderEpoch;
        this.writer = writer;
        this.markers = markers;
        this.producerIds = producerIds;
        this.later = later;
    }

    public int partition() {
        return partition;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    public Phase phase() {
        return phase;
    }

    /** Applies a record read back from the partition while loading: the last record of an id wins. */
    public synchronized void replay(TxnRecords.Entry entry) {
        if (entry.value() == null) {
            txns.remove(entry.transactionalId());
        } else {
            txns.put(entry.transactionalId(), entry.value());
        }
    }

    /** Loading is done: serve requests, and finish the transactions the previous leader left preparing. */
    public void activate() {
        List<TxnMetadata> preparing = new ArrayList<>();
        synchronized (this) {
            phase = Phase.ACTIVE;
            for (TxnMetadata m : txns.values()) {
                if (m.state().preparing()) {
                    pending.add(m.transactionalId());
                    preparing.add(m);
                }
            }
        }
        preparing.forEach(this::writeMarkers);
    }

    public void unload() {
        phase = Phase.UNLOADED;
    }

    /** The state of a transactional id, or null. */
    public synchronized TxnMetadata get(String transactionalId) {
        return txns.get(transactionalId);
    }

    public synchronized Collection<TxnMetadata> all() {
        return List.copyOf(txns.values());
    }

    // ---------------------------------------------------------------- InitProducerId

    /**
     * Transactional InitProducerId (Kafka's {@code handleInitProducerId}): a new id gets a producer id at epoch 0;
     * an id whose transaction is idle gets its epoch bumped (fencing the previous producer); an open transaction is
     * aborted with a bumped epoch first and the caller told CONCURRENT_TRANSACTIONS, so it retries and then gets the
     * next epoch. {@code expectedProducerId}/{@code expectedEpoch} (-1 when absent, KIP-360) must name the current
     * producer id and epoch.
     */
    public CompletableFuture<InitResult> initProducerId(String transactionalId, int timeoutMs, long expectedProducerId,
                                                        short expectedEpoch, long nowMs) {
        TxnMetadata current;
        synchronized (this) {
            if (phase != Phase.ACTIVE) {
                return done(InitResult.error(Errors.NOT_COORDINATOR));
            }
            if (pending.contains(transactionalId)) {
                return done(InitResult.error(Errors.CONCURRENT_TRANSACTIONS));
            }
            current = txns.get(transactionalId);
            if (current != null && expectedProducerId >= 0) {
                if (expectedProducerId != current.producerId()) {
                    return done(InitResult.error(Errors.PRODUCER_FENCED));
                }
                if (expectedEpoch != current.epoch()) {
                    return done(InitResult.error(Errors.PRODUCER_FENCED));
                }
            }
            if (current != null && current.state().preparing()) {
                return done(InitResult.error(Errors.CONCURRENT_TRANSACTIONS));
            }
            pending.add(transactionalId);
        }
        if (current != null && current.state() == TxnState.ONGOING) {
            TxnMetadata fenced = bumped(current, current.producerId(), nowMs).with(TxnState.PREPARE_ABORT, nowMs);
            return writeThen(fenced, false).thenApply(e -> {
                if (e == Errors.NONE) {
                    writeMarkers(fenced);
                }
                return InitResult.error(e == Errors.NONE ? Errors.CONCURRENT_TRANSACTIONS : e);
            });
        }
        CompletableFuture<TxnMetadata> next;
        if (current == null || current.epoch() >= Short.MAX_VALUE - 1) {
            next = producerIds.get().thenApply(id -> current == null
                    ? new TxnMetadata(transactionalId, id, (short) 0, timeoutMs, TxnState.EMPTY, Set.of(), -1, nowMs)
                    : current.withEpoch(id, (short) 0, timeoutMs, nowMs).completed(TxnState.EMPTY, nowMs));
        } else {
            next = CompletableFuture.completedFuture(current
                    .withEpoch(current.producerId(), (short) (current.epoch() + 1), timeoutMs, nowMs)
                    .completed(TxnState.EMPTY, nowMs));
        }
        return next.handle((m, failure) -> {
            if (failure != null) {
                release(transactionalId);
                return done(InitResult.error(Errors.COORDINATOR_NOT_AVAILABLE));
            }
            return writeThen(m, true).thenApply(e -> e == Errors.NONE ? new InitResult(Errors.NONE, m.producerId(),
                    m.epoch()) : InitResult.error(e));
        }).thenCompose(f -> f);
    }

    private static TxnMetadata bumped(TxnMetadata m, long producerId, long nowMs) {
        return m.withEpoch(producerId, (short) (m.epoch() + 1), m.timeoutMs(), nowMs);
    }

    // ---------------------------------------------------------------- AddPartitionsToTxn, EndTxn

    /** Adds partitions to the producer's transaction, opening one when none is open. */
    public CompletableFuture<Errors> addPartitions(String transactionalId, long producerId, short epoch,
                                                   Set<TopicPartition> partitions, long nowMs) {
        TxnMetadata next;
        synchronized (this) {
            Errors error = checkProducer(transactionalId, producerId, epoch);
            if (error != Errors.NONE) {
                return done(error);
            }
            TxnMetadata current = txns.get(transactionalId);
            if (current.state().preparing()) {
                return done(Errors.CONCURRENT_TRANSACTIONS);
            }
            if (current.state() == TxnState.ONGOING && current.partitions().containsAll(partitions)) {
                return done(Errors.NONE);
            }
            next = current.adding(partitions, nowMs);
            pending.add(transactionalId);
        }
        return writeThen(next, true);
    }

    /** Commits or aborts: answers once PREPARE_COMMIT / PREPARE_ABORT is written; markers follow. */
    public CompletableFuture<Errors> endTxn(String transactionalId, long producerId, short epoch, boolean commit,
                                            long nowMs) {
        TxnMetadata next;
        synchronized (this) {
            Errors error = checkProducer(transactionalId, producerId, epoch);
            if (error != Errors.NONE) {
                return done(error);
            }
            TxnMetadata current = txns.get(transactionalId);
            switch (current.state()) {
                case ONGOING -> next = current.with(commit ? TxnState.PREPARE_COMMIT : TxnState.PREPARE_ABORT, nowMs);
                case COMPLETE_COMMIT -> {
                    return done(commit ? Errors.NONE : Errors.INVALID_TXN_STATE);
                }
                case COMPLETE_ABORT -> {
                    return done(commit ? Errors.INVALID_TXN_STATE : Errors.NONE);
                }
                case PREPARE_COMMIT -> {
                    return done(commit ? Errors.CONCURRENT_TRANSACTIONS : Errors.INVALID_TXN_STATE);
                }
                case PREPARE_ABORT -> {
                    return done(commit ? Errors.INVALID_TXN_STATE : Errors.CONCURRENT_TRANSACTIONS);
                }
                default -> {
                    return done(Errors.INVALID_TXN_STATE);
                }
            }
            pending.add(transactionalId);
        }
        TxnMetadata prepared = next;
        return writeThen(prepared, false).thenApply(e -> {
            if (e == Errors.NONE) {
                writeMarkers(prepared);
            }
            return e;
        });
    }

    /** EndTxn's answer under transaction version 2: the producer id and epoch of the producer's next transaction. */
    public record EndResult(Errors error, long producerId, short epoch) {
        static EndResult error(Errors error) {
            return new EndResult(error, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH);
        }
    }

    /**
     * Commits or aborts under transaction version 2 (EndTxn v5+, KIP-890), as Kafka's {@code endTransaction}: every
     * end bumps the epoch, the markers carry the bumped epoch (so a late batch of the ended transaction is refused by
     * the partition instead of opening a transaction nobody ends), and the answer names the producer id and epoch of
     * the next transaction: a new producer id at epoch 0 once the epochs of the current one ran out. An abort needs
     * no open transaction (with none it writes no marker). A retry of an EndTxn already done (its epoch one below the
     * current one, or the last epoch of the previous producer id) gets the same answer again. Answered once the
     * PREPARE state is written; markers follow.
     */
    public CompletableFuture<EndResult> endTxnV2(String transactionalId, long producerId, short epoch, boolean commit,
                                                 long nowMs) {
        TxnMetadata current;
        TxnState prepare = commit ? TxnState.PREPARE_COMMIT : TxnState.PREPARE_ABORT;
        boolean withPartitions;
        synchronized (this) {
            if (phase != Phase.ACTIVE) {
                return done(EndResult.error(Errors.NOT_COORDINATOR));
            }
            current = txns.get(transactionalId);
            if (current == null) {
                return done(EndResult.error(Errors.INVALID_PRODUCER_ID_MAPPING));
            }
            if (pending.contains(transactionalId)) {
                return done(EndResult.error(Errors.CONCURRENT_TRANSACTIONS));
            }
            boolean retryOnOverflow = current.previousProducerId() == producerId
                    && epoch == Short.MAX_VALUE - 1 && current.epoch() == 0;
            boolean retryOnEpochBump = current.producerId() == producerId && current.epoch() == epoch + 1;
            if (current.producerId() != producerId && !retryOnOverflow) {
                return done(EndResult.error(Errors.INVALID_PRODUCER_ID_MAPPING));
            }
            boolean validEpoch = switch (current.state()) {
                case ONGOING, EMPTY -> epoch == current.epoch();
                case PREPARE_COMMIT, PREPARE_ABORT -> retryOnEpochBump;
                case COMPLETE_COMMIT, COMPLETE_ABORT -> retryOnEpochBump || retryOnOverflow
                        || epoch == current.epoch();
            };
            if (!validEpoch) {
                return done(EndResult.error(Errors.PRODUCER_FENCED));
            }
            boolean retry = retryOnEpochBump || retryOnOverflow;
            EndResult again = new EndResult(Errors.NONE, current.producerId(), current.epoch());
            switch (current.state()) {
                case ONGOING -> withPartitions = true;
                case EMPTY -> {
                    if (commit) {
                        return done(EndResult.error(Errors.INVALID_TXN_STATE));
                    }
                    withPartitions = false;
                }
                case COMPLETE_COMMIT -> {
                    if (commit) {
                        return done(retry ? again : EndResult.error(Errors.INVALID_TXN_STATE));
                    }
                    if (retry) {
                        return done(EndResult.error(Errors.INVALID_TXN_STATE));
                    }
                    withPartitions = false;
                }
                case COMPLETE_ABORT -> {
                    if (commit) {
                        return done(EndResult.error(Errors.INVALID_TXN_STATE));
                    }
                    if (retry) {
                        return done(again);
                    }
                    withPartitions = false;
                }
                case PREPARE_COMMIT -> {
                    return done(EndResult.error(commit ? Errors.CONCURRENT_TRANSACTIONS : Errors.INVALID_TXN_STATE));
                }
                case PREPARE_ABORT -> {
                    return done(EndResult.error(commit ? Errors.INVALID_TXN_STATE : Errors.CONCURRENT_TRANSACTIONS));
                }
                default -> throw new IllegalStateException("unknown state " + current.state());
            }
            pending.add(transactionalId);
        }
        boolean exhausted = current.epoch() >= Short.MAX_VALUE - 1;
        CompletableFuture<Long> nextId = exhausted ? producerIds.get() : done(-1L);
        return nextId.handle((next, failure) -> {
            if (failure != null) {
                release(transactionalId);
                return done(EndResult.error(Errors.COORDINATOR_NOT_AVAILABLE));
            }
            TxnMetadata prepared = current.preparedV2(prepare, withPartitions, next, nowMs);
            TxnMetadata completes = prepared.completed(TxnState.COMPLETE_COMMIT, nowMs);
            return writeThen(prepared, false).thenApply(e -> {
                if (e != Errors.NONE) {
                    return EndResult.error(e);
                }
                writeMarkers(prepared);
                return new EndResult(Errors.NONE, completes.producerId(), completes.epoch());
            });
        }).thenCompose(f -> f);
    }

    /** Null-safe producer check under the lock: known id, same producer id, current epoch, no pending transition. */
    private Errors checkProducer(String transactionalId, long producerId, short epoch) {
        if (phase != Phase.ACTIVE) {
            return Errors.NOT_COORDINATOR;
        }
        TxnMetadata current = txns.get(transactionalId);
        if (current == null || current.producerId() != producerId) {
            return Errors.INVALID_PRODUCER_ID_MAPPING;
        }
        if (epoch != current.epoch()) {
            return Errors.PRODUCER_FENCED;
        }
        if (pending.contains(transactionalId)) {
            return Errors.CONCURRENT_TRANSACTIONS;
        }
        return Errors.NONE;
    }

    // ---------------------------------------------------------------- timeouts

    /**
     * Aborts every open transaction older than its timeout, with a bumped epoch so the producer is fenced (Kafka's
     * {@code abortTimedOutTransactions}); returns how many it started aborting.
     */
    public int abortTimedOut(long nowMs) {
        List<TxnMetadata> expired = new ArrayList<>();
        synchronized (this) {
            if (phase != Phase.ACTIVE) {
                return 0;
            }
            for (TxnMetadata m : txns.values()) {
                if (m.state() == TxnState.ONGOING && !pending.contains(m.transactionalId())
                        && m.txnStartMs() >= 0 && nowMs - m.txnStartMs() > m.timeoutMs()) {
                    TxnMetadata aborting = (m.epoch() >= Short.MAX_VALUE - 1 ? m : bumped(m, m.producerId(), nowMs))
                            .with(TxnState.PREPARE_ABORT, nowMs);
                    pending.add(m.transactionalId());
                    expired.add(aborting);
                }
            }
        }
        for (TxnMetadata m : expired) {
            LOGGER.info("Transaction of {} (producer {}) timed out after {} ms; aborting it with epoch {}",
                    m.transactionalId(), m.producerId(), m.timeoutMs(), m.epoch());
            writeThen(m, false).thenAccept(e -> {
                if (e == Errors.NONE) {
                    writeMarkers(m);
                }
            });
        }
        return expired.size();
    }

    // ---------------------------------------------------------------- writes and markers

    /**
     * Writes {@code next}; once committed it becomes the id's state. The id stays pending afterwards unless
     * {@code release} (a prepared transaction stays pending until its markers are written and it completes).
     */
    private CompletableFuture<Errors> writeThen(TxnMetadata next, boolean release) {
        CompletableFuture<Void> written;
        try {
            written = writer.write(next);
        } catch (RuntimeException e) {
            written = CompletableFuture.failedFuture(e);
        }
        return written.handle((ok, failure) -> {
            synchronized (this) {
                if (failure != null || phase != Phase.ACTIVE) {
                    pending.remove(next.transactionalId());
                    if (failure != null) {
                        LOGGER.debug("Writing the state of {} failed: {}", next.transactionalId(), failure.toString());
                    }
                    return Errors.NOT_COORDINATOR;
                }
                txns.put(next.transactionalId(), next);
                if (release) {
                    pending.remove(next.transactionalId());
                }
                return Errors.NONE;
            }
        });
    }

    private synchronized void release(String transactionalId) {
        pending.remove(transactionalId);
    }

    /** Writes the markers of a prepared transaction (retrying each until written), then completes it. */
    private void writeMarkers(TxnMetadata prepared) {
        boolean commit = prepared.state() == TxnState.PREPARE_COMMIT;
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (TopicPartition tp : prepared.partitions()) {
            all.add(writeMarker(tp, prepared, commit, new CompletableFuture<>()));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).whenComplete((ok, failure) -> {
            if (failure != null || phase != Phase.ACTIVE) {
                return; // unloaded: the next leader of this partition finishes the transaction
            }
            TxnMetadata complete = prepared.completed(commit ? TxnState.COMPLETE_COMMIT : TxnState.COMPLETE_ABORT,
                    prepared.lastUpdateMs());
            writeThen(complete, true).thenAccept(e -> {
                if (e != Errors.NONE && phase == Phase.ACTIVE) {
                    synchronized (this) {
                        pending.add(prepared.transactionalId());
                    }
                    later.accept(() -> writeMarkers(prepared), MARKER_RETRY_MS);
                }
            });
        });
    }

    private CompletableFuture<Void> writeMarker(TopicPartition tp, TxnMetadata m, boolean commit,
                                                CompletableFuture<Void> done) {
        if (phase != Phase.ACTIVE) {
            done.completeExceptionally(new IllegalStateException("unloaded"));
            return done;
        }
        CompletableFuture<Errors> attempt;
        try {
            attempt = markers.write(tp, m.producerId(), m.epoch(), commit, leaderEpoch);
        } catch (RuntimeException e) {
            attempt = CompletableFuture.failedFuture(e);
        }
        attempt.whenComplete((error, failure) -> {
            if (failure == null && (error == Errors.NONE || error == Errors.UNKNOWN_TOPIC_OR_PARTITION)) {
                done.complete(null); // written, or the partition is gone with its topic
            } else {
                LOGGER.debug("Marker for {} on {} not written yet: {}", m.transactionalId(), tp,
                        failure != null ? failure.toString() : error);
                later.accept(() -> writeMarker(tp, m, commit, done), MARKER_RETRY_MS);
            }
        });
        return done;
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    /** Whether a transition of the id is being written (tests). */
    synchronized boolean isPending(String transactionalId) {
        return pending.contains(transactionalId);
    }
}
