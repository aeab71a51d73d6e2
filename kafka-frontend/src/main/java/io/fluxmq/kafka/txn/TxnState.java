package io.fluxmq.kafka.txn;

import java.util.Optional;
import java.util.Set;

/**
 * The states of a transactional id at its coordinator, as Kafka's {@code TransactionState}:
 * {@code EMPTY → ONGOING → PREPARE_COMMIT → COMPLETE_COMMIT} (or {@code PREPARE_ABORT → COMPLETE_ABORT}), and from
 * a completed state back to {@code ONGOING} with the next transaction. A {@code PREPARE_*} state means the outcome is
 * decided and written; the markers are being written to the transaction's partitions.
 */
public enum TxnState {
    EMPTY(0), ONGOING(1), PREPARE_COMMIT(2), PREPARE_ABORT(3), COMPLETE_COMMIT(4), COMPLETE_ABORT(5);

    private final byte code;

    TxnState(int code) {
        this.code = (byte) code;
    }

    public byte code() {
        return code;
    }

    public static TxnState of(byte code) {
        for (TxnState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown transaction state " + code);
    }

    /** Whether the outcome is decided and markers are being written. */
    public boolean preparing() {
        return this == PREPARE_COMMIT || this == PREPARE_ABORT;
    }

    /** Whether no transaction is open: a new one may start, and InitProducerId may bump the epoch at once. */
    public boolean idle() {
        return this == EMPTY || this == COMPLETE_COMMIT || this == COMPLETE_ABORT;
    }

    /** Kafka's state names FluxMQ never holds (its DEAD and PREPARE_EPOCH_FENCE): a filter on them is not unknown. */
    private static final Set<String> OTHER_KAFKA_NAMES = Set.of("Dead", "PrepareEpochFence");

    /** The state Kafka names {@code name} (as ListTransactions' state filters name states), if FluxMQ has it. */
    public static Optional<TxnState> ofKafkaName(String name) {
        for (TxnState s : values()) {
            if (s.kafkaName().equals(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** Whether Kafka's transaction coordinator knows a state by this name (ListTransactions' unknown state filters). */
    public static boolean isKafkaName(String name) {
        return ofKafkaName(name).isPresent() || OTHER_KAFKA_NAMES.contains(name);
    }

    /** Kafka's name of the state, as DescribeTransactions and ListTransactions report it. */
    public String kafkaName() {
        return switch (this) {
            case EMPTY -> "Empty";
            case ONGOING -> "Ongoing";
            case PREPARE_COMMIT -> "PrepareCommit";
            case PREPARE_ABORT -> "PrepareAbort";
            case COMPLETE_COMMIT -> "CompleteCommit";
            case COMPLETE_ABORT -> "CompleteAbort";
        };
    }
}
