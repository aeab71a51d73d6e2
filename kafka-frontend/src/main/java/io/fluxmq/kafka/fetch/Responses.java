package io.fluxmq.kafka.fetch;

import java.util.List;
import org.apache.kafka.common.message.FetchResponseData;

/** Builds a Fetch response from per-partition results, grouping consecutive partitions of one topic. */
final class Responses {
    private Responses() {
    }

    static FetchResponseData of(int sessionId, List<PartitionResult> results) {
        FetchResponseData response = new FetchResponseData().setSessionId(sessionId);
        FetchResponseData.FetchableTopicResponse topic = null;
        PartitionKey previous = null;
        for (PartitionResult result : results) {
            PartitionKey key = result.key();
            if (previous == null || !key.topicId().equals(previous.topicId()) || !key.topic().equals(previous.topic())) {
                topic = new FetchResponseData.FetchableTopicResponse().setTopic(key.topic()).setTopicId(key.topicId());
                response.responses().add(topic);
            }
            topic.partitions().add(result.data());
            previous = key;
        }
        return response;
    }
}
