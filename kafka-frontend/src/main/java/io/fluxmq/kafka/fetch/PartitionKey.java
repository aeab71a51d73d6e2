package io.fluxmq.kafka.fetch;

import org.apache.kafka.common.Uuid;

/**
 * A partition as a Fetch request names it: by topic id from v13 ({@code topic} is then empty), by topic name before
 * ({@code topicId} is then zero).
 */
public record PartitionKey(Uuid topicId, String topic, int partition) {
    static PartitionKey of(short version, Uuid topicId, String topic, int partition) {
        return version >= 13 ? new PartitionKey(topicId, "", partition) : new PartitionKey(Uuid.ZERO_UUID, topic, partition);
    }
}
