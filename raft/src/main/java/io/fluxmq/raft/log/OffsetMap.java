package io.fluxmq.raft.log;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * The cleaner's map from record key to the offset of its latest record in the dirty part of a log, with a memory
 * budget (Kafka's {@code log.cleaner.dedupe.buffer.size}). Keys are copied (exact bytes, no hash collisions); each
 * entry is charged its key size plus {@value #ENTRY_OVERHEAD} bytes of map overhead.
 *
 * <p>Not thread-safe: one cleaner pass owns it.
 */
final class OffsetMap {

    static final int ENTRY_OVERHEAD = 64;

    private final long budgetBytes;
    private final Map<ByteBuffer, Long> offsets = new HashMap<>();
    private long bytes;

    OffsetMap(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    /** Records {@code offset} as the latest of {@code key} (a later put wins); the key bytes are copied. */
    void put(ByteBuffer key, long offset) {
        ByteBuffer copy = ByteBuffer.allocate(key.remaining()).put(key.duplicate()).flip();
        if (offsets.put(copy, offset) == null) {
            bytes += copy.capacity() + ENTRY_OVERHEAD;
        }
    }

    /** The latest offset of {@code key}, or -1 when the dirty part does not hold it. */
    long get(ByteBuffer key) {
        Long offset = offsets.get(key);
        return offset == null ? -1 : offset;
    }

    boolean isFull() {
        return bytes >= budgetBytes;
    }

    int size() {
        return offsets.size();
    }
}
