package io.fluxmq.raft.log;

/**
 * A record located by timestamp.
 *
 * @param timestamp   the record's timestamp (log-append time for {@code LOG_APPEND_TIME} batches)
 * @param offset      the record's offset
 * @param leaderEpoch the partition leader epoch stamped on the record's batch, or -1 when none was stamped
 */
public record TimestampAndOffset(long timestamp, long offset, int leaderEpoch) {
}
