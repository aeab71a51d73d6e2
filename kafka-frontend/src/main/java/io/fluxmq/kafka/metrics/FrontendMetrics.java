package io.fluxmq.kafka.metrics;

import org.apache.kafka.common.protocol.ApiKeys;

/**
 * What the Kafka frontend reports for the node's metrics endpoint: request latency per API, connections per listener,
 * and bytes and records in and out per topic. The node implements it (with Micrometer); the frontend knows only this
 * port, and {@link #NONE} reports nothing.
 *
 * <p>Implementations must be thread-safe and cheap: every method is called once per request, per connection or per
 * partition batch (never per record), on Netty event loops, append threads and Raft reply threads, and must not
 * block or take a lock on those paths.
 */
public interface FrontendMetrics {
    /** Reports nothing. */
    FrontendMetrics NONE = new FrontendMetrics() {
        @Override
        public void requestDone(ApiKeys api, long nanos) {
        }

        @Override
        public void connectionOpened(String listener) {
        }

        @Override
        public void connectionClosed(String listener) {
        }

        @Override
        public TopicMeters topic(String topic) {
            return TopicMeters.NONE;
        }
    };

    /** A request of {@code api} was answered, or failed, {@code nanos} after its frame was read. */
    void requestDone(ApiKeys api, long nanos);

    /** A client connected to the listener named {@code listener}. */
    void connectionOpened(String listener);

    /** A connection to the listener named {@code listener} closed. */
    void connectionClosed(String listener);

    /** The counters of one topic; callers may keep the result for the length of a request. */
    TopicMeters topic(String topic);

    /** Counters of one topic. */
    interface TopicMeters {
        TopicMeters NONE = new TopicMeters() {
            @Override
            public void produced(int bytes, int records) {
            }

            @Override
            public void fetched(int bytes, int records) {
            }
        };

        /** A record batch of {@code bytes} holding {@code records} records was appended and committed here. */
        void produced(int bytes, int records);

        /** Record batches of {@code bytes} holding {@code records} records were sent to a consumer. */
        void fetched(int bytes, int records);
    }
}
