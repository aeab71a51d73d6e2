package io.fluxmq.raft;

import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raft.partition.ProducerStateTable;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of this node's Raft server and partition storage.
 *
 * @param nodeId             this node's id; its Raft peer id is {@code n<nodeId>}
 * @param raftHost           host the Raft (Ratis Netty) transport binds and advertises
 * @param raftPort           port of the Raft transport
 * @param dataDir            root data directory; Raft storage under {@code raft/}, segments under {@code topics/}
 * @param electionTimeoutMin lower bound of the randomized election timeout
 * @param electionTimeoutMax upper bound of the randomized election timeout
 * @param maxBatchBytes      largest record batch accepted (Kafka's {@code message.max.bytes})
 * @param segment            default segment log settings (topics may override)
 * @param fsync              whether segment data is forced to disk before an entry counts as written
 * @param snapshotEveryEntries Raft entries between automatic snapshots (after which Ratis purges its log)
 * @param raftLogSegmentBytes size of one Ratis log segment; Ratis purges whole closed segments only
 * @param purgeUptoSnapshot  purge the Raft log up to the snapshot even if a follower still needs those entries (it
 *                           then catches up by snapshot installation); false keeps entries for the slowest follower
 * @param producerIdExpirationMs idle time after which a partition forgets an idempotent producer (Kafka's
 *                           {@code producer.id.expiration.ms}); every node must use the same value, since each replica
 *                           expires producers while applying the log and their tables must agree
 * @param writeElementLimit  entries a group's leader holds appended but not yet applied; beyond it Ratis refuses new
 *                           entries (back-pressure, answered REQUEST_TIMED_OUT to producers)
 * @param pauseCloseThreshold a JVM pause (GC, SIGSTOP, {@code docker pause}, a frozen VM) longer than this makes Ratis
 *                           close the Raft server for good ({@link RaftNode#serverClosed()}); the node must then stop
 * @param appendMaxInFlight  entries of one partition that may await their commit at once; batches produced meanwhile
 *                           queue and go to Raft together as one entry when one is answered; 0 turns coalescing off
 *                           (every batch its own entry, any number in flight, Ratis' back-pressure the only bound)
 */
public record RaftNodeConfig(int nodeId, String raftHost, int raftPort, Path dataDir, Duration electionTimeoutMin,
                             Duration electionTimeoutMax, int maxBatchBytes, SegmentLogConfig segment, boolean fsync,
                             long snapshotEveryEntries, long raftLogSegmentBytes, boolean purgeUptoSnapshot,
                             long producerIdExpirationMs, int writeElementLimit, Duration pauseCloseThreshold,
                             int appendMaxInFlight) {
    /** Default of {@link #writeElementLimit()}. */
    public static final int DEFAULT_WRITE_ELEMENT_LIMIT = 16384;
    /** Default of {@link #pauseCloseThreshold()}: Ratis' own (raft.server.close.threshold). */
    public static final Duration DEFAULT_PAUSE_CLOSE_THRESHOLD = Duration.ofSeconds(60);
    /** Default of {@link #appendMaxInFlight()}. */
    public static final int DEFAULT_APPEND_MAX_IN_FLIGHT = 1;

    /**
     * Settings with the default producer id expiration (one day), write element limit, pause close threshold and
     * appends in flight.
     */
    public RaftNodeConfig(int nodeId, String raftHost, int raftPort, Path dataDir, Duration electionTimeoutMin,
                          Duration electionTimeoutMax, int maxBatchBytes, SegmentLogConfig segment, boolean fsync,
                          long snapshotEveryEntries, long raftLogSegmentBytes, boolean purgeUptoSnapshot) {
        this(nodeId, raftHost, raftPort, dataDir, electionTimeoutMin, electionTimeoutMax, maxBatchBytes, segment, fsync,
                snapshotEveryEntries, raftLogSegmentBytes, purgeUptoSnapshot, ProducerStateTable.DEFAULT_EXPIRATION_MS,
                DEFAULT_WRITE_ELEMENT_LIMIT, DEFAULT_PAUSE_CLOSE_THRESHOLD, DEFAULT_APPEND_MAX_IN_FLIGHT);
    }

    public RaftNodeConfig {
        if (appendMaxInFlight < 0) {
            throw new IllegalArgumentException("appendMaxInFlight must be >= 0, got " + appendMaxInFlight);
        }
        if (writeElementLimit < 1) {
            throw new IllegalArgumentException("writeElementLimit must be >= 1, got " + writeElementLimit);
        }
        if (nodeId < 0) {
            throw new IllegalArgumentException("nodeId must be >= 0, got " + nodeId);
        }
        if (raftPort < 0 || raftPort > 65535) {
            throw new IllegalArgumentException("raftPort must be a TCP port, got " + raftPort);
        }
        if (electionTimeoutMin.compareTo(electionTimeoutMax) >= 0) {
            throw new IllegalArgumentException("electionTimeoutMin must be below electionTimeoutMax");
        }
        if (maxBatchBytes < 1024) {
            throw new IllegalArgumentException("maxBatchBytes must be >= 1024, got " + maxBatchBytes);
        }
        if (raftLogSegmentBytes < 1024) {
            throw new IllegalArgumentException("raftLogSegmentBytes must be >= 1024, got " + raftLogSegmentBytes);
        }
        if (producerIdExpirationMs < 1) {
            throw new IllegalArgumentException("producerIdExpirationMs must be >= 1, got " + producerIdExpirationMs);
        }
        if (snapshotEveryEntries < 1) {
            throw new IllegalArgumentException("snapshotEveryEntries must be >= 1");
        }
        if (pauseCloseThreshold.toMillis() < 1000) {
            throw new IllegalArgumentException("pauseCloseThreshold must be >= 1 s, got " + pauseCloseThreshold);
        }
    }
}
