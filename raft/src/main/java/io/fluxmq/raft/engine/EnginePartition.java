package io.fluxmq.raft.engine;

import io.fluxmq.raft.log.CleanResult;
import io.fluxmq.raft.log.CompactionPolicy;
import io.fluxmq.raft.log.LogCleaner;
import io.fluxmq.raft.log.OffsetOutOfRangeException;
import io.fluxmq.raft.log.SegmentLog;
import io.fluxmq.raft.log.TimestampAndOffset;
import io.fluxmq.raft.partition.AppendResult;
import io.fluxmq.raft.partition.EntryHeader;
import io.fluxmq.raft.partition.CommitLatencies;
import io.fluxmq.raft.partition.Partition;
import io.fluxmq.raft.partition.PartitionError;
import io.fluxmq.raft.partition.PartitionException;
import io.fluxmq.raft.partition.PartitionReplica;
import io.fluxmq.raft.partition.ProducerState;
import io.fluxmq.raft.partition.ProducerStateTable;
import io.fluxmq.raft.partition.TxnIndex;
import io.fluxmq.raftcore.NotLeaderException;
import io.fluxmq.raftcore.RaftGroup;
import io.fluxmq.raftcore.RaftLog;
import io.fluxmq.raftcore.Snapshot;
import io.fluxmq.raftcore.engine.CommitListener;
import io.fluxmq.raftcore.engine.RaftEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A partition replica on FluxMQ's own multi-Raft (docs/adr/0003): one group of a {@link RaftEngine} whose log is the
 * partition's segment log ({@link SegmentRaftLog}), so a produced batch is written once, as the Raft entry itself.
 *
 * <p><b>Append.</b> The batch is checked (size, CRC, magic) on the caller's thread; producer state is checked and the
 * offsets assigned on the group's event loop, in the {@link RaftEngine.Proposal} that makes the entry, so offsets
 * follow log order without a lock of this class: the leader's view of producer state (the committed table plus every
 * entry of its log past the high watermark, rebuilt from the log whenever the term changes) is only touched there.
 * The log stamps the base offset and the term (the leader epoch) into its copy of the batch. A duplicate of an
 * idempotent batch still in the log completes with the original's offset once that is committed.
 *
 * <p><b>Apply.</b> {@link #committed} runs on the loop: it reads the committed batches' headers back from the segment
 * log (they are in the page cache) and records them in the committed producer table and the transaction index, then
 * moves the high watermark and tells its listeners. Leader changes and voter sets are control batches of the same log
 * (consumers skip them); they advance offsets like Kafka's KRaft log.
 *
 * <p><b>Append time.</b> Producer-id expiry runs on a clock carried by the log ({@link ProducerStateTable}); on this
 * engine the entry is the client's batch alone, so that clock is the batches' max timestamp (CreateTime unless the
 * topic stamps LogAppendTime), not the leader's wall clock as on Ratis, where each entry carries one.
 *
 * <p><b>Retention</b> compacts the Raft log to a segment boundary; the partition's state as of each segment's base
 * offset is kept (serialized when applied) so the Raft snapshot carries exactly the state as of the new log start,
 * and a follower installing it, or this replica restarting, starts from it.
 *
 * <p><b>DeleteRecords</b> ({@link #advanceLogStart}) moves Kafka's log start, which may lie inside a segment or even
 * inside a batch, while the Raft log keeps its entries (followers may still need them): the leader proposes a
 * {@link LogStartRecord} entry, and every replica that applies it raises its log start; reads below answer
 * OFFSET_OUT_OF_RANGE. Replaying the log after a restart applies it again, and the partition state kept in the Raft
 * snapshot carries it too. Retention then compacts the Raft log to the last segment boundary at or below it, which
 * deletes the whole segments below. Thread-safe.
 */
public final class EnginePartition implements Partition, CommitListener {
    private static final Logger LOGGER = LoggerFactory.getLogger(EnginePartition.class);

    private final TopicPartition topicPartition;
    private final long groupId;
    private final RaftEngine engine;
    private final SegmentRaftLog raftLog;
    private final SegmentLog segments;
    private final int maxBatchBytes;
    private final long producerIdExpirationMs;

    // Owned by the group's loop thread; committedProducers is written there under this lock (activeProducers).
    private ProducerStateTable committedProducers;
    /** The leader's producer state: the committed table plus its log past the high watermark; null when stale. */
    private LeaderView view;
    /** The term this node last became leader in, and the log end then: once committed, the leader may serve. */
    private long leaderTerm = -1;
    private long readyAt = Long.MAX_VALUE;

    private record LeaderView(long term, ProducerStateTable producers) {}

    /**
     * The partition's state (producers, transactions, leader epochs) as of each segment's base offset above the log
     * start, serialized when the entries up to it were applied: what a compaction to that offset keeps in the Raft
     * snapshot. Written on the loop, read by {@link #enforceRetention} on any thread.
     */
    private final java.util.concurrent.ConcurrentSkipListMap<Long, byte[]> boundaryStates =
        new java.util.concurrent.ConcurrentSkipListMap<>();
    private static final int STATE_MAGIC = 0x464c5845;
    /** Version 2 adds the log start DeleteRecords set; version 1 is still read. */
    private static final short STATE_VERSION = 2;

    // Read by any thread.
    private volatile long highWatermark;
    private volatile long lastStableOffset;
    /** The log start DeleteRecords moved to (applied {@link LogStartRecord}s); the segment log may start below. */
    private volatile long deletedBelow;
    private volatile int epoch = -1;
    private volatile int leader = RaftGroup.NO_LEADER;
    /** The last leader this replica knew and its term, kept while an election runs (the leader is then unknown). */
    private volatile LastLeader lastLeader = new LastLeader(RaftGroup.NO_LEADER, -1);

    /** A leader and the term it led. */
    public record LastLeader(int id, int term) {}
    private volatile boolean leaderReady;
    private volatile Throwable failure;
    /** On the leader, the members in sync as the leader of a term computed them (refreshed by {@link EnginePartitions}). */
    private volatile InSync inSync = new InSync(List.of(), -1);
    /** On the leader, offsets each follower trails its log end (refreshed with {@link #inSync}); empty elsewhere. */
    private volatile Map<Integer, Long> followerLag = Map.of();
    /** Leadership transfers started here, waiting to see the target lead. */
    private final TransferWaits transfers;
    /** Told the term each time this replica becomes the ready leader (on the loop thread; must not block). */
    private volatile java.util.function.IntConsumer leaderReadyListener = term -> { };
    /** Takes the time from each proposal here to its commit, in nanoseconds (on the loop thread; must not block). */
    private volatile LongConsumer commitLatency = nanos -> { };
    private final CommitLatencies latencies = new CommitLatencies();
    /** Told the group's committed voters (on the loop thread; must not block). */
    private volatile Consumer<Set<Integer>> votersListener = voters -> { };
    /** Open and aborted transactions of committed entries, and the first offset of each committed epoch; guarded by this. */
    private TxnIndex txnIndex = new TxnIndex();
    private final TreeMap<Integer, Long> epochStarts = new TreeMap<>();
    private final List<LongConsumer> highWatermarkListeners = new CopyOnWriteArrayList<>();
    /** Duplicates waiting for their original's commit; guarded by itself. */
    private final List<DuplicateWait> duplicates = new ArrayList<>();

    private record DuplicateWait(long endOffset, CompletableFuture<AppendResult> result, long baseOffset) {}

    /** How long a write waits for an election this replica is part of before NOT_LEADER (see {@link #propose}). */
    static final long LEADER_WAIT_MS = 5_000;
    /** Writes that came while no leader was known, oldest first; the lock orders them before later writes. */
    private final java.util.ArrayDeque<AwaitingLeader> awaitingLeader = new java.util.ArrayDeque<>();
    /** Whether {@link #awaitingLeader} may hold writes (set and cleared under its lock), so the usual write skips it. */
    private volatile boolean writesAwaitLeader;

    private record AwaitingLeader(MemoryRecords records, MutableRecordBatch batch,
                                  CompletableFuture<AppendResult> result) {}

    /** Thrown inside a proposal for a batch already in the log; never leaves this class. */
    private static final class Duplicate extends RuntimeException {
        final ProducerStateTable.BatchMetadata original;

        Duplicate(ProducerStateTable.BatchMetadata original) {
            super(null, null, false, false);
            this.original = original;
        }
    }

    /**
     * A replica over {@code raftLog}, to be given to {@link RaftEngine#addGroup} as the group's log and listener
     * ({@link #commitOffsetToStartFrom()} as the commit offset): it replays the log from its start as the group learns
     * what is committed.
     */
    public EnginePartition(TopicPartition topicPartition, long groupId, RaftEngine engine, SegmentRaftLog raftLog,
                           int maxBatchBytes, long producerIdExpirationMs) {
        this.topicPartition = topicPartition;
        this.groupId = groupId;
        this.engine = engine;
        this.raftLog = raftLog;
        this.segments = raftLog.segmentLog();
        this.maxBatchBytes = maxBatchBytes;
        this.producerIdExpirationMs = producerIdExpirationMs;
        this.transfers = new TransferWaits(engine.nodeId());
        this.committedProducers = new ProducerStateTable(producerIdExpirationMs);
        this.highWatermark = raftLog.startOffset();
        this.lastStableOffset = highWatermark;
        restore(raftLog.snapshot());
    }

    /** Takes the state a snapshot carries (empty data: nothing to restore). */
    private void restore(Snapshot snapshot) {
        ByteBuffer data = snapshot.data().duplicate();
        if (!data.hasRemaining()) {
            return;
        }
        try {
            java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(
                toArray(data)));
            if (in.readInt() != STATE_MAGIC) {
                throw new java.io.IOException("not a partition state");
            }
            short version = in.readShort();
            if (version != 1 && version != STATE_VERSION) {
                throw new java.io.IOException("unknown partition state version " + version);
            }
            ProducerStateTable producers = ProducerStateTable.readFrom(in, ProducerStateTable.FORMAT_V2,
                producerIdExpirationMs);
            TxnIndex txns = TxnIndex.readFrom(in);
            int epochs = in.readInt();
            TreeMap<Integer, Long> starts = new TreeMap<>();
            for (int i = 0; i < epochs; i++) {
                starts.put(in.readInt(), in.readLong());
            }
            long logStart = version >= 2 ? in.readLong() : 0;
            deletedBelow = Math.max(deletedBelow, logStart);
            synchronized (this) {
                committedProducers = producers;
                txnIndex = txns;
                epochStarts.clear();
                epochStarts.putAll(starts);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(topicPartition + ": the Raft snapshot's state cannot be read", e);
        }
    }

    private static byte[] toArray(ByteBuffer data) {
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        return bytes;
    }

    /** The state as of the entries applied so far; loop thread. */
    private byte[] serializeState() {
        try {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
            out.writeInt(STATE_MAGIC);
            out.writeShort(STATE_VERSION);
            committedProducers.writeTo(out);
            synchronized (this) {
                txnIndex.writeTo(out);
                out.writeInt(epochStarts.size());
                for (Map.Entry<Integer, Long> e : epochStarts.entrySet()) {
                    out.writeInt(e.getKey());
                    out.writeLong(e.getValue());
                }
            }
            out.writeLong(deletedBelow);
            out.flush();
            return bytes.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a byte array does not fail
        }
    }

    /** Where the group starts applying: the log start (everything after it is replayed once committed). */
    public long commitOffsetToStartFrom() {
        return raftLog.startOffset();
    }

    public long groupId() {
        return groupId;
    }

    /** The leader this replica knows of, or {@link RaftGroup#NO_LEADER}. */
    public int leader() {
        return leader;
    }

    /** The last leader known here and its term: the current one, or the one before an election now running. */
    public LastLeader lastLeader() {
        return lastLeader;
    }

    @Override
    public TopicPartition topicPartition() {
        return topicPartition;
    }

    @Override
    public CompletableFuture<AppendResult> append(MemoryRecords records) {
        MutableRecordBatch batch;
        try {
            batch = PartitionReplica.validate(records, maxBatchBytes);
        } catch (PartitionException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (batch.isControlBatch()) {
            return CompletableFuture.failedFuture(new PartitionException(PartitionError.INVALID_BATCH,
                "clients may not write control batches"));
        }
        return propose(records, batch);
    }

    @Override
    public CompletableFuture<AppendResult> appendMarker(long producerId, short producerEpoch, boolean commit,
                                                        int coordinatorEpoch) {
        MemoryRecords records = MemoryRecords.withEndTransactionMarker(System.currentTimeMillis(), producerId,
            producerEpoch, new EndTransactionMarker(commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
                coordinatorEpoch));
        return propose(records, records.batches().iterator().next());
    }

    /** The append time a batch's header carries here: its max timestamp; none for control batches. */
    private static long appendTime(RecordBatch batch) {
        return batch.isControlBatch() ? RecordBatch.NO_TIMESTAMP : batch.maxTimestamp();
    }

    /**
     * Proposes the batch now, or, while this replica knows no leader (an election is running: a new partition's first
     * one, or after its leader's node failed), once one is known: a write that came in the meantime is then proposed
     * in arrival order, after the earlier ones, and taken if this replica won. Refusing it at once would let a later
     * write of the same producer, sent before the refusal came back, be taken by the leader this replica becomes a
     * moment later: a new idempotent producer's batch 1 accepted without its batch 0, which the producer then retries
     * into OUT_OF_ORDER_SEQUENCE until its delivery timeout. Waits at most {@link #LEADER_WAIT_MS}.
     */
    private CompletableFuture<AppendResult> propose(MemoryRecords records, MutableRecordBatch batch) {
        if (leader != RaftGroup.NO_LEADER && !writesAwaitLeader) {
            return proposeNow(records, batch); // the usual case: no lock
        }
        synchronized (awaitingLeader) {
            while (!awaitingLeader.isEmpty() && awaitingLeader.peek().result().isDone()) {
                awaitingLeader.poll(); // timed out, oldest first: nothing held for a leader that never comes
            }
            writesAwaitLeader = !awaitingLeader.isEmpty();
            if ((leader == RaftGroup.NO_LEADER && failure == null) || !awaitingLeader.isEmpty()) {
                CompletableFuture<AppendResult> result = new CompletableFuture<>();
                awaitingLeader.add(new AwaitingLeader(records, batch, result));
                writesAwaitLeader = true;
                CompletableFuture.delayedExecutor(LEADER_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
                    .execute(() -> result.completeExceptionally(new CompletionException(new PartitionException(
                        PartitionError.NOT_LEADER, "no leader of " + topicPartition + " was elected within "
                        + LEADER_WAIT_MS + " ms"))));
                return result;
            }
        }
        return proposeNow(records, batch);
    }

    /** Proposes the writes that waited for a leader, in arrival order (those that timed out meanwhile are dropped). */
    private void proposeAwaitingLeader() {
        synchronized (awaitingLeader) {
            for (AwaitingLeader waiting; (waiting = awaitingLeader.poll()) != null; ) {
                if (waiting.result().isDone()) {
                    continue;
                }
                CompletableFuture<AppendResult> result = waiting.result();
                proposeNow(waiting.records(), waiting.batch()).whenComplete((appended, error) -> {
                    if (error == null) {
                        result.complete(appended);
                    } else {
                        result.completeExceptionally(error);
                    }
                });
            }
            writesAwaitLeader = false;
        }
    }

    private CompletableFuture<AppendResult> proposeNow(MemoryRecords records, MutableRecordBatch batch) {
        int count = (int) (batch.lastOffset() - batch.baseOffset() + 1);
        int bytes = records.sizeInBytes();
        EntryHeader unplaced = EntryHeader.of(batch, bytes, appendTime(batch));
        CompletableFuture<AppendResult> result = new CompletableFuture<>();
        long proposed = System.nanoTime();
        engine.propose(groupId, new RaftEngine.Proposal() {
            @Override
            public int count() {
                return count;
            }

            @Override
            public ByteBuffer prepare(long term, long baseOffset) {
                ProducerStateTable producers = leaderView(term);
                if (unplaced.idempotent()) {
                    ProducerStateTable.Check check = producers.check(unplaced);
                    if (check instanceof ProducerStateTable.Check.Duplicate duplicate) {
                        throw new Duplicate(duplicate.original());
                    }
                    if (check instanceof ProducerStateTable.Check.Reject reject) {
                        throw new PartitionException(reject.error(), reject.message());
                    }
                }
                producers.record(new EntryHeader(baseOffset, baseOffset + count - 1, unplaced.maxTimestamp(),
                    unplaced.producerId(), unplaced.producerEpoch(), unplaced.baseSequence(), unplaced.lastSequence(),
                    bytes, unplaced.appendTimeMs(), unplaced.txn()));
                return records.buffer().duplicate();
            }
        }).whenComplete((base, error) -> {
            if (error == null) {
                result.complete(new AppendResult(base, logStartOffset()));
                long took = System.nanoTime() - proposed;
                latencies.record(took);
                commitLatency.accept(took); // after: a recorder that throws loses no answer
                return;
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null
                ? error.getCause() : error;
            if (cause instanceof Duplicate duplicate) {
                awaitCommitted(duplicate.original, result);
            } else {
                result.completeExceptionally(new CompletionException(translate(cause)));
            }
        });
        return result;
    }

    /** The leader's producer table for {@code term}, rebuilt from the committed one and the log past it. Loop thread. */
    private ProducerStateTable leaderView(long term) {
        if (view != null && view.term() == term) {
            return view.producers();
        }
        ProducerStateTable producers = committedProducers.copy();
        forEachBatch(highWatermark, raftLog.endOffset(), batch ->
            producers.record(EntryHeader.of(batch, batch.sizeInBytes(), appendTime(batch))));
        view = new LeaderView(term, producers);
        return producers;
    }

    /** Completes {@code result} with the original's offsets once the high watermark passes it. */
    private void awaitCommitted(ProducerStateTable.BatchMetadata original, CompletableFuture<AppendResult> result) {
        long end = original.lastOffset() + 1;
        synchronized (duplicates) {
            if (highWatermark < end) {
                duplicates.add(new DuplicateWait(end, result, original.baseOffset()));
                return;
            }
        }
        result.complete(new AppendResult(original.baseOffset(), logStartOffset()));
    }

    private void settleDuplicates(boolean stillLeading) {
        List<DuplicateWait> done = new ArrayList<>();
        List<DuplicateWait> failed = new ArrayList<>();
        synchronized (duplicates) {
            for (Iterator<DuplicateWait> it = duplicates.iterator(); it.hasNext(); ) {
                DuplicateWait wait = it.next();
                if (wait.endOffset() <= highWatermark) {
                    done.add(wait);
                    it.remove();
                } else if (!stillLeading) {
                    failed.add(wait);
                    it.remove();
                }
            }
        }
        for (DuplicateWait wait : done) {
            wait.result().complete(new AppendResult(wait.baseOffset(), logStartOffset()));
        }
        for (DuplicateWait wait : failed) {
            wait.result().completeExceptionally(new CompletionException(new PartitionException(
                PartitionError.NOT_LEADER, "this node stopped leading " + topicPartition
                + " before the original of a duplicate batch was committed")));
        }
    }

    static PartitionException translate(Throwable cause) {
        if (cause instanceof PartitionException pe) {
            return pe;
        }
        if (cause instanceof NotLeaderException) {
            return new PartitionException(PartitionError.NOT_LEADER, cause.getMessage());
        }
        if (cause instanceof UncheckedIOException || cause instanceof java.io.IOException) {
            // an append that did not fit, or the node's write-ahead log failing (a full disk): answered
            // KAFKA_STORAGE_ERROR, which producers retry after refreshing metadata, as with a failed Kafka log dir
            return new PartitionException(PartitionError.STORAGE_ERROR, cause.getMessage(), cause);
        }
        if (cause instanceof IllegalStateException) { // the group is not (or no longer) hosted on this node
            return new PartitionException(PartitionError.NOT_LEADER, cause.getMessage());
        }
        return new PartitionException(PartitionError.UNKNOWN, String.valueOf(cause.getMessage()), cause);
    }

    /** Calls {@code action} with every batch in {@code [from, to)} of the segment log, in order. */
    private void forEachBatch(long from, long to, java.util.function.Consumer<RecordBatch> action) {
        long next = from;
        while (next < to) {
            MemoryRecords chunk = segments.read(next, 1 << 20, to, true);
            long before = next;
            for (RecordBatch batch : chunk.batches()) {
                if (batch.baseOffset() >= to) {
                    break;
                }
                action.accept(batch);
                next = batch.nextOffset();
            }
            if (next == before) {
                throw new IllegalStateException(topicPartition + ": no batch at offset " + next + " below " + to);
            }
        }
    }

    // CommitListener: the group's loop thread.

    @Override
    public void committed(long group, RaftLog log, long fromOffset, long toOffset) {
        long[] bases = segments.segmentBaseOffsets(); // one small array per commit, not per batch
        long logStart = segments.logStartOffset();
        forEachBatch(fromOffset, toOffset, batch -> {
            long base = batch.baseOffset();
            if (base > logStart && java.util.Arrays.binarySearch(bases, base) >= 0) {
                boundaryStates.put(base, serializeState()); // the state as of this segment's start
            }
            long deleteBelow = LogStartRecord.logStartOf(batch);
            if (deleteBelow > deletedBelow) {
                deletedBelow = Math.min(deleteBelow, base); // proposed at most the high watermark, below the entry
            }
            EntryHeader header = EntryHeader.of(batch, batch.sizeInBytes(), appendTime(batch));
            synchronized (this) {
                committedProducers.record(header);
                txnIndex.record(header);
                int batchEpoch = batch.partitionLeaderEpoch();
                if (epochStarts.isEmpty() || epochStarts.lastKey() < batchEpoch) {
                    epochStarts.put(batchEpoch, base);
                }
            }
        });
        synchronized (this) {
            lastStableOffset = txnIndex.lastStableOffset(toOffset);
            highWatermark = toOffset;
        }
        if (leaderTerm == epoch && toOffset >= readyAt && !leaderReady) {
            becameReady();
        }
        settleDuplicates(leaderTerm >= 0);
        for (LongConsumer listener : highWatermarkListeners) {
            listener.accept(toOffset);
        }
    }

    @Override
    public void roleChanged(long group, RaftGroup.Role role, long term, int leaderId) {
        epoch = (int) term;
        leader = leaderId;
        if (leaderId != RaftGroup.NO_LEADER) {
            lastLeader = new LastLeader(leaderId, (int) term);
        }
        if (leaderId != RaftGroup.NO_LEADER) {
            proposeAwaitingLeader();
        }
        transfers.leaderKnown(leaderId);
        if (role == RaftGroup.Role.LEADER) {
            if (leaderTerm != term) {
                // Leading again without having been told of the terms between (one loop pass saw them all): the
                // originals duplicates wait for may have been replaced meanwhile, as when it was told it follows.
                settleDuplicates(false);
                leaderTerm = term;
                readyAt = raftLog.endOffset(); // past the entry that opened the term
                leaderReady = false;
                if (highWatermark >= readyAt) {
                    becameReady();
                }
            }
        } else {
            leaderTerm = -1;
            readyAt = Long.MAX_VALUE;
            leaderReady = false;
            view = null;
            settleDuplicates(false);
        }
    }

    private void becameReady() {
        leaderReady = true;
        try {
            leaderReadyListener.accept(epoch);
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(EnginePartition.class).warn("Leader-ready listener of {} failed",
                topicPartition, e);
        }
    }

    /** Told the term on the loop thread whenever this replica becomes the ready leader; must not block. */
    public void setLeaderReadyListener(java.util.function.IntConsumer listener) {
        this.leaderReadyListener = listener;
    }

    /**
     * Starts handing this partition's leadership to node {@code target} (a voter); proposals are refused until it
     * finished or gave up (an election timeout). Fails with NOT_LEADER when this replica does not lead.
     */
    public CompletableFuture<Void> transferLeadership(int target) {
        return engine.transferLeadership(groupId, target).exceptionallyCompose(e -> CompletableFuture.failedFuture(
            new CompletionException(translate(e instanceof CompletionException && e.getCause() != null
                ? e.getCause() : e))));
    }

    /**
     * Holds this replica's appends, while it leads, to {@code followers} (node ids a reassignment adds) to the node's
     * replication throttle until they catch up; an empty set lifts it.
     */
    public CompletableFuture<Void> throttleFollowers(Set<Integer> followers) {
        return engine.throttleFollowers(groupId, followers);
    }

    /** The group's voters as this member knows them (its log's latest configuration) and whether that is committed. */
    public record Voters(Set<Integer> voters, boolean committed) {
    }

    /** The voters of this replica's group as its member here knows them; null once the group is gone from the node. */
    public CompletableFuture<Voters> voters() {
        return engine.inspect(groupId, raft -> new Voters(Set.copyOf(raft.voters()),
            raft.configurationCommitted()));
    }

    /** On the leader, whether node {@code member}'s replica holds every committed entry; false elsewhere. */
    public CompletableFuture<Boolean> caughtUp(int member) {
        return engine.inspect(groupId, raft -> raft.caughtUp(member)).thenApply(Boolean.TRUE::equals);
    }

    /**
     * Changes this replica's group to {@code newVoters} (node ids; one added or removed, Raft's single-server change)
     * through this leader; completes once the change is committed. Fails with NOT_LEADER when this replica does not
     * lead, or with {@link IllegalStateException} while another change is in flight or this leader has not committed
     * an entry of its term yet (retry).
     */
    public CompletableFuture<Void> changeVoters(Set<Integer> newVoters) {
        return engine.changeVoters(groupId, newVoters).<Void>thenApply(offset -> null).exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            return CompletableFuture.failedFuture(cause instanceof NotLeaderException
                ? new CompletionException(translate(cause)) : cause);
        });
    }

    @Override
    public void votersCommitted(long group, Set<Integer> voters) {
        votersListener.accept(voters);
    }

    /** Told the committed voters on the loop thread when the group starts here and after each change; must not block. */
    void setVotersListener(Consumer<Set<Integer>> listener) {
        this.votersListener = listener;
    }

    /**
     * Hands this partition's leadership to node {@code target} and completes with whether the target leads within
     * {@code timeoutMs} (false: the transfer gave up, another member won, or the time ran out). Fails with NOT_LEADER
     * when this replica does not lead.
     */
    public CompletableFuture<Boolean> transferLeadership(int target, long timeoutMs) {
        CompletableFuture<Boolean> moved = transfers.await(target, timeoutMs);
        transferLeadership(target).whenComplete((v, e) -> {
            if (e != null) {
                moved.completeExceptionally(e);
            } else if (leader == target) {
                moved.complete(true);
            }
        });
        return moved;
    }

    /** On the leader, offsets each follower's log trails the leader's end, by node; empty elsewhere. */
    public Map<Integer, Long> followerLag() {
        return leaderReady ? followerLag : Map.of();
    }

    void setFollowerLag(Map<Integer, Long> lags) {
        followerLag = Map.copyOf(lags);
    }

    /**
     * This replica's view of its group for operators ({@code fluxmq-admin raft status}), read on the group's loop.
     * Positions are offsets: commit, applied and last are log end offsets (exclusive), the snapshot index the Raft
     * log's start (-1 while nothing was compacted).
     */
    public CompletableFuture<io.fluxmq.raft.partition.GroupStatus> groupStatus() {
        return engine.inspect(groupId, raft -> EngineGroupStatus.of(raft, this, engine.nodeId(), engine.nowMs()));
    }

    /**
     * The group stopped on this node (its storage failed; see {@code GroupFailureListener}): the replica is offline,
     * leads nothing and answers duplicates no more. Called on the loop thread.
     */
    void groupFailed(Throwable cause) {
        failure = cause;
        leaderReady = false;
        leaderTerm = -1;
        view = null;
        settleDuplicates(false);
        proposeAwaitingLeader(); // refused at once: the group is no longer hosted here
    }

    /**
     * On the leader, the replicas in sync (Kafka's ISR: holding every committed entry now or within the replica lag
     * time, on a node not reported down), as last refreshed; empty on followers, and on a leader whose term has not
     * been refreshed yet (up to {@link EnginePartitions}' refresh interval after it took over: a set computed in an
     * earlier leadership of this replica is never answered).
     */
    public List<Integer> inSync() {
        InSync last = inSync;
        return leaderReady && last.term() == epoch ? last.members() : List.of();
    }

    @Override
    public CommitLatencies commitLatencies() {
        return latencies;
    }

    /** Where the time from each proposal here to its commit goes, in nanoseconds (on the loop thread). */
    public void setCommitLatencyRecorder(LongConsumer nanos) {
        this.commitLatency = nanos;
    }

    /** The in-sync set the leader of {@code term} computed. */
    void setInSync(List<Integer> members, long term) {
        inSync = new InSync(List.copyOf(members), term);
    }

    private record InSync(List<Integer> members, long term) {}

    /** Why the replica is offline, or null while it runs. */
    public Throwable failure() {
        return failure;
    }

    @Override
    public void snapshotInstalled(long group, RaftLog log, Snapshot snapshot) {
        view = null;
        boundaryStates.clear();
        synchronized (this) {
            committedProducers = new ProducerStateTable(producerIdExpirationMs);
            txnIndex = new TxnIndex();
            epochStarts.clear();
        }
        restore(snapshot);
        synchronized (this) {
            highWatermark = snapshot.offset();
            lastStableOffset = txnIndex.lastStableOffset(snapshot.offset());
        }
        // Same words as on Ratis: operators (and LongOutageIT) look for the line whichever engine runs.
        LOGGER.info("Partition {} installed snapshot from the leader: the log now starts at offset {} (term {}, "
                + "voters {})", topicPartition, snapshot.offset(), snapshot.term(), snapshot.voters());
    }

    // Reads: any thread.

    @Override
    public MemoryRecords read(long offset, int maxBytes, boolean minOneBatch) {
        return read(offset, maxBytes, minOneBatch, Long.MAX_VALUE);
    }

    @Override
    public MemoryRecords read(long offset, int maxBytes, boolean minOneBatch, long upTo) {
        long start = logStartOffset();
        if (offset < start) {
            throw new PartitionException(PartitionError.OFFSET_OUT_OF_RANGE,
                "offset " + offset + " is below the log start " + start);
        }
        long hw = highWatermark;
        if (offset > hw) {
            throw new PartitionException(PartitionError.OFFSET_OUT_OF_RANGE,
                "offset " + offset + " is beyond the high watermark " + hw);
        }
        long limit = Math.min(upTo, hw);
        if (offset >= limit) {
            return MemoryRecords.EMPTY;
        }
        try {
            return segments.read(offset, maxBytes, limit, minOneBatch);
        } catch (OffsetOutOfRangeException e) {
            throw new PartitionException(PartitionError.OFFSET_OUT_OF_RANGE, e.getMessage());
        }
    }

    @Override
    public long lastStableOffset() {
        return lastStableOffset;
    }

    @Override
    public synchronized List<TxnIndex.AbortedTxn> abortedTransactions(long from, long to) {
        return txnIndex.aborted(from, to);
    }

    @Override
    public synchronized List<ProducerState> activeProducers() {
        return ProducerState.of(committedProducers, txnIndex);
    }

    /** Open transactions of the committed entries: producer id to first offset. */
    public synchronized Map<Long, Long> openTransactions() {
        return txnIndex.open();
    }

    @Override
    public long[] endOffsetForEpoch(int requested) {
        int current = epoch;
        if (requested > current) {
            return new long[] {-1, -1};
        }
        if (requested == current) {
            return new long[] {current, highWatermark};
        }
        synchronized (this) {
            Map.Entry<Integer, Long> floor = epochStarts.floorEntry(requested);
            if (floor == null) {
                return new long[] {-1, -1};
            }
            Map.Entry<Integer, Long> next = epochStarts.higherEntry(floor.getKey());
            return new long[] {floor.getKey(), next == null ? highWatermark : next.getValue()};
        }
    }

    /**
     * Retention on this replica (every replica runs it on its own clock, as Kafka's do): whole segments below the
     * high watermark past {@code retentionMs} or beyond {@code retentionBytes} leave the Raft log by a compaction
     * whose snapshot keeps the partition's state as of the new log start (a follower that needs entries from below
     * it installs that). Completes with the log start.
     */
    @Override
    public CompletableFuture<Long> enforceRetention(long retentionMs, long retentionBytes) {
        long current = segments.logStartOffset();
        long point;
        try {
            point = Math.max(segments.retentionPoint(retentionMs, retentionBytes, highWatermark),
                segmentBaseAtOrBelow(Math.min(deletedBelow, highWatermark)));
        } catch (java.io.IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (point <= current) {
            return CompletableFuture.completedFuture(logStartOffset());
        }
        return compactTo(point).thenApply(v -> logStartOffset());
    }

    /**
     * {@code fluxmq-admin raft snapshot} on this engine, where the segment log is the Raft log and its snapshot is the
     * log start: compacts the Raft log to the last segment boundary at or below the log start DeleteRecords set, so
     * only whole segments no consumer can read any more go (retention compacts on its own, {@link #enforceRetention}).
     * Completes with the snapshot index afterwards as {@link #groupStatus} reports it: the Raft log's start, -1 while
     * nothing was compacted; unchanged when no whole segment lies below that log start.
     */
    public CompletableFuture<Long> takeSnapshot() {
        long point = segmentBaseAtOrBelow(Math.min(deletedBelow, highWatermark));
        CompletableFuture<Void> compacted = point > segments.logStartOffset() ? compactTo(point)
            : CompletableFuture.completedFuture(null);
        return compacted.thenApply(v -> snapshotIndex());
    }

    /** The Raft log's start, -1 while nothing was compacted (the snapshot index of {@link #groupStatus}). */
    public long snapshotIndex() {
        long start = raftLog.startOffset();
        return start > 0 ? start : -1;
    }

    /**
     * Compacts the Raft log to the segment boundary {@code point} with the partition's state as of it; completes at
     * once when that state is not known (not a boundary above the log start).
     */
    private CompletableFuture<Void> compactTo(long point) {
        byte[] state = boundaryStates.get(point);
        if (state == null) {
            return CompletableFuture.completedFuture(null);
        }
        return engine.compact(groupId, point, ByteBuffer.wrap(state)).thenRun(() -> {
            boundaryStates.headMap(point, true).clear();
            synchronized (this) {
                txnIndex.trimBelow(point);
                Integer containing = null; // the epoch the new log start is in: kept, the ones before it go
                for (Map.Entry<Integer, Long> e : epochStarts.entrySet()) {
                    if (e.getValue() <= point) {
                        containing = e.getKey();
                    }
                }
                if (containing != null) {
                    epochStarts.headMap(containing, false).clear();
                }
            }
        });
    }

    /**
     * Cleans this replica's own sealed segments below its last stable offset (committed as this replica knows it, so
     * never truncated by Raft, and past every open transaction), keeping every batch, an emptied one as an empty batch:
     * each batch is a Raft entry, whose offset range and term stay as they were (docs/storage.md, Compaction). Runs on
     * the cleaner thread; the swap takes the segment log's lock, which the group's loop takes for every write, and
     * {@link SegmentRaftLog}'s term cache and configuration entries stay valid since neither boundaries nor terms move.
     */
    @Override
    public CleanResult compact(LogCleaner cleaner, CompactionPolicy policy) throws IOException, InterruptedException {
        return cleaner.clean(segments, Math.min(lastStableOffset, highWatermark), policy, LogCleaner.EmptyBatches.KEEP);
    }

    /** The base of the last segment starting at or below {@code offset}: whole segments below it may go. */
    private long segmentBaseAtOrBelow(long offset) {
        long[] bases = segments.segmentBaseOffsets();
        long found = -1;
        for (long base : bases) {
            if (base > offset) {
                break;
            }
            found = base;
        }
        return found;
    }

    /**
     * DeleteRecords: moves the log start of every replica to {@code offset} (at most the high watermark) by a
     * {@link LogStartRecord} entry through the group; completes with the log start once that entry is committed and
     * applied here (Kafka's low watermark). An offset at or below the log start changes nothing. Fails with
     * OFFSET_OUT_OF_RANGE beyond the high watermark, NOT_LEADER when this replica does not lead.
     */
    @Override
    public CompletableFuture<Long> advanceLogStart(long offset) {
        long hw = highWatermark;
        if (offset > hw) {
            return CompletableFuture.failedFuture(new PartitionException(PartitionError.OFFSET_OUT_OF_RANGE,
                "log start " + offset + " beyond the high watermark " + hw));
        }
        if (offset <= logStartOffset()) {
            return CompletableFuture.completedFuture(logStartOffset());
        }
        if (!leaderReady) {
            return CompletableFuture.failedFuture(new PartitionException(PartitionError.NOT_LEADER,
                "this node does not lead " + topicPartition));
        }
        MemoryRecords records = LogStartRecord.batch(offset);
        return propose(records, records.batches().iterator().next()).thenApply(appended -> logStartOffset());
    }

    @Override
    public long highWatermark() {
        return highWatermark;
    }

    @Override
    public long logStartOffset() {
        return Math.max(deletedBelow, segments.logStartOffset());
    }

    /**
     * The first record at or after the log start with a timestamp at least {@code timestamp}, as Kafka's (which
     * searches from its log start): with the log start inside a segment, records below it are passed over.
     */
    @Override
    public Optional<TimestampAndOffset> offsetForTimestamp(long timestamp) {
        long hw = highWatermark;
        Optional<TimestampAndOffset> found = segments.offsetForTimestamp(timestamp, hw);
        long start = logStartOffset();
        if (found.isEmpty() || found.get().offset() >= start) {
            return found;
        }
        long next = start;
        while (next < hw) {
            MemoryRecords chunk;
            try {
                chunk = segments.read(next, 1 << 20, hw, true);
            } catch (OffsetOutOfRangeException e) {
                return Optional.empty(); // retention moved the start meanwhile
            }
            long before = next;
            for (RecordBatch batch : chunk.batches()) {
                next = batch.nextOffset();
                if (batch.isControlBatch() || batch.maxTimestamp() < timestamp) {
                    continue;
                }
                for (Record record : batch) {
                    if (record.offset() >= start && record.timestamp() >= timestamp) {
                        return Optional.of(new TimestampAndOffset(record.timestamp(), record.offset(),
                            batch.partitionLeaderEpoch()));
                    }
                }
            }
            if (next == before) {
                break;
            }
        }
        return Optional.empty();
    }

    @Override
    public Optional<TimestampAndOffset> maxTimestamp() {
        return segments.maxTimestamp(highWatermark);
    }

    @Override
    public boolean isLeader() {
        return leaderReady;
    }

    @Override
    public int leaderEpoch() {
        return epoch;
    }

    @Override
    public void addHighWatermarkListener(LongConsumer listener) {
        highWatermarkListeners.add(listener);
    }

    @Override
    public void removeHighWatermarkListener(LongConsumer listener) {
        highWatermarkListeners.remove(listener);
    }

    @Override
    public long logSizeBytes() {
        return segments.sizeInBytes();
    }

    @Override
    public int logSegmentCount() {
        return segments.segmentCount();
    }
}
