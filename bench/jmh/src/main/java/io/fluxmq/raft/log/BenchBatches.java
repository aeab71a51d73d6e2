package io.fluxmq.raft.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;

/**
 * Record batches as producers send them (100-byte values, uncompressed, about {@code bytes} in all), and the clean-up
 * of a benchmark's temporary log directory.
 */
public final class BenchBatches {
    public static final int VALUE_BYTES = 100;

    private BenchBatches() {
    }

    /** A magic-2 batch of 100-byte records, about {@code bytes} long (at least one record). */
    public static MemoryRecords ofAbout(int bytes) {
        int count = Math.max(1, bytes / (VALUE_BYTES + 10));
        SimpleRecord[] records = new SimpleRecord[count];
        byte[] value = new byte[VALUE_BYTES];
        Arrays.fill(value, (byte) 'x');
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(1_700_000_000_000L + i, null, value);
        }
        return MemoryRecords.withRecords(Compression.NONE, records);
    }

    /** Deletes a benchmark's temporary directory and everything in it. */
    public static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
