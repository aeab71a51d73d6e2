package io.fluxmq.kafka.broker;

import io.fluxmq.raft.partition.PartitionError;
import io.fluxmq.raft.partition.PartitionException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.protocol.Errors;

/** The one place where FluxMQ's layer errors become Kafka error codes. */
public final class KafkaErrors {
    private static final org.slf4j.Logger LOGGER = org.slf4j.LoggerFactory.getLogger(KafkaErrors.class);

    private KafkaErrors() {
    }

    public static Errors of(PartitionError error) {
        return switch (error) {
            case NOT_LEADER -> Errors.NOT_LEADER_OR_FOLLOWER;
            case LEADER_NOT_READY -> Errors.NOT_LEADER_OR_FOLLOWER;
            case CORRUPT_BATCH -> Errors.CORRUPT_MESSAGE;
            case INVALID_BATCH -> Errors.INVALID_RECORD;
            case BATCH_TOO_LARGE -> Errors.MESSAGE_TOO_LARGE;
            case OUT_OF_ORDER_SEQUENCE -> Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
            case INVALID_PRODUCER_EPOCH -> Errors.INVALID_PRODUCER_EPOCH;
            case OFFSET_OUT_OF_RANGE -> Errors.OFFSET_OUT_OF_RANGE;
            case TIMEOUT -> Errors.REQUEST_TIMED_OUT;
            // Raft back-pressure. REQUEST_TIMED_OUT is retriable in every client (Java: a RetriableException, retried
            // within delivery.timeout.ms; idempotent producers keep their sequence) and does not make the client drop
            // its metadata, which is right: the leader is where the client thinks. NOT_ENOUGH_REPLICAS would tell the
            // operator replicas are missing, NOT_LEADER_OR_FOLLOWER would send the client to look for another leader.
            case BUSY -> Errors.REQUEST_TIMED_OUT;
            case STORAGE_ERROR -> Errors.KAFKA_STORAGE_ERROR;
            case UNKNOWN -> Errors.UNKNOWN_SERVER_ERROR;
        };
    }

    /** Maps any failure of a partition or admin operation. */
    public static Errors of(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof PartitionException pe) {
            return of(pe.error());
        }
        if (cause instanceof AdminException ae) {
            return ae.error();
        }
        if (cause instanceof TimeoutException) {
            return Errors.REQUEST_TIMED_OUT;
        }
        Errors error = Errors.forException(cause);
        if (error == Errors.UNKNOWN_SERVER_ERROR) {
            LOGGER.error("Unexpected failure answered with UNKNOWN_SERVER_ERROR", cause);
        }
        return error;
    }

    /**
     * Maps a failed write to {@code __consumer_offsets} as Kafka's group coordinator does: a lost leadership is
     * NOT_COORDINATOR (the client looks the coordinator up again), an unavailable partition COORDINATOR_NOT_AVAILABLE,
     * an oversized batch INVALID_COMMIT_OFFSET_SIZE.
     */
    public static Errors ofCoordinatorWrite(Throwable failure) {
        Errors error = of(failure);
        return switch (error) {
            case NOT_LEADER_OR_FOLLOWER, NOT_COORDINATOR -> Errors.NOT_COORDINATOR;
            case UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, KAFKA_STORAGE_ERROR ->
                    Errors.COORDINATOR_NOT_AVAILABLE;
            case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_RECORD, CORRUPT_MESSAGE ->
                    Errors.INVALID_COMMIT_OFFSET_SIZE;
            default -> error;
        };
    }

    public static String message(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getMessage();
    }
}
