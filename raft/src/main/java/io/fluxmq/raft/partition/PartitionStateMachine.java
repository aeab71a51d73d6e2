package io.fluxmq.raft.partition;

import io.fluxmq.raft.log.SegmentLog;
import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raft.storage.SnapshotFiles;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongConsumer;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft state machine of one partition. Its state is the partition's {@link SegmentLog} plus the high watermark
 * and the idempotent-producer table.
 *
 * <ul>
 *   <li>{@link #startTransaction}: the message is {@link EntryHeaders} bytes followed by the record batches (one, or
 *       several the leader coalesced) whose base offsets and leader epoch the leader already stamped; the headers
 *       become the Raft log data, the batches the state-machine data, so Ratis never writes record bytes into its own
 *       log.</li>
 *   <li>{@link #write}: on every replica, in log order, appends the batches to the segment log (truncating a stale
 *       tail first when they overlap it: that tail was never committed).</li>
 *   <li>{@link #truncate}: Raft dropped uncommitted entries; the segment log drops the same batches.</li>
 *   <li>{@link #applyTransaction}: the entry is committed; the high watermark advances and producer state is recorded
 *       for each of its batches.</li>
 *   <li>{@link #takeSnapshot}: flushes the segments and writes {@code hw, producer table} to a snapshot file, after
 *       which Ratis may purge its log.</li>
 * </ul>
 * Snapshot file format (big endian): {@code magic:int32 0x464c5831 | version:int16 (=3) | highWatermark:int64 |
 * logStartOffset:int64 (version 2 and later) | producer table (see ProducerStateTable#writeTo) | epochCount:int32 |
 * epochCount × (epoch:int32, startOffset:int64) | transaction index (version 4, see TxnIndex#writeTo)}. Versions 1
 * and 2 hold the producer table in {@link ProducerStateTable#FORMAT_V1} (no timestamps) and still load; version 3 in
 * {@link ProducerStateTable#FORMAT_V2}. Version 4 adds the {@link TxnIndex}; it is written only while the index holds
 * something (a partition that never saw a transaction keeps writing version 3, which older builds read), and
 * versions 1 to 3 load with an empty index.
 */
public final class PartitionStateMachine extends BaseStateMachine {
    private static final Logger LOGGER = LoggerFactory.getLogger(PartitionStateMachine.class);
    private static final int SNAPSHOT_MAGIC = 0x464c5831;
    /** Version 3: the producer table has timestamps ({@link ProducerStateTable#FORMAT_V2}). */
    private static final short SNAPSHOT_VERSION = 4;
    private static final short SNAPSHOT_VERSION_NO_TXN = 3;

    private final Path segmentDir;
    private final SegmentLogConfig segmentConfig;
    private final boolean fsync;
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private volatile RaftStorage raftStorage;
    /** This group's division, looked up once (per batch it would be a map lookup on the leader's append path). */
    private volatile RaftServer.Division division;
    private final List<LongConsumer> highWatermarkListeners = new CopyOnWriteArrayList<>();
    /** Raft index to base offset of entries written to the segment log but not yet applied. */
    private final ConcurrentSkipListMap<Long, Long> unappliedOffsets = new ConcurrentSkipListMap<>();

    private volatile SegmentLog log;
    private volatile long highWatermark;
    /** Held while batches are copied from the leader (snapshot install, gap repair) and by write() around them. */
    private final Object catchUpLock = new Object();
    /** The log start offset recorded in the snapshot last loaded. */
    private long snapshotLogStart;
    private final long producerIdExpirationMs;
    private ProducerStateTable appliedProducers;
    /** Open and aborted transactions of the applied entries; guarded by this. */
    private TxnIndex txnIndex = new TxnIndex();
    /** The last stable offset: the high watermark unless a transaction is open (then its first offset). */
    private volatile long lastStableOffset;
    /** Leader epoch (Raft term) to the first offset written in it, for committed entries. */
    private final java.util.TreeMap<Integer, Long> epochStartOffsets = new java.util.TreeMap<>();

    private final java.util.function.IntConsumer onLeaderReady;

    private final org.apache.kafka.common.TopicPartition topicPartition;
    private final SnapshotSource snapshotSource;
    /** Runs segment fsyncs, so they overlap the Raft log's own fsync (Ratis waits for both before acknowledging). */
    private final java.util.concurrent.Executor flushExecutor;
    private volatile long lastReserveWarningNanos = System.nanoTime() - java.util.concurrent.TimeUnit.MINUTES.toNanos(1);

    public PartitionStateMachine(org.apache.kafka.common.TopicPartition topicPartition, Path segmentDir,
                                 SegmentLogConfig segmentConfig, boolean fsync, java.util.concurrent.Executor flushExecutor,
                                 java.util.function.IntConsumer onLeaderReady, SnapshotSource snapshotSource,
                                 long producerIdExpirationMs) {
        this.producerIdExpirationMs = producerIdExpirationMs;
        this.appliedProducers = new ProducerStateTable(producerIdExpirationMs);
        this.flushExecutor = flushExecutor;
        this.topicPartition = topicPartition;
        this.snapshotSource = snapshotSource;
        this.segmentDir = segmentDir;
        this.segmentConfig = segmentConfig;
        this.fsync = fsync;
        this.onLeaderReady = onLeaderReady;
    }

    @Override
    public void notifyLeaderReady() {
        getServer().thenAccept(server -> {
            try {
                onLeaderReady.accept((int) server.getDivision(getGroupId()).getInfo().getCurrentTerm());
            } catch (IOException e) {
                LOGGER.warn("Partition {} cannot read its term: {}", segmentDir.getFileName(), e.toString());
            }
        });
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        this.raftStorage = raftStorage;
        storage.init(raftStorage);
        log = SegmentLog.open(segmentDir, segmentConfig, System::currentTimeMillis);
        loadSnapshot(storage.loadLatestSnapshot());
        if (snapshotLogStart > log.logEndOffset()) {
            log.resetTo(snapshotLogStart); // a crash interrupted a snapshot install that started the log anew
        } else {
            log.advanceLogStart(snapshotLogStart);
        }
        getLifeCycle().transition(LifeCycle.State.STARTING);
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    /**
     * Ratis pauses the state machine before it publishes a snapshot installed from the leader (renaming its temporary
     * directory to {@code sm/}), then calls reinitialize. Ratis writes the snapshot's chunks without an fsync, and
     * purges its log once it is published: the files are forced to disk here, before they are published, so a power
     * cut never leaves a published snapshot that is empty or short (PowerCutIT found one).
     */
    @Override
    public void pause() {
        SnapshotFiles.syncInstalled(raftStorage);
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    @Override
    public void reinitialize() throws IOException {
        SnapshotFiles.syncPublished(raftStorage);
        long committedPrefix = highWatermark;
        unappliedOffsets.clear();
        loadSnapshot(storage.loadLatestSnapshot());
        catchUpSegments(committedPrefix, highWatermark);
        getLifeCycle().transitionIfValid(LifeCycle.State.STARTING);
        getLifeCycle().transitionIfValid(LifeCycle.State.RUNNING);
    }

    /**
     * At start-up: does the segment log hold the batch of the last entry in the Raft log? If not (which the flush
     * order rules out unless files were lost), the missing batches are copied from the leader when their entries are
     * applied or followed by new ones ({@link #fillGap}); this logs the finding. Returns the number of offsets missing.
     */
    public long checkAgainstRaftLog(org.apache.ratis.server.raftlog.RaftLog raftLog) throws IOException {
        TermIndex last = raftLog.getLastEntryTermIndex();
        long stop = Math.max(raftLog.getStartIndex(), last == null ? 0 : last.getIndex() - 1000);
        for (long i = last == null ? -1 : last.getIndex(); i >= stop && i >= 0; i--) {
            LogEntryProto entry = entryAt(raftLog, i);
            if (entry != null && isBatch(entry)) {
                long missing = headers(entry).nextOffset() - log.logEndOffset();
                if (missing > 0) {
                    LOGGER.error("Partition {}: the Raft log holds entries up to offset {} (index {}) but the segment"
                            + " log ends at {}; the missing batches will be copied from the leader",
                            topicPartition, headers(entry).nextOffset(), i, log.logEndOffset());
                }
                return Math.max(0, missing);
            }
        }
        return 0;
    }

    private static LogEntryProto entryAt(org.apache.ratis.server.raftlog.RaftLog raftLog, long index)
            throws IOException {
        try {
            return raftLog.get(index);
        } catch (org.apache.ratis.protocol.exceptions.RaftException e) {
            throw new IOException(e);
        }
    }

    /**
     * Below which offset the log cleaner may rewrite this replica's segments: the last stable offset (committed, no
     * open transaction), and no higher than the first batch still in the Raft log. A follower that lags behind is sent
     * Raft entries whose batches {@link #read} takes from these segments, byte for byte as written; offsets whose
     * entries Ratis purged (after a snapshot) are only ever copied whole, as segments, by a follower that installs a
     * snapshot ({@link #catchUpSegments}), which takes a compacted log as it is.
     */
    public long cleanableBelow(org.apache.ratis.server.raftlog.RaftLog raftLog) throws IOException {
        long bound = lastStableOffset();
        TermIndex last = raftLog.getLastEntryTermIndex();
        long lastIndex = last == null ? -1 : last.getIndex();
        long start = raftLog.getStartIndex();
        for (long i = start; i >= 0 && i <= lastIndex; i++) {
            if (i - start > 1000) {
                return log.logStartOffset(); // no batch among the first entries (not seen in practice): clean nothing
            }
            LogEntryProto entry = entryAt(raftLog, i);
            if (entry != null && isBatch(entry)) {
                return Math.min(bound, headers(entry).baseOffset());
            }
        }
        return bound;
    }

    /** The latest local snapshot as {@link SnapshotSource#snapshot} serves it, or null when there is none. */
    public ByteBuffer latestSnapshot() throws IOException {
        SingleFileSnapshotInfo info = storage.getLatestSnapshot();
        if (info == null) {
            return null;
        }
        byte[] content = Files.readAllBytes(info.getFile().getPath());
        return ByteBuffer.allocate(16 + content.length).putLong(info.getTerm()).putLong(info.getIndex()).put(content)
                .flip();
    }

    private synchronized void loadSnapshot(SingleFileSnapshotInfo snapshot) throws IOException {
        if (snapshot == null) {
            highWatermark = log.logStartOffset();
            lastStableOffset = highWatermark;
            return;
        }
        Path file = snapshot.getFile().getPath();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            short version;
            if (in.readInt() != SNAPSHOT_MAGIC || (version = in.readShort()) < 1 || version > SNAPSHOT_VERSION) {
                throw new IOException("not a FluxMQ partition snapshot of version 1 to " + SNAPSHOT_VERSION + ": "
                        + file);
            }
            long hw = in.readLong();
            snapshotLogStart = version >= 2 ? in.readLong() : 0;
            appliedProducers = ProducerStateTable.readFrom(in, version >= 3 ? ProducerStateTable.FORMAT_V2
                    : ProducerStateTable.FORMAT_V1, producerIdExpirationMs);
            epochStartOffsets.clear();
            int epochs = in.readInt();
            for (int i = 0; i < epochs; i++) {
                epochStartOffsets.put(in.readInt(), in.readLong());
            }
            txnIndex = version >= 4 ? TxnIndex.readFrom(in) : new TxnIndex();
            if (hw > log.logEndOffset()) {
                LOGGER.info("Snapshot {} has high watermark {} beyond the segment log end {}",
                        file, hw, log.logEndOffset());
            }
            highWatermark = hw;
            lastStableOffset = txnIndex.lastStableOffset(hw);
        } catch (java.io.EOFException e) {
            throw new IOException("partition " + topicPartition + ": snapshot " + file + " ends early (" + Files.size(file)
                    + " bytes); it was not written completely", e);
        }
        setLastAppliedTermIndex(snapshot.getTermIndex());
        LOGGER.info("Partition {} loaded snapshot {}: high watermark {}, {} producers",
                segmentDir.getFileName(), snapshot.getTermIndex(), highWatermark, appliedProducers.size());
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public TransactionContext startTransaction(RaftClientRequest request) {
        ByteString content = request.getMessage().getContent();
        if (LogStartEntry.is(content.asReadOnlyByteBuffer())) {
            return TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request)
                    .setLogData(content).build();
        }
        int headerBytes = EntryHeaders.encodedLength(content.asReadOnlyByteBuffer());
        return TransactionContext.newBuilder()
                .setStateMachine(this)
                .setClientRequest(request)
                .setLogData(content.substring(0, headerBytes))
                .setStateMachineData(content.substring(headerBytes))
                .build();
    }

    @Override
    public CompletableFuture<?> write(LogEntryProto entry, TransactionContext context) {
        try {
            EntryHeaders header = headers(entry);
            SegmentLog segments = log;
            synchronized (catchUpLock) { // a snapshot install may be copying segments right now; wait for it
                if (segments.logEndOffset() < header.baseOffset()) {
                    fillGap(header.baseOffset(), GAP_ATTEMPTS_IN_WRITE);
                }
                if (segments.logEndOffset() > header.baseOffset()) {
                    checkTruncation(header.baseOffset(), "a Raft entry at index " + entry.getIndex() + " replaces it");
                    LOGGER.info("Partition {} drops uncommitted tail from offset {} (log end {})",
                            segmentDir.getFileName(), header.baseOffset(), segments.logEndOffset());
                    segments.truncateTo(header.baseOffset());
                }
            }
            ByteString data = entry.getStateMachineLogEntry().getStateMachineEntry().getStateMachineData();
            segments.append(data.asReadOnlyByteBuffer(), !validatedHere(context));
            unappliedOffsets.put(entry.getIndex(), header.baseOffset());
            return CompletableFuture.completedFuture(null);
        } catch (IOException | RuntimeException e) {
            // Thrown, not returned as a failed future: Ratis calls write() before it queues the entry for its log
            // file and its cache, so a throw keeps the entry out of the Raft log altogether (a failed future would
            // leave its header in the log without its batch in the segments).
            LOGGER.error("Partition {} failed to write entry {}: {}", segmentDir.getFileName(), entry.getIndex(),
                    e.toString());
            throw e instanceof RuntimeException r ? r : new java.io.UncheckedIOException((IOException) e);
        }
    }

    /** Attempts to copy a missing range from the leader when a Raft entry's batch must follow a gap (see fillGap). */
    private static final int GAP_ATTEMPTS_IN_WRITE = 3;
    /** While applying, a gap is retried until the leader serves it (logged every {@value #GAP_LOG_EVERY} attempts). */
    private static final int GAP_LOG_EVERY = 20;
    private static final long GAP_RETRY_MS = 500;

    /**
     * The segment log ends before {@code offset}, yet the Raft log holds entries up to it: their batches were lost
     * (a power cut after the Raft log but before the segments reached the disk, or a crash while a snapshot's segments
     * were being copied). Every replica's batches at those offsets are the same bytes (committed data, or the entries
     * the leader just matched this log against), so they are copied from the leader's segments. Gives up after
     * {@code attempts} tries ({@code <= 0}: never), throwing.
     */
    private void fillGap(long offset, int attempts) throws IOException {
        SegmentLog segments = log;
        LOGGER.warn("Partition {} lacks batches from offset {} up to {} that its Raft log holds; copying them from the"
                + " leader", topicPartition, segments.logEndOffset(), offset);
        for (int attempt = 1; segments.logEndOffset() < offset; attempt++) {
            try {
                ByteBuffer batches = snapshotSource.records(currentLeader(), topicPartition, segments.logEndOffset(),
                        offset);
                if (batches.hasRemaining()) {
                    appendOneByOne(segments, batches, offset);
                    continue;
                }
                throw new IOException("the leader returned no batches at offset " + segments.logEndOffset());
            } catch (IOException e) {
                if (attempts > 0 && attempt >= attempts) {
                    throw new IOException("partition " + topicPartition + " cannot fill the gap in its segment log"
                            + " from offset " + segments.logEndOffset() + " to " + offset + ": " + e.getMessage(), e);
                }
                if (attempt % GAP_LOG_EVERY == 1) {
                    LOGGER.error("Partition {} still lacks batches from offset {} to {} (attempt {}): {}",
                            topicPartition, segments.logEndOffset(), offset, attempt, e.toString());
                }
                sleepBeforeRetry();
            }
        }
        segments.flush();
        LOGGER.info("Partition {} copied the missing batches from the leader; segment log ends at {}", topicPartition,
                segments.logEndOffset());
    }

    private static void sleepBeforeRetry() throws IOException {
        try {
            Thread.sleep(GAP_RETRY_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for the leader");
        }
    }

    /**
     * Committed data (below the high watermark) is never truncated: Raft only drops uncommitted entries, so a request
     * to do so means this replica's state is inconsistent. The replica stops loudly (the exception stops its Raft
     * group's writes or applies) rather than lose committed records.
     */
    private void checkTruncation(long offset, String why) {
        if (offset < highWatermark) {
            String message = "partition " + topicPartition + " refuses to truncate its segment log to offset " + offset
                    + ", below its high watermark " + highWatermark + " (" + why + ")";
            LOGGER.error("{}; the replica stops", message);
            throw new IllegalStateException(message);
        }
    }

    private RaftServer.Division division() throws IOException {
        RaftServer.Division d = division;
        if (d == null) {
            division = d = getServer().join().getDivision(getGroupId());
        }
        return d;
    }

    /**
     * On the leader, before an entry is built: refuses a batch stamped with another term than the one Ratis appends it
     * in, then allocates disk blocks for its batch, so a full disk refuses the write with a StateMachineException
     * (answered as KAFKA_STORAGE_ERROR) while the log stays intact.
     */
    @Override
    public TransactionContext preAppendTransaction(TransactionContext trx) throws IOException {
        if (!trx.getStateMachineLogEntry().hasStateMachineEntry()) {
            return trx; // a log start entry: no batch to store
        }
        ByteString batches = trx.getStateMachineLogEntry().getStateMachineEntry().getStateMachineData();
        long term = division().getInfo().getCurrentTerm();
        int at = 0;
        for (EntryHeader h : headers(trx.getStateMachineLogEntry().getLogData()).headers()) {
            LeaderEpochStamp.check(batches, at, term);
            at += h.batchBytes();
        }
        int bytes = batches.size();
        try {
            log.reserve(bytes);
        } catch (IOException e) {
            long now = System.nanoTime();
            if (now - lastReserveWarningNanos > java.util.concurrent.TimeUnit.SECONDS.toNanos(10)) {
                lastReserveWarningNanos = now;
                LOGGER.warn("Partition {} refuses writes: cannot reserve {} bytes of disk ({}); logged once per 10 s",
                        segmentDir.getFileName(), bytes, e.getMessage());
            }
            throw new org.apache.ratis.protocol.exceptions.StateMachineException("partition "
                    + segmentDir.getFileName() + " cannot reserve " + bytes + " bytes of disk: " + e.getMessage(), e,
                    false);
        }
        return trx;
    }

    /**
     * Whether this replica built the entry from a produce request: {@link PartitionReplica#append} checked the batch's
     * CRC before stamping it, so the segment append need not check it again. Entries from the leader (on followers,
     * Ratis' context has no client request) are checked.
     */
    private static boolean validatedHere(TransactionContext context) {
        return context != null && context.getClientRequest() != null;
    }

    @Override
    public CompletableFuture<Void> flush(long logIndex) {
        if (!fsync) {
            return CompletableFuture.completedFuture(null);
        }
        SegmentLog segments = log;
        return CompletableFuture.runAsync(() -> {
            try {
                segments.flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, flushExecutor);
    }

    @Override
    public CompletableFuture<Void> truncate(long logIndex) {
        Map.Entry<Long, Long> first = unappliedOffsets.ceilingEntry(logIndex);
        if (first == null) {
            return CompletableFuture.completedFuture(null);
        }
        try {
            checkTruncation(first.getValue(), "Raft truncates its log to index " + logIndex);
            LOGGER.info("Partition {} truncates to offset {} with Raft index {}",
                    segmentDir.getFileName(), first.getValue(), logIndex);
            log.truncateTo(first.getValue());
            unappliedOffsets.tailMap(logIndex, true).clear();
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<ByteString> read(LogEntryProto entry, TransactionContext context) {
        if (context != null && context.getStateMachineLogEntry().hasStateMachineEntry()) {
            return CompletableFuture.completedFuture(
                    context.getStateMachineLogEntry().getStateMachineEntry().getStateMachineData());
        }
        EntryHeaders headers = headers(entry);
        ByteString data = ByteString.EMPTY;
        long next = headers.baseOffset();
        try {
            while (next < headers.nextOffset()) { // the batches of one entry may span segments (copied one by one)
                MemoryRecords records = log.read(next, Integer.MAX_VALUE, headers.nextOffset(), true);
                if (records.sizeInBytes() == 0) {
                    break;
                }
                data = data.concat(UnsafeByteOperations.unsafeWrap(records.buffer()));
                next = lastOffsetOf(records) + 1;
            }
        } catch (io.fluxmq.raft.log.OffsetOutOfRangeException e) {
            data = ByteString.EMPTY;
        }
        if (data.size() != headers.batchBytes()) {
            return CompletableFuture.failedFuture(new IOException("segment log of " + segmentDir.getFileName()
                    + " lacks the batches at offsets " + headers.baseOffset() + ".." + (headers.nextOffset() - 1)
                    + " for Raft index " + entry.getIndex()));
        }
        return CompletableFuture.completedFuture(data);
    }

    /**
     * After Ratis installed a snapshot sent by the leader (the leader purged Raft entries this follower still
     * needed), the snapshot file says how far the partition's committed data goes, but the batches are not in it.
     * Keep this replica's committed prefix (identical on every replica), drop anything after it, and copy the
     * missing committed batches from the leader's segment log, so the segments end up byte-identical.
     */
    /**
     * Where this replica's own committed prefix ended when a segment copy began that has not completed; -1 when none.
     * A retried install keeps only that prefix and copies the rest again.
     */
    private long unfinishedCopyFrom = -1;

    void catchUpSegments(long committedPrefix, long target) throws IOException {
        synchronized (catchUpLock) {
            catchUpSegmentsLocked(committedPrefix, target);
        }
    }

    private void catchUpSegmentsLocked(long committedPrefix, long target) throws IOException {
        SegmentLog segments = log;
        if (unfinishedCopyFrom >= 0) {
            // an earlier install was interrupted: what it copied is not this replica's own committed prefix, and on a
            // compacted topic it may predate the leader's compaction since (values whose tombstones are gone now)
            committedPrefix = Math.min(committedPrefix, unfinishedCopyFrom);
        }
        if (segments.logEndOffset() < snapshotLogStart) {
            segments.resetTo(snapshotLogStart); // everything here lies below the leader's log start
        } else if (segments.logEndOffset() > Math.max(committedPrefix, snapshotLogStart)) {
            segments.truncateTo(Math.max(committedPrefix, snapshotLogStart));
        }
        segments.advanceLogStart(Math.min(snapshotLogStart, segments.logEndOffset()));
        if (segments.logEndOffset() >= target) {
            return;
        }
        int leader = currentLeader();
        long copiedFrom = segments.logEndOffset();
        unfinishedCopyFrom = copiedFrom;
        while (segments.logEndOffset() < target) {
            SnapshotSource.SegmentRecords read = snapshotSource.segmentRecords(leader, topicPartition,
                    segments.logEndOffset(), target);
            ByteBuffer batches = read.batches();
            if (!batches.hasRemaining()) {
                throw new IOException("leader " + leader + " returned no records at offset " + segments.logEndOffset());
            }
            if (read.segmentBase() >= segments.logEndOffset()) {
                // the leader's next segment starts here: so does this replica's (a compacted log's segments are
                // smaller than segment.bytes, so rolling by size alone would group its batches differently)
                segments.rollIfNotEmpty(read.segmentBase(), "the leader's segment starts at " + read.segmentBase());
            }
            appendOneByOne(segments, batches, target);
        }
        segments.flush();
        unfinishedCopyFrom = -1;
        LOGGER.info("Partition {} installed snapshot from node {}: copied segments from offset {} up to offset {}"
                + " (log start {})", topicPartition, leader, copiedFrom, segments.logEndOffset(),
                segments.logStartOffset());
    }

    /**
     * Appends copied batches one at a time, as the leader appended them, so segments roll at the same batches and the
     * files end up byte-identical to the leader's; stops at {@code limit}.
     */
    private static void appendOneByOne(SegmentLog segments, ByteBuffer batches, long limit) throws IOException {
        MemoryRecords records = MemoryRecords.readableRecords(batches.slice());
        for (org.apache.kafka.common.record.MutableRecordBatch batch : records.batches()) {
            if (batch.baseOffset() >= limit) {
                return;
            }
            ByteBuffer one = ByteBuffer.allocate(batch.sizeInBytes());
            batch.writeTo(one);
            segments.appendCopied(one.flip()); // the leader's log may be compacted: gaps between batches
        }
    }

    private int currentLeader() throws IOException {
        try {
            org.apache.ratis.protocol.RaftPeerId id = getServer().get().getDivision(getGroupId()).getInfo()
                    .getLeaderId();
            if (id == null) {
                throw new IOException("no known leader to copy segments from");
            }
            return PartitionReplica.nodeId(id);
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new IOException(e);
        }
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        if (!isBatch(entry)) {
            return applyLogStart(entry);
        }
        EntryHeaders header = headers(entry);
        if (log.logEndOffset() < header.nextOffset()) {
            // a committed entry whose batch is not here: copied from the leader before the high watermark passes it
            try {
                synchronized (catchUpLock) {
                    fillGap(header.nextOffset(), 0);
                }
            } catch (IOException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        synchronized (this) {
            for (EntryHeader batch : header.headers()) {
                appliedProducers.record(batch);
                txnIndex.record(batch);
            }
            int epoch = (int) entry.getTerm();
            if (epochStartOffsets.isEmpty() || epochStartOffsets.lastKey() < epoch) {
                epochStartOffsets.put(epoch, header.baseOffset());
            }
            highWatermark = header.nextOffset();
            lastStableOffset = txnIndex.lastStableOffset(highWatermark);
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        }
        unappliedOffsets.headMap(entry.getIndex(), true).clear();
        long hw = header.nextOffset();
        for (LongConsumer listener : highWatermarkListeners) {
            listener.accept(hw);
        }
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public long takeSnapshot() throws IOException {
        TermIndex applied;
        long hw;
        long logStart;
        ProducerStateTable producers;
        java.util.TreeMap<Integer, Long> epochs;
        byte[] txns = null;
        synchronized (this) {
            if (txnIndex.hasOpen() || txnIndex.abortedCount() > 0) {
                java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                txnIndex.writeTo(new DataOutputStream(bytes));
                txns = bytes.toByteArray();
            }
            applied = getLastAppliedTermIndex();
            hw = highWatermark;
            logStart = log.logStartOffset();
            producers = appliedProducers.copy();
            epochs = new java.util.TreeMap<>(epochStartOffsets);
        }
        if (applied == null || applied.getIndex() < 0) {
            return -1;
        }
        log.flush();
        File file = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
        byte[] txnBytes = txns;
        storage.updateLatestSnapshot(SnapshotFiles.write(file, applied, stream -> {
            DataOutputStream out = new DataOutputStream(stream);
            out.writeInt(SNAPSHOT_MAGIC);
            out.writeShort(txnBytes == null ? SNAPSHOT_VERSION_NO_TXN : SNAPSHOT_VERSION);
            out.writeLong(hw);
            out.writeLong(logStart);
            producers.writeTo(out);
            out.writeInt(epochs.size());
            for (Map.Entry<Integer, Long> e : epochs.entrySet()) {
                out.writeInt(e.getKey());
                out.writeLong(e.getValue());
            }
            if (txnBytes != null) {
                out.write(txnBytes);
            }
            out.flush();
        }));
        LOGGER.debug("Partition {} snapshot at {} (high watermark {})", segmentDir.getFileName(), applied, hw);
        return applied.getIndex();
    }

    @Override
    public void close() throws IOException {
        super.close();
        SegmentLog segments = log;
        if (segments != null) {
            segments.close();
        }
    }

    /**
     * Moves the log start: every replica deletes its segments below it, in log order. A replica whose segment log
     * does not reach the offset yet (it is catching up) takes it as far as it can; the snapshot it installs carries
     * the rest.
     */
    private CompletableFuture<Message> applyLogStart(LogEntryProto entry) {
        LogStartEntry logStart = LogStartEntry.parse(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
        try {
            long target = Math.min(logStart.logStartOffset(), Math.min(highWatermark, log.logEndOffset()));
            log.advanceLogStart(target);
        } catch (IOException e) {
            LOGGER.warn("Partition {} could not delete segments below {}: {}", topicPartition,
                    logStart.logStartOffset(), e.toString());
        }
        synchronized (this) {
            txnIndex.trimBelow(log.logStartOffset());
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        }
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    /** Whether a partition Raft log entry carries a record batch (else it is a {@link LogStartEntry}). */
    static boolean isBatch(LogEntryProto entry) {
        return entry.hasStateMachineLogEntry()
                && !LogStartEntry.is(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
    }

    static EntryHeaders headers(LogEntryProto entry) {
        return headers(entry.getStateMachineLogEntry().getLogData());
    }

    private static EntryHeaders headers(ByteString logData) {
        return EntryHeaders.parse(logData.asReadOnlyByteBuffer());
    }

    private static long lastOffsetOf(MemoryRecords records) {
        long last = -1;
        for (org.apache.kafka.common.record.RecordBatch batch : records.batches()) {
            last = batch.lastOffset();
        }
        return last;
    }

    /** The applied producer table and the last applied index, read together. */
    synchronized AppliedState appliedState() {
        TermIndex applied = getLastAppliedTermIndex();
        return new AppliedState(applied == null ? -1 : applied.getIndex(), highWatermark, appliedProducers.copy());
    }

    record AppliedState(long index, long highWatermark, ProducerStateTable producers) {}

    /** Whether a committed batch of this producer with exactly these sequences and offsets was applied. */
    synchronized boolean applied(long producerId, short epoch, ProducerStateTable.BatchMetadata batch) {
        return appliedProducers.contains(producerId, epoch, batch);
    }

    public SegmentLog log() {
        return log;
    }

    /**
     * Kafka's OffsetForLeaderEpoch over committed data: the largest epoch at or below {@code epoch} and the offset
     * where the next epoch starts (or the high watermark when it is the latest); (-1, -1) when unknown.
     */
    public synchronized long[] endOffsetForEpoch(int epoch) {
        Map.Entry<Integer, Long> floor = epochStartOffsets.floorEntry(epoch);
        if (floor == null) {
            return new long[] {-1, -1};
        }
        Map.Entry<Integer, Long> next = epochStartOffsets.higherEntry(floor.getKey());
        return new long[] {floor.getKey(), next == null ? highWatermark : next.getValue()};
    }

    public long highWatermark() {
        return highWatermark;
    }

    /** The last stable offset: where {@code read_committed} reads end (the high watermark without open transactions). */
    public long lastStableOffset() {
        return lastStableOffset;
    }

    /** The aborted transactions a {@code read_committed} fetch of {@code [from, to)} reports. */
    public synchronized List<TxnIndex.AbortedTxn> abortedTransactions(long from, long to) {
        return txnIndex.aborted(from, to);
    }

    /** Open transactions of the applied entries: producer id to first offset. */
    public synchronized Map<Long, Long> openTransactions() {
        return txnIndex.open();
    }

    /** The producers of the applied entries with their open transactions (see {@link Partition#activeProducers}). */
    public synchronized List<ProducerState> activeProducers() {
        return ProducerState.of(appliedProducers, txnIndex);
    }

    public void addHighWatermarkListener(LongConsumer listener) {
        highWatermarkListeners.add(listener);
    }

    public void removeHighWatermarkListener(LongConsumer listener) {
        highWatermarkListeners.remove(listener);
    }

    static ByteString concat(ByteBuffer header, ByteBuffer batch) {
        return UnsafeByteOperations.unsafeWrap(header).concat(UnsafeByteOperations.unsafeWrap(batch));
    }
}
