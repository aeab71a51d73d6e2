package io.fluxmq.kafka.fetch;

/** Where to read one partition: from the request, or for a partition an incremental request left out, the session. */
public record FetchPosition(PartitionKey key, long fetchOffset, int maxBytes, int currentLeaderEpoch) {
}
