package io.fluxmq.raft.log;

/**
 * What one cleaner pass over a log did.
 *
 * @param segmentsRead     segments rewritten or checked (0 when the pass found nothing to clean)
 * @param segmentsReplaced cleaned segment files installed (groups whose content changed)
 * @param bytesRead        bytes of batches read from the cleaned segments
 * @param bytesWritten     bytes of batches in the cleaned copies
 * @param recordsRemoved   records dropped (superseded values, expired tombstones, records without a key)
 * @param reason           why the pass did nothing, or "cleaned"
 */
public record CleanResult(int segmentsRead, int segmentsReplaced, long bytesRead, long bytesWritten,
                          long recordsRemoved, String reason) {

    static CleanResult skipped(String reason) {
        return new CleanResult(0, 0, 0, 0, 0, reason);
    }
}
