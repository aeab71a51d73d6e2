package io.fluxmq.raft.partition;

import io.fluxmq.raft.log.CleanResult;
import io.fluxmq.raft.log.CompactionPolicy;
import io.fluxmq.raft.log.LogCleaner;
import io.fluxmq.raft.log.OffsetOutOfRangeException;
import io.fluxmq.raft.log.TimestampAndOffset;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * This node's replica of one partition: the produce and fetch entry points over the partition's Raft group.
 *
 * <p>Appends are serialized per partition by {@link #appendLock}: under it the leader checks producer state, assigns
 * the base offset (end of its Raft log, uncommitted entries included), stamps offset and leader epoch (the Raft term)
 * into the batch header and hands the entry to Ratis, so offsets follow log order exactly. The future completes once
 * the entry is committed and applied. Thread-safe.
 */
public final class PartitionReplica implements Partition {
    private final TopicPartition topicPartition;
    private final RaftGroupId groupId;
    private final RaftServer server;
    private final PartitionStateMachine stateMachine;
    private final int maxBatchBytes;
    /** Wall clock stamped into each entry as its append time (the log's clock for producer expiry). */
    private final LongSupplier clock;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private final Object appendLock = new Object();
    /** Leader-side view: next offset and producer state including appended but uncommitted entries. */
    private volatile LeaderView leaderView;
    /**
     * Bumped (without the lock) when an append failed or a retried batch's original turned out uncommitted: the leader
     * view may then count entries that never made it, and the next append rebuilds it. Callbacks must not take
     * {@link #appendLock}: Ratis completes replies on threads that hold its server lock (e.g. while stepping down),
     * and an append holding appendLock waits for that lock inside submitClientRequestAsync — a deadlock seen in
     * FailoverIT.
     */
    private final AtomicLong viewInvalidations = new AtomicLong();
    /** The value of {@link #viewInvalidations} the current leader view was built at; guarded by appendLock. */
    private long viewBuiltAt;

    private record LeaderView(long term, long nextOffset, ProducerStateTable producers) {}

    /**
     * Idempotent batches Ratis refused at submission (back-pressure), by producer id, in the term they were refused;
     * guarded by appendLock. Until the refused batch comes back, a later batch of the same producer epoch is refused
     * as OUT_OF_ORDER_SEQUENCE: otherwise a producer the leader has no state for (which may start at any sequence)
     * would get its second in-flight batch written before its first, and the retried first could then never be
     * written (RaftBackPressureIT found producers stuck until their delivery timeout).
     */
    private final Map<Long, Refused> refused = new HashMap<>();

    private record Refused(long term, short epoch, int baseSequence) {}

    private static final int MAX_REFUSED_PRODUCERS = 10_000;

    /** A stamped batch waiting to be proposed, alone or with others queued behind the same entry in flight. */
    private record Pending(long term, EntryHeader header, MemoryRecords records,
                           CompletableFuture<AppendResult> result) {}

    /** Stamped batches not yet proposed, in offset order; guarded by appendLock. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    /** The size of {@link #pending}, readable without the lock. */
    private final AtomicInteger queued = new AtomicInteger();
    /** Entries proposed and not yet answered by Ratis. */
    private final AtomicInteger inFlight = new AtomicInteger();
    /**
     * Entries of this partition that may await their commit at once before further batches queue and are coalesced
     * into one entry; 0 turns coalescing off (every batch its own entry, no limit in flight).
     */
    private final int maxInFlight;
    /** Proposes queued batches when an entry is answered (Ratis' reply threads must not take appendLock). */
    private final Executor proposer = ForkJoinPool.commonPool();
    /** Given the nanoseconds from submitting each entry to Raft until it was committed and applied here. */
    private volatile LongConsumer commitLatency = nanos -> { };
    private final CommitLatencies latencies = new CommitLatencies();

    public PartitionReplica(TopicPartition topicPartition, RaftGroupId groupId, RaftServer server,
                            PartitionStateMachine stateMachine, int maxBatchBytes, int maxInFlight) {
        this(topicPartition, groupId, server, stateMachine, maxBatchBytes, maxInFlight, System::currentTimeMillis);
    }

    public PartitionReplica(TopicPartition topicPartition, RaftGroupId groupId, RaftServer server,
                            PartitionStateMachine stateMachine, int maxBatchBytes, int maxInFlight, LongSupplier clock) {
        this.maxInFlight = maxInFlight;
        this.clock = clock;
        this.topicPartition = topicPartition;
        this.groupId = groupId;
        this.server = server;
        this.stateMachine = stateMachine;
        this.maxBatchBytes = maxBatchBytes;
    }

    @Override
    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public RaftGroupId groupId() {
        return groupId;
    }

    /**
     * Appends one record batch (magic v2). Completes with the assigned base offset once the batch is committed, or
     * exceptionally with a {@link PartitionException}.
     */
    @Override
    public CompletableFuture<AppendResult> append(MemoryRecords records) {
        MutableRecordBatch batch;
        try {
            batch = validate(records, maxBatchBytes);
        } catch (PartitionException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (batch.isControlBatch()) {
            return CompletableFuture.failedFuture(new PartitionException(PartitionError.INVALID_BATCH,
                    "clients may not write control batches"));
        }
        return append(records, batch, batch.isTransactional() ? EntryHeader.TXN_DATA : EntryHeader.TXN_NONE);
    }

    /**
     * Writes a transaction marker (Kafka's EndTransactionMarker control batch) for producer {@code producerId} at
     * {@code producerEpoch}: COMMIT when {@code commit}, else ABORT. Completes once committed; a marker with an epoch
     * older than the producer's fails with INVALID_PRODUCER_EPOCH, a newer one fences the producer's older epochs.
     */
    @Override
    public CompletableFuture<AppendResult> appendMarker(long producerId, short producerEpoch, boolean commit,
                                                        int coordinatorEpoch) {
        MemoryRecords records = MemoryRecords.withEndTransactionMarker(clock.getAsLong(), producerId, producerEpoch,
                new EndTransactionMarker(commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
                        coordinatorEpoch));
        MutableRecordBatch batch = records.batches().iterator().next();
        return append(records, batch, commit ? EntryHeader.TXN_COMMIT : EntryHeader.TXN_ABORT);
    }

    private CompletableFuture<AppendResult> append(MemoryRecords records, MutableRecordBatch batch, byte txn) {
        synchronized (appendLock) {
            RaftServer.Division division;
            try {
                division = server.getDivision(groupId);
            } catch (IOException e) {
                return CompletableFuture.failedFuture(notLeader("group not open: " + e.getMessage()));
            }
            if (!division.getInfo().isLeader()) {
                dropLeaderViewLocked("this node no longer leads " + topicPartition);
                return CompletableFuture.failedFuture(notLeader("this node does not lead " + topicPartition));
            }
            long term = division.getInfo().getCurrentTerm();
            LeaderView view = leaderView;
            long invalidations = viewInvalidations.get();
            if (view == null || view.term() != term || invalidations != viewBuiltAt) {
                dropLeaderViewLocked("the leader's view of " + topicPartition + " is rebuilt");
                try {
                    viewBuiltAt = invalidations;
                    view = buildLeaderView(division, term);
                } catch (IOException e) {
                    return CompletableFuture.failedFuture(new PartitionException(PartitionError.LEADER_NOT_READY,
                            "cannot read the Raft log of " + topicPartition, e));
                }
            }
            EntryHeader proposed = EntryHeader.of(batch, records.sizeInBytes(), RecordBatch.NO_TIMESTAMP, txn);
            if (proposed.idempotent()) {
                PartitionException outOfTurn = checkRefused(proposed, term);
                if (outOfTurn != null) {
                    leaderView = view;
                    return CompletableFuture.failedFuture(outOfTurn);
                }
                ProducerStateTable.Check check = view.producers().check(proposed);
                if (check instanceof ProducerStateTable.Check.Duplicate duplicate) {
                    leaderView = view;
                    return awaitCommitted(proposed.producerId(), proposed.producerEpoch(), duplicate.original());
                }
                if (check instanceof ProducerStateTable.Check.Reject reject) {
                    leaderView = view;
                    return CompletableFuture.failedFuture(new PartitionException(reject.error(), reject.message()));
                }
            }
            long lastOffset = view.nextOffset() + (batch.lastOffset() - batch.baseOffset());
            batch.setLastOffset(lastOffset);
            batch.setPartitionLeaderEpoch((int) term);
            EntryHeader header = EntryHeader.of(batch, records.sizeInBytes(), clock.getAsLong(), txn);
            view.producers().record(header);
            leaderView = new LeaderView(term, header.nextOffset(), view.producers());
            Pending item = new Pending(term, header, records, new CompletableFuture<>());
            pending.add(item);
            queued.incrementAndGet();
            proposeLocked(division);
            return item.result();
        }
    }

    /**
     * Proposes queued batches while fewer than {@link #maxInFlight} entries of this partition await their commit: all
     * that fit in one entry ({@link #maxEntryBytes()}) go together (Redpanda's replicate batcher), so the batches that
     * queue behind an entry in flight cost Ratis one entry, not one each. Guarded by appendLock.
     */
    private void proposeLocked(RaftServer.Division division) {
        while (!pending.isEmpty() && (maxInFlight <= 0 || inFlight.get() < maxInFlight)) {
            if (viewInvalidations.get() != viewBuiltAt) {
                // an entry before the queued batches failed: their offsets follow offsets that were never written
                dropLeaderViewLocked("an earlier entry of " + topicPartition + " failed");
                return;
            }
            if (!division.getInfo().isLeader() || division.getInfo().getCurrentTerm() != pending.peek().term()) {
                dropLeaderViewLocked("this node no longer leads " + topicPartition + " in term "
                        + pending.peek().term());
                return;
            }
            List<Pending> entry = takeEntryLocked();
            RaftClientRequest request = RaftClientRequest.newBuilder()
                    .setClientId(clientId)
                    .setServerId(server.getId())
                    .setGroupId(groupId)
                    .setCallId(callIds.incrementAndGet())
                    .setMessage(Message.valueOf(message(entry)))
                    .setType(RaftClientRequest.writeRequestType())
                    .build();
            CompletableFuture<RaftClientReply> reply;
            long submitted = System.nanoTime();
            inFlight.incrementAndGet();
            try {
                reply = server.submitClientRequestAsync(request);
            } catch (IOException e) {
                inFlight.decrementAndGet();
                PartitionException failure = notLeader(e.getMessage());
                failLocked(entry, failure);
                dropLeaderViewLocked(failure.getMessage());
                return;
            }
            if (reply.isCompletedExceptionally()) {
                // refused before it reached the log (Ratis fails such requests before returning), as are the batches
                // queued behind it, whose offsets follow its own
                PartitionException failure = translate(reply.handle((r, e) -> e).join());
                inFlight.decrementAndGet();
                failLocked(entry, failure);
                dropLeaderViewLocked(failure.getMessage());
                return;
            }
            reply.whenComplete((r, error) -> completed(entry, submitted, r, error));
        }
    }

    /** The queued batches that go into the next entry, oldest first. Guarded by appendLock. */
    private List<Pending> takeEntryLocked() {
        List<Pending> entry = new ArrayList<>();
        int bytes = 0;
        int limit = maxEntryBytes();
        do {
            Pending next = pending.poll();
            queued.decrementAndGet();
            entry.add(next);
            bytes += next.records().sizeInBytes();
        } while (maxInFlight > 0 && !pending.isEmpty() && bytes + pending.peek().records().sizeInBytes() <= limit);
        return entry;
    }

    /** The largest entry coalescing builds: a batch of the largest size, and never more than one segment holds. */
    private int maxEntryBytes() {
        return Math.min(maxBatchBytes, stateMachine.log().maxAppendBytes());
    }

    /** Headers, then the batches: one batch travels without a copy, several are copied into one buffer. */
    private static ByteString message(List<Pending> entry) {
        List<EntryHeader> headers = new ArrayList<>(entry.size());
        int bytes = 0;
        for (Pending p : entry) {
            headers.add(p.header());
            bytes += p.records().sizeInBytes();
        }
        ByteBuffer head = new EntryHeaders(headers).toBuffer();
        if (entry.size() == 1) {
            return PartitionStateMachine.concat(head, entry.get(0).records().buffer());
        }
        ByteBuffer all = ByteBuffer.allocate(head.remaining() + bytes).put(head);
        for (Pending p : entry) {
            all.put(p.records().buffer());
        }
        return UnsafeByteOperations.unsafeWrap(all.flip());
    }

    /**
     * Ratis answered an entry. Runs on a Ratis thread that may hold its server lock, so it must not take appendLock
     * (an append holding appendLock waits for that lock inside submitClientRequestAsync — a deadlock FailoverIT once
     * found): queued batches are proposed from {@link #proposer}.
     */
    private void completed(List<Pending> entry, long submitted, RaftClientReply reply, Throwable error) {
        Throwable failure = error != null ? error : reply.isSuccess() ? null : reply.getException();
        if (failure == null) {
            long took = System.nanoTime() - submitted;
            latencies.record(took);
            commitLatency.accept(took);
        }
        if (failure != null) {
            viewInvalidations.incrementAndGet(); // before inFlight drops, so the next proposal sees it
        }
        inFlight.decrementAndGet();
        long logStart = stateMachine.log().logStartOffset();
        PartitionException translated = failure == null ? null : translate(failure);
        for (Pending p : entry) {
            if (translated == null) {
                p.result().complete(new AppendResult(p.header().baseOffset(), logStart));
            } else {
                p.result().completeExceptionally(new CompletionException(translated));
            }
        }
        if (queued.get() > 0) {
            proposer.execute(this::proposeQueued);
        }
    }

    private void proposeQueued() {
        synchronized (appendLock) {
            if (pending.isEmpty()) {
                return;
            }
            try {
                proposeLocked(server.getDivision(groupId));
            } catch (IOException e) {
                dropLeaderViewLocked("group not open: " + e.getMessage());
            }
        }
    }

    /** Forgets the leader view and fails the batches queued on it (their offsets came from it). Guarded by appendLock. */
    private void dropLeaderViewLocked(String why) {
        leaderView = null;
        if (!pending.isEmpty()) {
            List<Pending> dropped = new ArrayList<>(pending);
            pending.clear();
            queued.addAndGet(-dropped.size());
            failLocked(dropped, notLeader(why));
        }
    }

    /**
     * Fails batches that never reached the Raft log. An idempotent producer's first such batch is remembered as
     * refused ({@link #checkRefused}), so its later batches cannot overtake it. Guarded by appendLock.
     */
    private void failLocked(List<Pending> batches, PartitionException failure) {
        for (Pending p : batches) {
            EntryHeader h = p.header();
            if (h.idempotent() && !h.marker()) { // a marker has no sequence; its coordinator retries it
                Refused earlier = refused.get(h.producerId());
                if (earlier == null || earlier.term() != p.term() || earlier.epoch() != h.producerEpoch()
                        || earlier.baseSequence() > h.baseSequence()) {
                    if (refused.size() >= MAX_REFUSED_PRODUCERS) {
                        refused.clear();
                    }
                    refused.put(h.producerId(), new Refused(p.term(), h.producerEpoch(), h.baseSequence()));
                }
            }
            p.result().completeExceptionally(new CompletionException(failure));
        }
    }

    /** Null, or the error for a batch that would overtake its producer's refused batch; guarded by appendLock. */
    private PartitionException checkRefused(EntryHeader proposed, long term) {
        Refused r = refused.get(proposed.producerId());
        if (r == null) {
            return null;
        }
        if (r.term() != term || r.epoch() != proposed.producerEpoch() || r.baseSequence() == proposed.baseSequence()) {
            refused.remove(proposed.producerId()); // the refused batch is back, or it no longer matters
            return null;
        }
        if (proposed.baseSequence() < r.baseSequence()) {
            return null; // an earlier batch (retried after a later failure) goes first
        }
        return new PartitionException(PartitionError.OUT_OF_ORDER_SEQUENCE, "producer " + proposed.producerId()
                + " sent sequence " + proposed.baseSequence() + " while its batch at sequence " + r.baseSequence()
                + " was refused and not yet retried");
    }

    /**
     * The leader's checks of a produced batch (size, exactly one batch, magic 2, CRC, not empty): the only CRC pass on
     * the leader. Public for the replica on FluxMQ's own engine and for its micro-benchmark.
     */
    public static MutableRecordBatch validate(MemoryRecords records, int maxBatchBytes) {
        if (records.sizeInBytes() > maxBatchBytes) {
            throw new PartitionException(PartitionError.BATCH_TOO_LARGE, "batch of " + records.sizeInBytes()
                    + " bytes exceeds the maximum of " + maxBatchBytes);
        }
        Iterator<MutableRecordBatch> batches = records.batches().iterator();
        if (!batches.hasNext()) {
            throw new PartitionException(PartitionError.INVALID_BATCH, "produce request has no record batch");
        }
        MutableRecordBatch batch;
        try {
            batch = batches.next();
            if (batches.hasNext()) {
                throw new PartitionException(PartitionError.INVALID_BATCH,
                        "produce requests must hold exactly one record batch per partition");
            }
        } catch (CorruptRecordException | InvalidRecordException e) {
            throw new PartitionException(PartitionError.CORRUPT_BATCH, e.getMessage());
        }
        if (batch.magic() != RecordBatch.MAGIC_VALUE_V2) {
            throw new PartitionException(PartitionError.INVALID_BATCH,
                    "only record batch format v2 is accepted, got magic " + batch.magic());
        }
        if (batch.sizeInBytes() != records.sizeInBytes() || !batch.isValid()) {
            throw new PartitionException(PartitionError.CORRUPT_BATCH, "record batch fails its CRC check");
        }
        if (batch.countOrNull() != null && batch.countOrNull() <= 0) {
            throw new PartitionException(PartitionError.INVALID_BATCH, "record batch has no records");
        }
        return batch;
    }

    private LeaderView buildLeaderView(RaftServer.Division division, long term) throws IOException {
        PartitionStateMachine.AppliedState applied = stateMachine.appliedState();
        ProducerStateTable producers = applied.producers();
        long next = applied.highWatermark();
        RaftLog raftLog = division.getRaftLog();
        TermIndex last = raftLog.getLastEntryTermIndex();
        long lastIndex = last == null ? -1 : last.getIndex();
        for (long i = Math.max(applied.index() + 1, raftLog.getStartIndex()); i <= lastIndex; i++) {
            LogEntryProto entry = raftLog.get(i);
            if (entry != null && PartitionStateMachine.isBatch(entry)) {
                EntryHeaders headers = PartitionStateMachine.headers(entry);
                for (EntryHeader header : headers.headers()) {
                    producers.record(header);
                }
                next = headers.nextOffset();
            }
        }
        return new LeaderView(term, next, producers);
    }

    /**
     * A retry of a batch that is already in the log (maybe not yet committed): answers with the original offset once
     * that very batch is committed. If the offsets are committed with other data (the original entry was lost with a
     * leader change), the retry fails as not-leader, and the producer retries against fresh state.
     */
    private CompletableFuture<AppendResult> awaitCommitted(long producerId, short epoch,
                                                           ProducerStateTable.BatchMetadata original) {
        CompletableFuture<AppendResult> result = new CompletableFuture<>();
        LongConsumer listener = hw -> {
            if (hw > original.lastOffset()) {
                if (stateMachine.applied(producerId, epoch, original)) {
                    result.complete(new AppendResult(original.baseOffset(), stateMachine.log().logStartOffset()));
                } else {
                    viewInvalidations.incrementAndGet(); // forces a rebuild; no lock on the apply thread
                    result.completeExceptionally(notLeader("the original of this retried batch was not committed"));
                }
            }
        };
        stateMachine.addHighWatermarkListener(listener);
        listener.accept(stateMachine.highWatermark());
        result.whenComplete((r, e) -> stateMachine.removeHighWatermarkListener(listener));
        return result;
    }

    /** Maps a failed Raft submission to a partition error; package-private for its unit test. */
    static PartitionException translate(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof PartitionException pe) {
            return pe;
        }
        if (cause instanceof org.apache.ratis.protocol.exceptions.StateMachineException
                && cause.getCause() instanceof PartitionException pe) { // refused by the state machine's preAppend
            return pe;
        }
        if (cause instanceof NotLeaderException) {
            return notLeader(cause.getMessage());
        }
        if (cause instanceof org.apache.ratis.protocol.exceptions.LeaderNotReadyException
                || cause instanceof org.apache.ratis.protocol.exceptions.LeaderSteppingDownException
                || cause instanceof org.apache.ratis.protocol.exceptions.ServerNotReadyException) {
            return new PartitionException(PartitionError.LEADER_NOT_READY, cause.getMessage(), cause);
        }
        if (cause instanceof org.apache.ratis.protocol.exceptions.AlreadyClosedException
                || cause instanceof org.apache.ratis.protocol.exceptions.GroupMismatchException) {
            return notLeader(cause.getMessage()); // the server is closing, or the group is gone from this node
        }
        if (cause instanceof org.apache.ratis.protocol.exceptions.ResourceUnavailableException) {
            // back-pressure: raft.server.write.element-limit / byte-limit pending entries; the entry was not appended
            return new PartitionException(PartitionError.BUSY, cause.getMessage(), cause);
        }
        if (cause instanceof org.apache.ratis.protocol.exceptions.TimeoutIOException) {
            return new PartitionException(PartitionError.TIMEOUT, cause.getMessage(), cause);
        }
        boolean storage = cause instanceof java.io.UncheckedIOException
                || cause instanceof org.apache.ratis.protocol.exceptions.StateMachineException
                        && cause.getCause() instanceof IOException;
        if (storage) { // a segment write or disk reservation failed, e.g. a full disk
            return new PartitionException(PartitionError.STORAGE_ERROR, cause.getMessage(), cause);
        }
        return new PartitionException(PartitionError.UNKNOWN, String.valueOf(cause.getMessage()), cause);
    }

    private static PartitionException notLeader(String message) {
        return new PartitionException(PartitionError.NOT_LEADER, message);
    }

    /**
     * Reads committed batches from {@code offset}: up to {@code maxBytes}, at least one batch if {@code minOneBatch}.
     * Throws {@link PartitionException} with {@link PartitionError#OFFSET_OUT_OF_RANGE} outside [logStart, hw].
     */
    @Override
    public MemoryRecords read(long offset, int maxBytes, boolean minOneBatch) {
        long hw = stateMachine.highWatermark();
        if (offset > hw) {
            throw new PartitionException(PartitionError.OFFSET_OUT_OF_RANGE,
                    "offset " + offset + " is beyond the high watermark " + hw);
        }
        try {
            return stateMachine.log().read(offset, maxBytes, hw, minOneBatch);
        } catch (OffsetOutOfRangeException e) {
            throw new PartitionException(PartitionError.OFFSET_OUT_OF_RANGE, e.getMessage());
        }
    }

    /**
     * Reads as {@link #read(long, int, boolean)} but only batches below {@code upTo} (at most the high watermark): the
     * last stable offset for {@code read_committed}. An offset between {@code upTo} and the high watermark reads nothing.
     */
    @Override
    public MemoryRecords read(long offset, int maxBytes, boolean minOneBatch, long upTo) {
        long hw = stateMachine.highWatermark();
        if (offset > hw) {
            throw new PartitionException(PartitionError.OFFSET_OUT_OF_RANGE,
                    "offset " + offset + " is beyond the high watermark " + hw);
        }
        long limit = Math.min(upTo, hw);
        if (offset >= limit) {
            if (offset < stateMachine.log().logStartOffset()) {
                throw new PartitionException(PartitionError.OFFSET_OUT_OF_RANGE,
                        "offset " + offset + " is below the log start " + stateMachine.log().logStartOffset());
            }
            return MemoryRecords.EMPTY;
        }
        try {
            return stateMachine.log().read(offset, maxBytes, limit, minOneBatch);
        } catch (OffsetOutOfRangeException e) {
            throw new PartitionException(PartitionError.OFFSET_OUT_OF_RANGE, e.getMessage());
        }
    }

    /** The last stable offset: the high watermark unless a transaction is open on this partition. */
    @Override
    public long lastStableOffset() {
        return stateMachine.lastStableOffset();
    }

    /** Aborted transactions with their marker at or after {@code from} and their first offset before {@code to}. */
    @Override
    public List<TxnIndex.AbortedTxn> abortedTransactions(long from, long to) {
        return stateMachine.abortedTransactions(from, to);
    }

    @Override
    public List<ProducerState> activeProducers() {
        return stateMachine.activeProducers();
    }

    /** (epoch, end offset) as OffsetForLeaderEpoch answers it; see {@link PartitionStateMachine#endOffsetForEpoch}. */
    @Override
    public long[] endOffsetForEpoch(int epoch) {
        int current = leaderEpoch();
        if (epoch > current) {
            return new long[] {-1, -1};
        }
        if (epoch == current) {
            return new long[] {current, stateMachine.highWatermark()};
        }
        return stateMachine.endOffsetForEpoch(epoch);
    }

    /**
     * On the leader: where retention moves the log start (whole committed segments past {@code retentionMs} or beyond
     * {@code retentionBytes}), proposed through Raft so every replica deletes the same data ({@link #advanceLogStart}).
     * Completes with the new log start, or the current one when nothing expired or this replica does not lead.
     */
    @Override
    public CompletableFuture<Long> enforceRetention(long retentionMs, long retentionBytes) {
        long current = logStartOffset();
        if (!isLeader()) {
            return CompletableFuture.completedFuture(current);
        }
        long point;
        try {
            point = stateMachine.log().retentionPoint(retentionMs, retentionBytes, stateMachine.highWatermark());
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        return point > current ? advanceLogStart(point) : CompletableFuture.completedFuture(current);
    }

    /**
     * Moves the log start offset of every replica to {@code offset} (at most the high watermark) through the Raft log;
     * completes once committed and applied here.
     */
    @Override
    public CompletableFuture<Long> advanceLogStart(long offset) {
        if (offset > highWatermark()) {
            return CompletableFuture.failedFuture(new PartitionException(PartitionError.OFFSET_OUT_OF_RANGE,
                    "log start " + offset + " beyond the high watermark " + highWatermark()));
        }
        RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(clientId)
                .setServerId(server.getId())
                .setGroupId(groupId)
                .setCallId(callIds.incrementAndGet())
                .setMessage(Message.valueOf(org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations
                        .unsafeWrap(new LogStartEntry(offset).toBuffer())))
                .setType(RaftClientRequest.writeRequestType())
                .build();
        try {
            return server.submitClientRequestAsync(request).handle((r, error) -> {
                Throwable failure = error != null ? error : r.isSuccess() ? null : r.getException();
                if (failure != null) {
                    throw new CompletionException(translate(failure));
                }
                return logStartOffset();
            });
        } catch (IOException e) {
            return CompletableFuture.failedFuture(notLeader(e.getMessage()));
        }
    }

    @Override
    public long highWatermark() {
        return stateMachine.highWatermark();
    }

    /** Cleans this replica's committed segments whose Raft entries were purged ({@link PartitionStateMachine#cleanableBelow}). */
    @Override
    public CleanResult compact(LogCleaner cleaner, CompactionPolicy policy) throws IOException, InterruptedException {
        long bound = stateMachine.cleanableBelow(server.getDivision(groupId).getRaftLog());
        return cleaner.clean(stateMachine.log(), bound, policy);
    }

    @Override
    public long logStartOffset() {
        return stateMachine.log().logStartOffset();
    }

    @Override
    public Optional<TimestampAndOffset> offsetForTimestamp(long timestamp) {
        return stateMachine.log().offsetForTimestamp(timestamp, stateMachine.highWatermark());
    }

    @Override
    public Optional<TimestampAndOffset> maxTimestamp() {
        return stateMachine.log().maxTimestamp(stateMachine.highWatermark());
    }

    /**
     * Leader, term and members of the group as this node sees them; in-sync members only on the ready leader (empty
     * elsewhere: other nodes use the ISR the leader publishes to cluster metadata).
     */
    public record Status(int leader, int epoch, List<Integer> replicas, List<Integer> inSync, boolean leaderHere) {}

    /** Entries a follower's commit index may trail the leader's and still count as in sync. */
    private static final long IN_SYNC_LAG_ENTRIES = 1000;

    /**
     * Leader, term, members and in-sync members. On the leader a member is in sync when its commit index trails the
     * leader's by at most {@value #IN_SYNC_LAG_ENTRIES} entries and it answered the leader within {@code maxSilenceMs}
     * (a frozen or cut-off follower drops out of the ISR after that long, like Kafka's replica.lag.time.max.ms). Other
     * nodes cannot tell: their list is empty.
     */
    public Status status(long maxSilenceMs) {
        RaftServer.Division division;
        try {
            division = server.getDivision(groupId);
        } catch (IOException e) {
            return new Status(-1, -1, List.of(), List.of(), false);
        }
        List<Integer> replicas = new ArrayList<>();
        division.getGroup().getPeers().forEach(p -> replicas.add(nodeId(p.getId())));
        boolean leaderHere = division.getInfo().isLeaderReady();
        RaftPeerId leaderId = division.getInfo().getLeaderId();
        int leader = leaderId == null ? -1 : nodeId(leaderId);
        if (division.getInfo().isLeader() && !leaderHere) {
            leader = -1;
        }
        List<Integer> inSync = new ArrayList<>();
        if (leaderHere) {
            java.util.Map<Integer, Long> silence = followerSilenceMs(division);
            long leaderCommit = -1;
            for (CommitInfoProto info : division.getCommitInfos()) {
                leaderCommit = Math.max(leaderCommit, info.getCommitIndex());
            }
            for (CommitInfoProto info : division.getCommitInfos()) {
                int node = nodeId(RaftPeerId.valueOf(info.getServer().getId()));
                boolean recent = node == nodeId(server.getId()) || silence.getOrDefault(node, Long.MAX_VALUE) <= maxSilenceMs;
                if (recent && info.getCommitIndex() >= leaderCommit - IN_SYNC_LAG_ENTRIES) {
                    inSync.add(node);
                }
            }
        }
        return new Status(leader, (int) division.getInfo().getCurrentTerm(), replicas, inSync, leaderHere);
    }

    /**
     * True when this node leads the group and {@code nodeId} answered its last append within {@code maxSilenceMs} and
     * has every entry of the leader's log: a safe target for a leadership transfer.
     */
    public boolean isCaughtUpFollower(int nodeId, long maxSilenceMs) {
        try {
            RaftServer.Division division = server.getDivision(groupId);
            java.util.Map<Integer, Long> silence = followerSilenceMs(division);
            if (!division.getInfo().isLeaderReady() || silence.getOrDefault(nodeId, Long.MAX_VALUE) > maxSilenceMs) {
                return false;
            }
            long last = division.getRaftLog().getLastEntryTermIndex() == null ? -1
                    : division.getRaftLog().getLastEntryTermIndex().getIndex();
            // Ratis lists match indices in the order of its log appenders, as the role info lists followers
            long[] matches = division.getInfo().getFollowerMatchIndices();
            List<Integer> followers = new ArrayList<>(silence.keySet());
            int i = followers.indexOf(nodeId);
            return i >= 0 && i < matches.length && matches[i] >= last;
        } catch (IOException e) {
            return false;
        }
    }

    /** Milliseconds since each follower last answered this leader; empty when this node does not lead the group. */
    private static java.util.Map<Integer, Long> followerSilenceMs(RaftServer.Division division) {
        java.util.Map<Integer, Long> silence = new java.util.LinkedHashMap<>(); // in Ratis' appender order
        var role = division.getInfo().getRoleInfoProto();
        if (role.hasLeaderInfo()) {
            for (var f : role.getLeaderInfo().getFollowerInfoList()) {
                silence.put(nodeId(RaftPeerId.valueOf(f.getId().getId())), f.getLastRpcElapsedTimeMs());
            }
        }
        return silence;
    }

    /**
     * Asks Ratis to hand this group's leadership to {@code nodeId} (which must be an in-sync member); completes when
     * the transfer finished or failed.
     */
    public CompletableFuture<Boolean> transferLeadership(int nodeId, long timeoutMs) {
        try {
            return server.transferLeadershipAsync(new org.apache.ratis.protocol.TransferLeadershipRequest(clientId,
                    server.getId(), groupId, callIds.incrementAndGet(), RaftPeerId.valueOf("n" + nodeId), timeoutMs))
                    .thenApply(RaftClientReply::isSuccess);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * {@code fluxmq-admin raft snapshot}: this replica's state machine writes a snapshot at its applied index now
     * (Ratis' snapshot management API; {@link PartitionStateMachine#takeSnapshot}), as the automatic trigger does every
     * {@code raft.snapshot.interval.entries}, and Ratis may then purge its log below it. Completes with the snapshot index
     * afterwards, the previous one when nothing was applied since.
     */
    public CompletableFuture<Long> takeSnapshot(long timeoutMs) {
        // a creation gap of 1: snapshot whenever an entry was applied since the last snapshot
        return server.snapshotManagementAsync(SnapshotManagementRequest.newCreate(clientId, server.getId(), groupId,
                callIds.incrementAndGet(), timeoutMs, 1)).thenApply(reply -> {
                    if (!reply.isSuccess()) {
                        throw new CompletionException(reply.getException());
                    }
                    return reply.getLogIndex();
                });
    }

    /** This replica's view of the partition's Raft group (see {@link GroupStatus}); null once the group is gone. */
    public GroupStatus groupStatus() {
        try {
            return GroupStatus.of(server.getDivision(groupId), nodeId(server.getId()));
        } catch (IOException e) {
            return null;
        }
    }

    /** Node id of a peer id {@code n<id>}. */
    public static int nodeId(RaftPeerId peer) {
        return Integer.parseInt(peer.toString().substring(1));
    }

    /** True when this node leads the partition's Raft group and has committed an entry of its term. */
    @Override
    public boolean isLeader() {
        try {
            return server.getDivision(groupId).getInfo().isLeaderReady();
        } catch (IOException e) {
            return false;
        }
    }

    /** The Kafka leader epoch: the current Raft term. */
    @Override
    public int leaderEpoch() {
        try {
            return (int) server.getDivision(groupId).getInfo().getCurrentTerm();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Listeners run on the Raft apply thread whenever the high watermark advances; they must not block. */
    @Override
    public void addHighWatermarkListener(LongConsumer listener) {
        stateMachine.addHighWatermarkListener(listener);
    }

    @Override
    public void removeHighWatermarkListener(LongConsumer listener) {
        stateMachine.removeHighWatermarkListener(listener);
    }

    @Override
    public CommitLatencies commitLatencies() {
        return latencies;
    }

    /** Where {@link #append} reports each committed batch's time from Raft submission to commit and apply (metrics). */
    public void setCommitLatencyRecorder(LongConsumer nanos) {
        this.commitLatency = nanos;
    }

    /**
     * On the ready leader: how many Raft entries each follower's log trails this leader's last entry, by follower node
     * id (from Ratis' match indices); empty on other replicas.
     */
    public Map<Integer, Long> followerLag() {
        try {
            RaftServer.Division division = server.getDivision(groupId);
            if (!division.getInfo().isLeaderReady()) {
                return Map.of();
            }
            TermIndex last = division.getRaftLog().getLastEntryTermIndex();
            long lastIndex = last == null ? -1 : last.getIndex();
            long[] matches = division.getInfo().getFollowerMatchIndices();
            List<Integer> followers = new ArrayList<>(followerSilenceMs(division).keySet()); // same (appender) order
            Map<Integer, Long> lag = new HashMap<>();
            for (int i = 0; i < followers.size() && i < matches.length; i++) {
                lag.put(followers.get(i), Math.max(0, lastIndex - matches[i]));
            }
            return lag;
        } catch (IOException e) {
            return Map.of();
        }
    }

    /** Bytes in this replica's segment files (metrics). */
    @Override
    public long logSizeBytes() {
        return stateMachine.log().sizeInBytes();
    }

    /** Segments in this replica's log (metrics). */
    @Override
    public int logSegmentCount() {
        return stateMachine.log().segmentCount();
    }
}
