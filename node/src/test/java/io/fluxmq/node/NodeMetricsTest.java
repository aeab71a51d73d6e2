package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.metrics.FrontendMetrics;
import io.fluxmq.raft.metadata.ClusterState;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.Test;

/** The meters as Prometheus sees them: names, labels and values in a scrape that parses as the text format. */
class NodeMetricsTest {
    @Test
    void frontendAndRaftMetersScrapeUnderTheirDocumentedNames() {
        try (NodeMetrics metrics = new NodeMetrics(7)) {
            FrontendMetrics frontend = metrics.frontend();
            for (int i = 1; i <= 100; i++) {
                frontend.requestDone(ApiKeys.PRODUCE, TimeUnit.MILLISECONDS.toNanos(i));
            }
            frontend.requestDone(ApiKeys.FETCH, TimeUnit.MILLISECONDS.toNanos(500));
            frontend.topic("orders").produced(1000, 10);
            frontend.topic("orders").produced(500, 5);
            frontend.topic("orders").fetched(700, 7);
            frontend.connectionOpened("EXTERNAL");
            frontend.connectionOpened("EXTERNAL");
            frontend.connectionClosed("EXTERNAL");
            metrics.commitLatency().accept(TimeUnit.MILLISECONDS.toNanos(3));
            metrics.leaderElected();

            PrometheusText scrape = PrometheusText.parse(scrape(metrics));

            assertThat(scrape.value("fluxmq_broker_topic_bytes_in_total", "topic", "orders", "node", "7"))
                    .isEqualTo(1500);
            assertThat(scrape.value("fluxmq_broker_topic_messages_in_total", "topic", "orders")).isEqualTo(15);
            assertThat(scrape.value("fluxmq_broker_topic_bytes_out_total", "topic", "orders")).isEqualTo(700);
            assertThat(scrape.value("fluxmq_broker_topic_messages_out_total", "topic", "orders")).isEqualTo(7);
            assertThat(scrape.types()).containsEntry("fluxmq_request_seconds", "summary");
            assertThat(scrape.value("fluxmq_request_seconds_count", "request", "Produce")).isEqualTo(100);
            assertThat(scrape.value("fluxmq_request_seconds_sum", "request", "Produce")).isCloseTo(5.05,
                    org.assertj.core.data.Offset.offset(1e-9));
            assertThat(scrape.value("fluxmq_request_seconds", "request", "Produce", "quantile", "0.5"))
                    .isBetween(0.045, 0.055);
            assertThat(scrape.value("fluxmq_request_seconds", "request", "Produce", "quantile", "0.99"))
                    .isBetween(0.095, 0.105);
            assertThat(scrape.value("fluxmq_request_seconds_count", "request", "Fetch")).isEqualTo(1);
            assertThat(scrape.value("fluxmq_request_seconds_max", "request", "Fetch")).isEqualTo(0.5);
            assertThat(scrape.value("fluxmq_socket_server_connections", "listener", "EXTERNAL")).isEqualTo(1);
            assertThat(scrape.value("fluxmq_socket_server_connections_accepted_total", "listener", "EXTERNAL"))
                    .isEqualTo(2);
            assertThat(scrape.value("fluxmq_raft_commit_latency_seconds_count")).isEqualTo(1);
            assertThat(scrape.find("fluxmq_raft_commit_latency_seconds", "quantile", "0.99")).hasSize(1);
            assertThat(scrape.value("fluxmq_raft_leader_elections_total")).isEqualTo(1);
            assertThat(scrape.find("jvm_memory_used_bytes", "area", "heap")).isNotEmpty();
            assertThat(scrape.find("jvm_threads_live_threads")).hasSize(1);
            assertThat(scrape.find("process_cpu_usage")).hasSize(1);
            assertThat(scrape.samples()).allSatisfy(s -> assertThat(s.labels()).containsEntry("node", "7"));

            metrics.onMetadata(ClusterState.EMPTY); // the topic was deleted: its series end
            assertThat(PrometheusText.parse(scrape(metrics)).find("fluxmq_broker_topic_bytes_in_total")).isEmpty();
        }
    }

    @Test
    void answersOpenMetricsWhenAskedFor() {
        try (NodeMetrics metrics = new NodeMetrics(1)) {
            String type = NodeMetrics.contentType("application/openmetrics-text;version=1.0.0,text/plain;q=0.5");
            assertThat(type).startsWith("application/openmetrics-text");
            assertThat(new String(metrics.scrape(type), StandardCharsets.UTF_8)).endsWith("# EOF\n");
            assertThat(NodeMetrics.contentType(null)).startsWith("text/plain; version=0.0.4");
        }
    }

    private static String scrape(NodeMetrics metrics) {
        return new String(metrics.scrape(NodeMetrics.contentType("*/*")), StandardCharsets.UTF_8);
    }
}
