package io.fluxmq.raft.partition;

/** Why a partition operation failed. The Kafka frontend maps each to a Kafka error code in one place. */
public enum PartitionError {
    NOT_LEADER,
    LEADER_NOT_READY,
    CORRUPT_BATCH,
    INVALID_BATCH,
    BATCH_TOO_LARGE,
    OUT_OF_ORDER_SEQUENCE,
    INVALID_PRODUCER_EPOCH,
    OFFSET_OUT_OF_RANGE,
    TIMEOUT,
    /** Raft refused the entry for now (too many pending entries or bytes): nothing was appended, a retry may pass. */
    BUSY,
    STORAGE_ERROR,
    UNKNOWN
}
