package io.fluxmq.kafka.group;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Where a {@link GroupShard} persists its records: one partition of {@code __consumer_offsets}. */
interface OffsetsLog {
    /** Appends the entries as one batch; completes once they are committed (replicated), or with the failure. */
    CompletableFuture<Void> append(List<GroupRecords.Entry> entries);
}
