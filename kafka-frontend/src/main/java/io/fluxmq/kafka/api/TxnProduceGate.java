package io.fluxmq.kafka.api;

import io.fluxmq.kafka.txn.TxnPartitions;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;

/**
 * Transaction version 2 on the produce path (Produce v12+, KIP-890): the producer no longer sends AddPartitionsToTxn,
 * so the leader adds the partition to the transaction at its coordinator before it appends the first transactional
 * batch of a producer epoch there, as Kafka's {@code ReplicaManager} does through its {@code
 * AddPartitionsToTxnManager}. A batch of an epoch whose transaction ended is refused by the partition itself (the
 * markers carry the next epoch), so a leader remembers which producer epochs it has added to each partition and asks
 * the coordinator once per transaction and partition, not per batch.
 *
 * <p>While a partition's addition is outstanding, later appends to that partition wait behind it, so appends reach the
 * partition in the order their requests arrived. CONCURRENT_TRANSACTIONS (the previous transaction's markers still
 * being written) is retried every {@value #RETRY_BACKOFF_MS} ms for up to {@value #RETRY_MAX_MS} ms (Kafka's {@code
 * add.partitions.to.txn.retry.backoff.ms} and {@code .max.ms}), then answered; the coordinator's other errors are
 * answered as Kafka answers them. Thread-safe.
 */
final class TxnProduceGate {
    static final long RETRY_BACKOFF_MS = 20;
    static final long RETRY_MAX_MS = 100;
    /** Producer epochs remembered per node before the memory is dropped (it is only a saving of calls). */
    private static final int MAX_REMEMBERED = 100_000;
    private static final CompletableFuture<Errors> NO_GATE = CompletableFuture.completedFuture(Errors.NONE);

    private record Key(TopicPartition tp, long producerId) {}

    private final TxnPartitions partitions;
    private final Map<Key, Short> added = new ConcurrentHashMap<>();
    /** Per partition: completes once every gated append handed in so far has been submitted. */
    private final Map<TopicPartition, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();

    TxnProduceGate(TxnPartitions partitions) {
        this.partitions = partitions;
    }

    /** Whether this node already added the partition to the producer's transaction at this epoch. */
    boolean added(TopicPartition tp, long producerId, short epoch) {
        Short known = added.get(new Key(tp, producerId));
        return known != null && known == epoch;
    }

    /**
     * Adds the partitions to the transaction; completes with the error to answer for them: NONE, or Kafka's mapping of
     * the coordinator's error (never exceptionally).
     */
    CompletableFuture<Errors> add(String transactionalId, long producerId, short epoch, Set<TopicPartition> tps) {
        return attempt(transactionalId, producerId, epoch, tps, System.nanoTime()).thenApply(error -> {
            if (error == Errors.NONE) {
                if (added.size() >= MAX_REMEMBERED) {
                    added.clear();
                }
                tps.forEach(tp -> added.put(new Key(tp, producerId), epoch));
            }
            return error;
        });
    }

    private CompletableFuture<Errors> attempt(String transactionalId, long producerId, short epoch,
                                              Set<TopicPartition> tps, long startNanos) {
        CompletableFuture<Errors> answer;
        try {
            answer = partitions.add(transactionalId, producerId, epoch, tps);
        } catch (RuntimeException e) {
            answer = CompletableFuture.completedFuture(Errors.NOT_COORDINATOR);
        }
        return answer.handle((error, failure) -> failure != null ? Errors.NOT_COORDINATOR : error)
                .thenCompose(error -> {
                    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
                    if (error == Errors.CONCURRENT_TRANSACTIONS && elapsedMs + RETRY_BACKOFF_MS <= RETRY_MAX_MS) {
                        return CompletableFuture.supplyAsync(() -> null,
                                        CompletableFuture.delayedExecutor(RETRY_BACKOFF_MS, TimeUnit.MILLISECONDS))
                                .thenCompose(x -> attempt(transactionalId, producerId, epoch, tps, startNanos));
                    }
                    return CompletableFuture.completedFuture(error);
                });
    }

    /**
     * The exception a produce partition is answered with when adding it failed, as Kafka's {@code ReplicaManager}
     * translates the coordinator's errors: an unreachable coordinator becomes NOT_ENOUGH_REPLICAS (retried by every
     * client without a metadata refresh), a fenced producer INVALID_PRODUCER_EPOCH.
     */
    static RuntimeException failure(Errors error) {
        return switch (error) {
            case INVALID_TXN_STATE -> error.exception("Partition was not added to the transaction");
            case NETWORK_EXCEPTION, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR ->
                    Errors.NOT_ENOUGH_REPLICAS.exception("Unable to verify the partition has been added to the "
                            + "transaction. Underlying error: " + error);
            case PRODUCER_FENCED -> Errors.INVALID_PRODUCER_EPOCH.exception();
            default -> error.exception();
        };
    }

    /**
     * Runs {@code submit} (which hands an append to the partition's executor) once {@code gate} completed and every
     * gated append of the partition handed in before it was submitted; with nothing outstanding and no gate, at once.
     */
    <T> CompletableFuture<T> inOrder(TopicPartition tp, CompletableFuture<Errors> gate,
                                     Supplier<CompletableFuture<T>> submit) {
        if (gate == null && !tails.containsKey(tp)) {
            return submit.get();
        }
        CompletableFuture<Errors> waitFor = gate == null ? NO_GATE : gate;
        CompletableFuture<CompletableFuture<T>> submitted = new CompletableFuture<>();
        CompletableFuture<Void> tail = tails.compute(tp, (k, previous) -> {
            CompletableFuture<?> prior = previous == null ? waitFor : CompletableFuture.allOf(previous, waitFor);
            return prior.handle((x, e) -> null).thenRun(() -> {
                try {
                    submitted.complete(submit.get());
                } catch (RuntimeException e) {
                    submitted.complete(CompletableFuture.failedFuture(e));
                }
            });
        });
        tail.whenComplete((x, e) -> tails.remove(tp, tail));
        return submitted.thenCompose(f -> f);
    }
}
