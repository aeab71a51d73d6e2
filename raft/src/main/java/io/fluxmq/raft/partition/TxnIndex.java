package io.fluxmq.raft.partition;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The transactions of one partition as its committed entries define them: the open transaction of each producer
 * (its first offset), which gives the last stable offset, and the aborted transactions (producer id, first offset,
 * offset of the ABORT marker) that a {@code read_committed} fetch reports so the client drops their records. Kafka
 * keeps the same in its {@code ProducerStateManager} and {@code .txnindex} files.
 *
 * <p>The input is the {@link EntryHeader#txn} of each committed batch, in log order ({@link #record}): a transactional
 * data batch opens its producer's transaction unless one is open; a COMMIT or ABORT marker closes it, and an ABORT
 * that closes a transaction adds it to the aborted list. A marker without an open transaction changes nothing (Kafka
 * writes markers to every partition of a transaction, also those its producer wrote nothing to). Every replica that
 * applied the same entries therefore holds the same index; it is part of the partition snapshot ({@link #writeTo}),
 * so a replica that starts from a snapshot, or installs one from the leader, continues from the same state. Aborted
 * transactions whose marker lies below the log start are dropped when the log start moves ({@link #trimBelow}).
 *
 * <p>Not thread-safe: owned by the partition state machine, which guards it with its own lock.
 */
public final class TxnIndex {
    /** One aborted transaction: its producer, its first offset and the offset of its ABORT marker. */
    public record AbortedTxn(long producerId, long firstOffset, long lastOffset) {}

    private final Map<Long, Long> openByProducer = new HashMap<>();
    /** First offset of each open transaction to its producer id; the smallest key bounds the last stable offset. */
    private final TreeMap<Long, Long> openByFirstOffset = new TreeMap<>();
    /** In marker (= last offset) order. */
    private final List<AbortedTxn> aborted = new ArrayList<>();

    /** Applies one committed batch's header, in log order. */
    public void record(EntryHeader header) {
        switch (header.txn()) {
            case EntryHeader.TXN_NONE -> {
            }
            case EntryHeader.TXN_DATA -> {
                if (!openByProducer.containsKey(header.producerId())) {
                    openByProducer.put(header.producerId(), header.baseOffset());
                    openByFirstOffset.put(header.baseOffset(), header.producerId());
                }
            }
            default -> {
                Long first = openByProducer.remove(header.producerId());
                if (first != null) {
                    openByFirstOffset.remove(first);
                    if (header.txn() == EntryHeader.TXN_ABORT) {
                        aborted.add(new AbortedTxn(header.producerId(), first, header.baseOffset()));
                    }
                }
            }
        }
    }

    /** The last stable offset for a high watermark: the first offset of the oldest open transaction, if lower. */
    public long lastStableOffset(long highWatermark) {
        return openByFirstOffset.isEmpty() ? highWatermark : Math.min(openByFirstOffset.firstKey(), highWatermark);
    }

    /** Whether a transaction is open (the last stable offset may trail the high watermark). */
    public boolean hasOpen() {
        return !openByFirstOffset.isEmpty();
    }

    /** The aborted transactions a fetch of {@code [from, to)} must report: marker at or after from, first before to. */
    public List<AbortedTxn> aborted(long from, long to) {
        List<AbortedTxn> out = new ArrayList<>();
        for (int i = firstEndingAtOrAfter(from); i < aborted.size(); i++) {
            AbortedTxn t = aborted.get(i);
            if (t.firstOffset() < to) {
                out.add(t);
            }
        }
        return out;
    }

    private int firstEndingAtOrAfter(long offset) {
        int lo = 0;
        int hi = aborted.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (aborted.get(mid).lastOffset() < offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Forgets aborted transactions whose marker lies below the log start. */
    public void trimBelow(long logStartOffset) {
        int n = firstEndingAtOrAfter(logStartOffset);
        if (n > 0) {
            aborted.subList(0, n).clear();
        }
    }

    /** Open transactions: producer id to first offset (a copy). */
    public Map<Long, Long> open() {
        return Map.copyOf(openByProducer);
    }

    public int abortedCount() {
        return aborted.size();
    }

    /**
     * Writes {@code openCount:int32 | openCount × (producerId:int64, firstOffset:int64) | abortedCount:int32 |
     * abortedCount × (producerId:int64, firstOffset:int64, lastOffset:int64)}, open transactions in first-offset
     * order, so equal indexes write equal bytes.
     */
    public void writeTo(DataOutput out) throws IOException {
        out.writeInt(openByFirstOffset.size());
        for (Map.Entry<Long, Long> e : openByFirstOffset.entrySet()) {
            out.writeLong(e.getValue());
            out.writeLong(e.getKey());
        }
        out.writeInt(aborted.size());
        for (AbortedTxn t : aborted) {
            out.writeLong(t.producerId());
            out.writeLong(t.firstOffset());
            out.writeLong(t.lastOffset());
        }
    }

    public static TxnIndex readFrom(DataInput in) throws IOException {
        TxnIndex index = new TxnIndex();
        int open = in.readInt();
        for (int i = 0; i < open; i++) {
            long producerId = in.readLong();
            long first = in.readLong();
            index.openByProducer.put(producerId, first);
            index.openByFirstOffset.put(first, producerId);
        }
        int count = in.readInt();
        for (int i = 0; i < count; i++) {
            index.aborted.add(new AbortedTxn(in.readLong(), in.readLong(), in.readLong()));
        }
        return index;
    }
}
