package io.fluxmq.kafka.fetch;

import org.apache.kafka.common.message.FetchResponseData;

/** What was read for one partition, before the fetch context decides whether the response carries it. */
public record PartitionResult(PartitionKey key, FetchResponseData.PartitionData data) {
}
