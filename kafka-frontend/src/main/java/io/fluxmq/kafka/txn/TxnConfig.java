package io.fluxmq.kafka.txn;

/**
 * Settings of the transaction coordinator, named after Kafka's broker configs.
 *
 * @param stateTopicPartitions        {@code transaction.state.log.num.partitions} (default 3, not Kafka's 50: each
 *                                    partition is a Raft group with its own threads and buffers); fixed once the
 *                                    topic exists
 * @param stateTopicReplicationFactor {@code transaction.state.log.replication.factor}
 * @param maxTimeoutMs                {@code transaction.max.timeout.ms}: the largest {@code transaction.timeout.ms}
 *                                    a producer may ask for (default 900000)
 * @param abortCheckIntervalMs        {@code transaction.abort.timed.out.transaction.cleanup.interval.ms}: how often
 *                                    open transactions are checked against their timeout (default 10000)
 * @param stateTopicSegmentBytes      {@code transaction.state.log.segment.bytes}
 * @param transactionVersion          the {@code transaction.version} feature level ApiVersions reports finalized
 *                                    (default 2, as a new Kafka 4 cluster): at 2 Kafka 4 clients use transaction
 *                                    version 2 (KIP-890: an epoch bump per transaction, partitions added by their
 *                                    leaders), at 1 or 0 the classic protocol; the same on every node
 */
public record TxnConfig(int stateTopicPartitions, short stateTopicReplicationFactor, int maxTimeoutMs,
                        long abortCheckIntervalMs, int stateTopicSegmentBytes, short transactionVersion) {
    public static final int DEFAULT_STATE_TOPIC_PARTITIONS = 3;
    public static final int DEFAULT_MAX_TIMEOUT_MS = 900_000;
    public static final long DEFAULT_ABORT_CHECK_INTERVAL_MS = 10_000;
    /** Kafka's default {@code transaction.state.log.segment.bytes}, 100 MiB. */
    public static final int DEFAULT_STATE_TOPIC_SEGMENT_BYTES = 100 * 1024 * 1024;
    /** The highest {@code transaction.version} FluxMQ serves, and its default. */
    public static final short MAX_TRANSACTION_VERSION = 2;

    public TxnConfig {
        if (stateTopicPartitions < 1) {
            throw new IllegalArgumentException("transaction.state.log.num.partitions must be at least 1");
        }
        if (maxTimeoutMs < 1 || abortCheckIntervalMs < 1) {
            throw new IllegalArgumentException("transaction.max.timeout.ms and "
                    + "transaction.abort.timed.out.transaction.cleanup.interval.ms must be at least 1");
        }
        if (stateTopicSegmentBytes < 1) {
            throw new IllegalArgumentException("transaction.state.log.segment.bytes must be at least 1");
        }
        if (transactionVersion < 0 || transactionVersion > MAX_TRANSACTION_VERSION) {
            throw new IllegalArgumentException("transaction.version must be 0, 1 or 2, got " + transactionVersion);
        }
    }

    public static TxnConfig defaults() {
        return new TxnConfig(DEFAULT_STATE_TOPIC_PARTITIONS, (short) 1, DEFAULT_MAX_TIMEOUT_MS,
                DEFAULT_ABORT_CHECK_INTERVAL_MS, DEFAULT_STATE_TOPIC_SEGMENT_BYTES, MAX_TRANSACTION_VERSION);
    }
}
