package io.fluxmq.raft.partition;

import io.fluxmq.raft.log.SegmentLog;
import io.fluxmq.raft.log.SegmentLogConfig;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
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
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft state machine of one partition. Its state is the partition's {@link SegmentLog} plus the high watermark
 * and the idempotent-producer table.
 *
 * <ul>
 *   <li>{@link #startTransaction}: the message is {@link EntryHeader} bytes followed by one record batch whose base
 *       offset and leader epoch the leader already stamped; the header becomes the Raft log data, the batch the
 *       state-machine data, so Ratis never writes record bytes into its own log.</li>
 *   <li>{@link #write}: on every replica, in log order, appends the batch to the segment log (truncating a stale tail
 *       first when the batch overlaps it: that tail was never committed).</li>
 *   <li>{@link #truncate}: Raft dropped uncommitted entries; the segment log drops the same batches.</li>
 *   <li>{@link #applyTransaction}: the entry is committed; the high watermark advances and producer state is recorded.</li>
 *   <li>{@link #takeSnapshot}: flushes the segments and writes {@code hw, producer table} to a snapshot file, after
 *       which Ratis may purge its log.</li>
 * </ul>
 * Snapshot file format (big endian): {@code magic:int32 0x464c5831 | version:int16 (=1) | highWatermark:int64 |
 * producer table (see ProducerStateTable#writeTo) | epochCount:int32 | epochCount × (epoch:int32, startOffset:int64)}.
 */
public final class PartitionStateMachine extends BaseStateMachine {
    private static final Logger LOGGER = LoggerFactory.getLogger(PartitionStateMachine.class);
    private static final int SNAPSHOT_MAGIC = 0x464c5831;
    private static final short SNAPSHOT_VERSION = 1;

    private final Path segmentDir;
    private final SegmentLogConfig segmentConfig;
    private final boolean fsync;
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final List<LongConsumer> highWatermarkListeners = new CopyOnWriteArrayList<>();
    /** Raft index to base offset of entries written to the segment log but not yet applied. */
    private final ConcurrentSkipListMap<Long, Long> unappliedOffsets = new ConcurrentSkipListMap<>();

    private volatile SegmentLog log;
    private volatile long highWatermark;
    private ProducerStateTable appliedProducers = new ProducerStateTable();
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
                                 java.util.function.IntConsumer onLeaderReady, SnapshotSource snapshotSource) {
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
        storage.init(raftStorage);
        log = SegmentLog.open(segmentDir, segmentConfig, System::currentTimeMillis);
        loadSnapshot(storage.loadLatestSnapshot());
        getLifeCycle().transition(LifeCycle.State.STARTING);
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    /** Ratis pauses the state machine before installing a snapshot from the leader, then calls reinitialize. */
    @Override
    public void pause() {
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    @Override
    public void reinitialize() throws IOException {
        long committedPrefix = highWatermark;
        unappliedOffsets.clear();
        loadSnapshot(storage.loadLatestSnapshot());
        catchUpSegments(committedPrefix, highWatermark);
        getLifeCycle().transitionIfValid(LifeCycle.State.STARTING);
        getLifeCycle().transitionIfValid(LifeCycle.State.RUNNING);
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
            return;
        }
        Path file = snapshot.getFile().getPath();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != SNAPSHOT_MAGIC || in.readShort() != SNAPSHOT_VERSION) {
                throw new IOException("not a FluxMQ partition snapshot: " + file);
            }
            long hw = in.readLong();
            appliedProducers = ProducerStateTable.readFrom(in);
            epochStartOffsets.clear();
            int epochs = in.readInt();
            for (int i = 0; i < epochs; i++) {
                epochStartOffsets.put(in.readInt(), in.readLong());
            }
            if (hw > log.logEndOffset()) {
                LOGGER.info("Snapshot {} has high watermark {} beyond the segment log end {}",
                        file, hw, log.logEndOffset());
            }
            highWatermark = hw;
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
        return TransactionContext.newBuilder()
                .setStateMachine(this)
                .setClientRequest(request)
                .setLogData(content.substring(0, EntryHeader.SIZE))
                .setStateMachineData(content.substring(EntryHeader.SIZE))
                .build();
    }

    @Override
    public CompletableFuture<?> write(LogEntryProto entry, TransactionContext context) {
        try {
            EntryHeader header = header(entry);
            SegmentLog segments = log;
            if (segments.logEndOffset() > header.baseOffset()) {
                LOGGER.info("Partition {} drops uncommitted tail from offset {} (log end {})",
                        segmentDir.getFileName(), header.baseOffset(), segments.logEndOffset());
                segments.truncateTo(header.baseOffset());
            }
            ByteString data = entry.getStateMachineLogEntry().getStateMachineEntry().getStateMachineData();
            segments.append(data.asReadOnlyByteBuffer());
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

    /**
     * On the leader, before an entry is built: allocates disk blocks for its batch, so a full disk refuses the write
     * with a StateMachineException (answered as KAFKA_STORAGE_ERROR) while the log stays intact.
     */
    @Override
    public TransactionContext preAppendTransaction(TransactionContext trx) throws IOException {
        int bytes = trx.getStateMachineLogEntry().getStateMachineEntry().getStateMachineData().size();
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
        EntryHeader header = header(entry);
        MemoryRecords records = log.read(header.baseOffset(), Integer.MAX_VALUE, header.nextOffset(), true);
        if (records.sizeInBytes() != header.batchBytes()) {
            return CompletableFuture.failedFuture(new IOException("segment log of " + segmentDir.getFileName()
                    + " lacks the batch at offset " + header.baseOffset() + " for Raft index " + entry.getIndex()));
        }
        return CompletableFuture.completedFuture(UnsafeByteOperations.unsafeWrap(records.buffer()));
    }

    /**
     * After Ratis installed a snapshot sent by the leader (the leader purged Raft entries this follower still
     * needed), the snapshot file says how far the partition's committed data goes, but the batches are not in it.
     * Keep this replica's committed prefix (identical on every replica), drop anything after it, and copy the
     * missing committed batches from the leader's segment log, so the segments end up byte-identical.
     */
    private void catchUpSegments(long committedPrefix, long target) throws IOException {
        SegmentLog segments = log;
        if (segments.logEndOffset() >= target) {
            return;
        }
        if (segments.logEndOffset() > committedPrefix) {
            segments.truncateTo(committedPrefix);
        }
        int leader = currentLeader();
        while (segments.logEndOffset() < target) {
            ByteBuffer batches = snapshotSource.records(leader, topicPartition, segments.logEndOffset(), target);
            if (!batches.hasRemaining()) {
                throw new IOException("leader " + leader + " returned no records at offset " + segments.logEndOffset());
            }
            segments.append(batches);
        }
        segments.flush();
        LOGGER.info("Partition {} installed snapshot from node {}: copied segments up to offset {}", topicPartition,
                leader, segments.logEndOffset());
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
        EntryHeader header = header(entry);
        synchronized (this) {
            appliedProducers.record(header);
            int epoch = (int) entry.getTerm();
            if (epochStartOffsets.isEmpty() || epochStartOffsets.lastKey() < epoch) {
                epochStartOffsets.put(epoch, header.baseOffset());
            }
            highWatermark = header.nextOffset();
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
        ProducerStateTable producers;
        java.util.TreeMap<Integer, Long> epochs;
        synchronized (this) {
            applied = getLastAppliedTermIndex();
            hw = highWatermark;
            producers = appliedProducers.copy();
            epochs = new java.util.TreeMap<>(epochStartOffsets);
        }
        if (applied == null || applied.getIndex() < 0) {
            return -1;
        }
        log.flush();
        File file = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
        Path tmp = file.toPath().resolveSibling(file.getName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
            out.writeInt(SNAPSHOT_MAGIC);
            out.writeShort(SNAPSHOT_VERSION);
            out.writeLong(hw);
            producers.writeTo(out);
            out.writeInt(epochs.size());
            for (Map.Entry<Integer, Long> e : epochs.entrySet()) {
                out.writeInt(e.getKey());
                out.writeLong(e.getValue());
            }
        }
        Files.move(tmp, file.toPath(), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), applied));
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

    static EntryHeader header(LogEntryProto entry) {
        return EntryHeader.parse(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
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
