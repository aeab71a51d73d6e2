package io.fluxmq.raft.metadata;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * An immutable map over a private {@link HashMap}, for the partition-keyed maps of {@link ClusterState}.
 *
 * <p>Why not {@link Map#copyOf}: its tables probe linearly from {@code hashCode}, and the hash codes of
 * {@code TopicPartition}s of similarly named topics are few and adjacent ({@code topic-0001..0300} with 10 partitions
 * each: 570 distinct codes for 3,000 partitions, in one narrow range), so every lookup in a copy walked a run of
 * thousands of slots: building the metadata state after each change cost seconds of CPU at 3,000 partitions. A
 * {@link HashMap} chains equal codes in one bucket and keeps lookups short. Copying an already frozen map returns it.
 */
final class FrozenMap<K, V> extends AbstractMap<K, V> {
    private static final FrozenMap<?, ?> EMPTY = new FrozenMap<>(new HashMap<>());
    private final HashMap<K, V> map;

    private FrozenMap(HashMap<K, V> map) {
        this.map = map;
    }

    /** {@code source} itself when already frozen, else a frozen copy of it (no null keys or values). */
    @SuppressWarnings("unchecked")
    static <K, V> Map<K, V> of(Map<K, V> source) {
        if (source instanceof FrozenMap) {
            return source;
        }
        if (source.isEmpty()) {
            return (Map<K, V>) EMPTY;
        }
        HashMap<K, V> copy = new HashMap<>(source);
        if (copy.containsKey(null) || copy.containsValue(null)) {
            throw new NullPointerException("no null keys or values in cluster metadata");
        }
        return new FrozenMap<>(copy);
    }

    @Override
    public V get(Object key) {
        return map.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
        return map.containsKey(key);
    }

    @Override
    public int size() {
        return map.size();
    }

    @Override
    public Set<Entry<K, V>> entrySet() {
        return Collections.unmodifiableMap(map).entrySet();
    }

    @Override
    public Set<K> keySet() {
        return Collections.unmodifiableSet(map.keySet());
    }
}
