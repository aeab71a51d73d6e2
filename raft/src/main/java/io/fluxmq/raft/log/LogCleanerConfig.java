package io.fluxmq.raft.log;

import java.time.Duration;

/**
 * The node's log cleaner settings, with Kafka's broker names.
 *
 * @param enable              whether the node runs its cleaner thread ({@code log.cleaner.enable}, default true); with
 *                            it off, compacted topics are not cleaned (nor is retention applied to compact-only ones)
 * @param ioMaxBytesPerSecond the cleaner's budget of segment bytes read plus written per second
 *                            ({@code log.cleaner.io.max.bytes.per.second}, default unlimited)
 * @param backoff             the pause between two passes over the node's compacted partitions
 *                            ({@code log.cleaner.backoff.ms}, default 15 s)
 * @param dedupeBufferBytes   memory for the key map of one pass ({@code log.cleaner.dedupe.buffer.size}, default
 *                            128 MiB); a pass stops mapping at the segment where it fills and cleans that much
 */
public record LogCleanerConfig(boolean enable, long ioMaxBytesPerSecond, Duration backoff, long dedupeBufferBytes) {

    public static final String ENABLE_KEY = "log.cleaner.enable";
    public static final String IO_MAX_BYTES_PER_SECOND_KEY = "log.cleaner.io.max.bytes.per.second";
    public static final String BACKOFF_MS_KEY = "log.cleaner.backoff.ms";
    public static final String DEDUPE_BUFFER_SIZE_KEY = "log.cleaner.dedupe.buffer.size";
    public static final boolean ENABLE_DEFAULT = true;
    public static final long IO_MAX_BYTES_PER_SECOND_DEFAULT = Long.MAX_VALUE;
    public static final long BACKOFF_MS_DEFAULT = 15_000;
    public static final long DEDUPE_BUFFER_SIZE_DEFAULT = 128L << 20;

    public LogCleanerConfig {
        if (ioMaxBytesPerSecond < 1 || backoff.isNegative() || backoff.isZero() || dedupeBufferBytes < 1024) {
            throw new IllegalArgumentException("invalid log cleaner settings: " + IO_MAX_BYTES_PER_SECOND_KEY + "="
                + ioMaxBytesPerSecond + ", " + BACKOFF_MS_KEY + "=" + backoff.toMillis() + ", "
                + DEDUPE_BUFFER_SIZE_KEY + "=" + dedupeBufferBytes);
        }
    }

    public static LogCleanerConfig defaults() {
        return new LogCleanerConfig(ENABLE_DEFAULT, IO_MAX_BYTES_PER_SECOND_DEFAULT,
            Duration.ofMillis(BACKOFF_MS_DEFAULT), DEDUPE_BUFFER_SIZE_DEFAULT);
    }
}
