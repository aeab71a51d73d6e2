package io.fluxmq.kafka.fetch;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchMetadata;

/**
 * The node's fetch sessions (KIP-227), as Kafka keeps them: a full fetch with epoch 0 gets a new session when a slot
 * is free (or one can be evicted), epoch -1 closes a session and fetches without one, and an incremental fetch must
 * name a live session and its current epoch ({@code FETCH_SESSION_ID_NOT_FOUND}, {@code INVALID_FETCH_SESSION_EPOCH}
 * otherwise). When every slot is taken, a new session evicts the least recently used one if that has been idle
 * longer than the eviction time, else the smallest session older than the eviction time if the new one has more
 * partitions; otherwise it is not created and the client keeps sending full fetches.
 *
 * <p>Thread-safe: one lock guards the sessions and their contents; it is held only for map and field updates.
 */
public final class FetchSessionCache {
    /** Kafka's {@code max.incremental.fetch.session.cache.slots}: sessions kept per node; 0 turns sessions off. */
    public static final String SLOTS_KEY = "max.incremental.fetch.session.cache.slots";
    public static final int SLOTS_DEFAULT = 1000;
    /** Kafka's {@code min.incremental.fetch.session.eviction.ms}: how long a session is safe from eviction. */
    public static final String EVICTION_MS_KEY = "min.incremental.fetch.session.eviction.ms";
    public static final long EVICTION_MS_DEFAULT = 120_000;

    private final int maxSlots;
    private final long evictionMs;
    private final LongSupplier clockMs;
    private final IntSupplier ids;
    /** By id, least recently used first. */
    private final LinkedHashMap<Integer, FetchSession> sessions = new LinkedHashMap<>();

    public FetchSessionCache(int maxSlots, long evictionMs, LongSupplier clockMs, IntSupplier ids) {
        if (maxSlots < 0 || evictionMs < 0) {
            throw new IllegalArgumentException("fetch session slots and eviction time must not be negative");
        }
        this.maxSlots = maxSlots;
        this.evictionMs = evictionMs;
        this.clockMs = clockMs;
        this.ids = ids;
    }

    public FetchSessionCache(int maxSlots, long evictionMs) {
        this(maxSlots, evictionMs, System::currentTimeMillis, () -> ThreadLocalRandom.current().nextInt());
    }

    public synchronized int size() {
        return sessions.size();
    }

    /** Classifies a request and, for an incremental one, applies it to its session (new epoch, added, forgotten). */
    public FetchContext newContext(short version, FetchRequestData request) {
        boolean usesTopicIds = version >= 13;
        List<FetchPosition> requested = new ArrayList<>();
        for (FetchRequestData.FetchTopic topic : request.topics()) {
            for (FetchRequestData.FetchPartition p : topic.partitions()) {
                requested.add(new FetchPosition(PartitionKey.of(version, topic.topicId(), topic.topic(), p.partition()),
                        p.fetchOffset(), p.partitionMaxBytes(), p.currentLeaderEpoch()));
            }
        }
        int epoch = request.sessionEpoch();
        if (epoch == FetchMetadata.INITIAL_EPOCH || epoch == FetchMetadata.FINAL_EPOCH) {
            if (request.sessionId() != FetchMetadata.INVALID_SESSION_ID) {
                synchronized (this) {
                    sessions.remove(request.sessionId());
                }
            }
            return epoch == FetchMetadata.FINAL_EPOCH ? new FetchContext.Sessionless(requested)
                    : new FetchContext.Full(requested, usesTopicIds, this);
        }
        synchronized (this) {
            FetchSession session = sessions.get(request.sessionId());
            if (session == null) {
                return new FetchContext.SessionError(Errors.FETCH_SESSION_ID_NOT_FOUND);
            }
            if (session.epoch() != epoch) {
                return new FetchContext.SessionError(Errors.INVALID_FETCH_SESSION_EPOCH);
            }
            if (session.usesTopicIds() != usesTopicIds) {
                return new FetchContext.SessionError(Errors.FETCH_SESSION_TOPIC_ID_ERROR);
            }
            for (FetchPosition p : requested) {
                session.put(p, -1, -1); // a new partition answers in the next response whatever it holds
            }
            for (FetchRequestData.ForgottenTopic topic : request.forgottenTopicsData()) {
                for (int partition : topic.partitions()) {
                    session.remove(PartitionKey.of(version, topic.topicId(), topic.topic(), partition));
                }
            }
            sessions.remove(session.id());
            if (session.size() == 0) {
                return new FetchContext.Sessionless(requested);
            }
            session.touch(FetchMetadata.nextEpoch(epoch), clockMs.getAsLong());
            sessions.put(session.id(), session);
            return new FetchContext.Incremental(session.positions(), session, this);
        }
    }

    /** A new session over a full fetch's partitions and results; its id, or 0 when none fits. */
    synchronized int maybeCreate(List<FetchPosition> positions, List<PartitionResult> results, boolean usesTopicIds) {
        long now = clockMs.getAsLong();
        if (sessions.size() >= maxSlots && !evictFor(positions.size(), now)) {
            return FetchMetadata.INVALID_SESSION_ID;
        }
        int id = newId();
        if (id == FetchMetadata.INVALID_SESSION_ID) {
            return id;
        }
        FetchSession session = new FetchSession(id, usesTopicIds, now);
        for (int i = 0; i < positions.size(); i++) {
            FetchResponseData.PartitionData data = results.get(i).data();
            session.put(positions.get(i), data.errorCode() == Errors.NONE.code() ? data.highWatermark() : -1,
                    data.logStartOffset());
        }
        sessions.put(id, session);
        return id;
    }

    /**
     * The results an incremental response carries: partitions with records, with an error, or whose high watermark
     * or log start offset changed since the session last sent them. Records the values sent, and moves partitions
     * that returned data to the end of the session's order.
     */
    synchronized List<PartitionResult> selectChanged(FetchSession session, List<PartitionResult> results) {
        List<PartitionResult> out = new ArrayList<>();
        for (PartitionResult result : results) {
            FetchSession.Cached cached = session.get(result.key());
            if (cached == null) {
                continue; // forgotten by a later request while this one waited
            }
            FetchResponseData.PartitionData data = result.data();
            boolean records = data.records() != null && data.records().sizeInBytes() > 0;
            boolean error = data.errorCode() != Errors.NONE.code();
            boolean changed = cached.highWatermark != data.highWatermark()
                    || cached.logStartOffset != data.logStartOffset();
            cached.highWatermark = error ? -1 : data.highWatermark(); // an error answers again once it is gone
            cached.logStartOffset = data.logStartOffset();
            if (records && !error) {
                session.moveToEnd(result.key());
            }
            if (records || error || changed) {
                out.add(result);
            }
        }
        return out;
    }

    private boolean evictFor(int size, long now) {
        Iterator<FetchSession> lru = sessions.values().iterator();
        if (!lru.hasNext()) {
            return false;
        }
        FetchSession oldest = lru.next();
        if (now - oldest.lastUsedMs() > evictionMs) {
            sessions.remove(oldest.id());
            return true;
        }
        FetchSession smallest = null;
        for (FetchSession s : sessions.values()) {
            boolean evictable = now - s.createdMs() > evictionMs;
            if (evictable && (smallest == null || s.size() < smallest.size()
                    || s.size() == smallest.size() && s.id() < smallest.id())) {
                smallest = s;
            }
        }
        if (smallest != null && size > smallest.size()) {
            sessions.remove(smallest.id());
            return true;
        }
        return false;
    }

    private int newId() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int id = ids.getAsInt();
            if (id > 0 && !sessions.containsKey(id)) {
                return id;
            }
        }
        return FetchMetadata.INVALID_SESSION_ID;
    }
}
