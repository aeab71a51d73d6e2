package io.fluxmq.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Hands out producer ids in blocks of {@value #BLOCK}; the end of the current block is persisted in
 * {@code <data-dir>/metadata/producer-ids} (one decimal number) before any id of it is used, so ids never repeat
 * across restarts. Thread-safe.
 */
final class ProducerIdBlocks {
    static final long BLOCK = 1000;
    private final Path file;
    private long next;
    private long blockEnd;

    ProducerIdBlocks(Path dataDir) throws IOException {
        this.file = dataDir.resolve("metadata").resolve("producer-ids");
        Files.createDirectories(file.getParent());
        next = Files.exists(file) ? Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim()) : 0;
        blockEnd = next;
    }

    synchronized long next() {
        if (next == blockEnd) {
            blockEnd = next + BLOCK;
            try {
                Path tmp = file.resolveSibling("producer-ids.tmp");
                Files.writeString(tmp, Long.toString(blockEnd), StandardCharsets.UTF_8);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot persist producer id block", e);
            }
        }
        return next++;
    }
}
