package io.fluxmq.kafka.fetch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * One incremental fetch session (KIP-227): the partitions a client fetches with their positions and the high
 * watermark and log start offset last sent for each, so an incremental request names only what changed and its
 * response carries only partitions with news. Partitions that returned data move to the end of the order, so the
 * byte budget of later fetches starts with the others (as Kafka does).
 *
 * <p>Not thread-safe: {@link FetchSessionCache} guards every access with its own lock.
 */
final class FetchSession {
    /** A partition of the session: the client's position and what the last response told it. */
    static final class Cached {
        long fetchOffset;
        int maxBytes;
        int currentLeaderEpoch;
        long highWatermark;
        long logStartOffset;

        Cached(FetchPosition position, long highWatermark, long logStartOffset) {
            update(position);
            this.highWatermark = highWatermark;
            this.logStartOffset = logStartOffset;
        }

        void update(FetchPosition position) {
            fetchOffset = position.fetchOffset();
            maxBytes = position.maxBytes();
            currentLeaderEpoch = position.currentLeaderEpoch();
        }
    }

    private final int id;
    private final boolean usesTopicIds;
    private final long createdMs;
    private final LinkedHashMap<PartitionKey, Cached> partitions = new LinkedHashMap<>();
    private int epoch = 1;
    private long lastUsedMs;

    FetchSession(int id, boolean usesTopicIds, long nowMs) {
        this.id = id;
        this.usesTopicIds = usesTopicIds;
        this.createdMs = nowMs;
        this.lastUsedMs = nowMs;
    }

    int id() {
        return id;
    }

    boolean usesTopicIds() {
        return usesTopicIds;
    }

    long createdMs() {
        return createdMs;
    }

    long lastUsedMs() {
        return lastUsedMs;
    }

    /** The epoch the next incremental request must carry. */
    int epoch() {
        return epoch;
    }

    int size() {
        return partitions.size();
    }

    /** Accepts an incremental request: the next epoch, and now as last use. */
    void touch(int nextEpoch, long nowMs) {
        epoch = nextEpoch;
        lastUsedMs = nowMs;
    }

    void put(FetchPosition position, long highWatermark, long logStartOffset) {
        Cached cached = partitions.get(position.key());
        if (cached == null) {
            partitions.put(position.key(), new Cached(position, highWatermark, logStartOffset));
        } else {
            cached.update(position);
        }
    }

    void remove(PartitionKey key) {
        partitions.remove(key);
    }

    Cached get(PartitionKey key) {
        return partitions.get(key);
    }

    /** Moves a partition to the end of the order. */
    void moveToEnd(PartitionKey key) {
        Cached cached = partitions.remove(key);
        if (cached != null) {
            partitions.put(key, cached);
        }
    }

    /** Every partition's position, in session order. */
    List<FetchPosition> positions() {
        List<FetchPosition> out = new ArrayList<>(partitions.size());
        partitions.forEach((key, c) -> out.add(new FetchPosition(key, c.fetchOffset, c.maxBytes, c.currentLeaderEpoch)));
        return out;
    }
}
