package io.fluxmq.kafka.broker;

/**
 * The result of moving a partition's leadership to a given replica (see {@link BrokerServices#transferLeader}).
 *
 * @param outcome what happened
 * @param leader  the partition's leader afterwards, -1 when unknown
 * @param message why, for operators; empty when there is nothing to add
 */
public record LeaderTransfer(Outcome outcome, int leader, String message) {

    /** What a transfer did; the Kafka frontend maps it to an ElectLeaders error code. */
    public enum Outcome {
        /** The target now leads. */
        TRANSFERRED,
        /** The target already led; nothing changed. */
        ALREADY_LEADER,
        /** The target is down, does not answer the leader, or lacks part of the leader's log. */
        TARGET_NOT_IN_SYNC,
        /** The target holds no replica of the partition. */
        NOT_A_REPLICA,
        /** No such topic or partition. */
        UNKNOWN_PARTITION,
        /** The partition has no leader that could run the transfer. */
        NO_LEADER,
        /** The transfer was started but did not complete (timeout, election lost). */
        FAILED
    }
}
