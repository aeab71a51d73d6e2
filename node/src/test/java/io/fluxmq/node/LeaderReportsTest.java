package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * What node 3's leader reports send: the first report at once, everything reported while it is in flight in one next
 * command (the newest term of each partition), and a failed command again after the delay.
 */
class LeaderReportsTest {
    private final List<MetadataCommand.ReportLeaders> sent = new ArrayList<>();
    private final List<CompletableFuture<MetadataReply>> replies = new ArrayList<>();
    private final List<Runnable> delayed = new ArrayList<>();
    private final LeaderReports reports = new LeaderReports(3, command -> {
        sent.add((MetadataCommand.ReportLeaders) command);
        CompletableFuture<MetadataReply> reply = new CompletableFuture<>();
        replies.add(reply);
        return reply;
    }, (task, delayMs) -> delayed.add(task));

    private static TopicPartition tp(int p) {
        return new TopicPartition("t", p);
    }

    private static MetadataCommand.LedPartition led(int p, int epoch) {
        return new MetadataCommand.LedPartition("t", p, epoch);
    }

    @Test
    void reportsWhileOneIsInFlightGoTogetherInTheNext() {
        reports.report(tp(0), 1);
        assertThat(sent).containsExactly(new MetadataCommand.ReportLeaders(3, List.of(led(0, 1))));

        for (int p = 1; p <= 2_000; p++) {
            reports.report(tp(p), 2);
        }
        reports.report(tp(1), 5);
        reports.report(tp(1), 4); // older than the pending one: 5 stays
        assertThat(sent).hasSize(1);

        replies.get(0).complete(MetadataReply.ok(0));
        assertThat(sent).hasSize(2);
        List<MetadataCommand.LedPartition> second = sent.get(1).partitions();
        assertThat(second).hasSize(2_000).contains(led(1, 5), led(2_000, 2));
        assertThat(reports.pendingCount()).isZero();

        replies.get(1).complete(MetadataReply.ok(0));
        assertThat(sent).hasSize(2);
        reports.report(tp(7), 9);
        assertThat(sent).hasSize(3);
    }

    @Test
    void aFailedReportIsSentAgainAfterTheDelayWithTheNewerTermsMerged() {
        reports.report(tp(0), 1);
        reports.report(tp(1), 1);
        replies.get(0).completeExceptionally(new IllegalStateException("no metadata leader"));
        assertThat(delayed).hasSize(1);
        assertThat(reports.pendingCount()).isEqualTo(2);

        reports.report(tp(0), 3); // a newer term arrived meanwhile: not sent before the delay, merged with the retry
        assertThat(sent).hasSize(1);
        delayed.get(0).run();
        assertThat(sent).hasSize(2);
        assertThat(sent.get(1).partitions()).containsExactlyInAnyOrder(led(0, 3), led(1, 1));
    }
}
