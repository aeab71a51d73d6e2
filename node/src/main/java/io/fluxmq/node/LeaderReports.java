package io.fluxmq.node;

import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells cluster metadata which partitions this node became the ready leader of, so nodes outside their Raft groups
 * answer Metadata with the new leaders. Reports made while one {@link MetadataCommand.ReportLeaders} is in flight are
 * coalesced into the next (at most {@value #MAX_PER_COMMAND} partitions each): when thousands of groups elect at once
 * (a node's start, a peer's failure) the metadata group commits a few commands, not one per partition. A command that
 * fails (no metadata leader reachable) is sent again after {@value #RETRY_MS} ms, unless a newer term of the same
 * partition replaced it meanwhile; the state machine ignores a term older than the one it knows, so a late report of a
 * deposed leader changes nothing. Thread-safe.
 */
final class LeaderReports {
    private static final Logger LOGGER = LoggerFactory.getLogger(LeaderReports.class);
    static final int MAX_PER_COMMAND = 5_000;
    static final long RETRY_MS = 500;

    private final int nodeId;
    private final Function<MetadataCommand, CompletableFuture<MetadataReply>> submit;
    private final Reconciler.Delayer delayer;
    /** Partitions to report and their newest term. Guarded by this. */
    private final Map<TopicPartition, Integer> pending = new LinkedHashMap<>();
    /** A command is in flight or about to be sent. Guarded by this. */
    private boolean sending;

    LeaderReports(int nodeId, Function<MetadataCommand, CompletableFuture<MetadataReply>> submit,
                  Reconciler.Delayer delayer) {
        this.nodeId = nodeId;
        this.submit = submit;
        this.delayer = delayer;
    }

    /** This node became the ready leader of {@code tp} in {@code term}. Never blocks. */
    void report(TopicPartition tp, int term) {
        synchronized (this) {
            pending.merge(tp, term, Math::max);
            if (sending) {
                return;
            }
            sending = true;
        }
        sendNext();
    }

    private void sendNext() {
        List<MetadataCommand.LedPartition> batch = new ArrayList<>();
        synchronized (this) {
            Iterator<Map.Entry<TopicPartition, Integer>> it = pending.entrySet().iterator();
            while (it.hasNext() && batch.size() < MAX_PER_COMMAND) {
                Map.Entry<TopicPartition, Integer> e = it.next();
                batch.add(new MetadataCommand.LedPartition(e.getKey().topic(), e.getKey().partition(), e.getValue()));
                it.remove();
            }
            if (batch.isEmpty()) {
                sending = false;
                return;
            }
        }
        CompletableFuture<MetadataReply> reply;
        try {
            reply = submit.apply(new MetadataCommand.ReportLeaders(nodeId, batch));
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((r, failure) -> {
            if (failure == null && r.isOk()) {
                sendNext();
                return;
            }
            LOGGER.debug("Could not report the leadership of {} partitions ({}); retrying in {} ms", batch.size(),
                    failure != null ? failure.toString() : r.message(), RETRY_MS);
            synchronized (this) {
                for (MetadataCommand.LedPartition led : batch) {
                    pending.merge(new TopicPartition(led.topic(), led.partition()), led.epoch(), Math::max);
                }
            }
            try {
                delayer.schedule(this::sendNext, RETRY_MS);
            } catch (RejectedExecutionException closing) {
                // the node is closing
            }
        });
    }

    /** Partitions waiting to be reported (tests). */
    synchronized int pendingCount() {
        return pending.size();
    }
}
