package io.fluxmq.node;

import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.engine.EnginePartition;
import io.fluxmq.raft.engine.EnginePartitions;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.IsrRecord;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import io.fluxmq.raft.partition.PartitionReplica;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's AlterPartition for FluxMQ: this node, as the Raft leader of partitions, publishes their in-sync replicas
 * to cluster metadata, so every node's Metadata answers (and {@code fluxmq-admin cluster status|health}) show the ISR
 * only the leader can compute. Each {@link #publish()} pass compares, for every partition this node leads, its own ISR
 * (from Ratis' follower info, {@link PartitionReplica#status}, or the multi-Raft engine's in-sync set) with the ISR record in its metadata copy and sends one
 * {@link MetadataCommand.AlterPartitionIsr} with every partition that differs (at most {@value #MAX_PER_COMMAND}) or
 * whose record is of an older leader epoch (a leadership change). A partition with no record whose every replica is in
 * sync sends nothing: metadata reads no record as "all in sync" (a new topic costs no ISR command). Nothing is sent
 * while nothing changed; one command is in flight at a time; after the reply the pass waits until its own metadata
 * copy applied the command, so the next pass compares with what was committed. A partition whose change was refused (a newer leader epoch, a changed
 * partition epoch) is not sent again for {@value #RETRY_BACKOFF_MS} ms unless its ISR changes again.
 *
 * <p>Passes run every interval on one thread, and {@link #leadershipChanged()} asks for one soon, coalescing the
 * leadership changes of many partitions into one command. Time comes from the injected clock. Not thread-safe
 * except {@link #leadershipChanged()}: passes run on one thread.
 */
final class IsrPublisher {
    private static final Logger LOGGER = LoggerFactory.getLogger(IsrPublisher.class);
    /** Partitions in one command at most (a leader of thousands sends them in consecutive passes). */
    static final int MAX_PER_COMMAND = 2_000;
    static final long RETRY_BACKOFF_MS = 5_000;
    private static final long REPLY_TIMEOUT_MS = 20_000;

    /** The leader epoch (Raft term) and own ISR of a partition this node leads. */
    record Led(int leaderEpoch, List<Integer> isr) {
        Led {
            isr = List.copyOf(isr);
        }
    }

    private record Refused(Led sent, long untilMs) {}

    private final int nodeId;
    private final Supplier<Map<TopicPartition, Led>> led;
    private final Supplier<ClusterState> metadata;
    private final Function<MetadataCommand, CompletableFuture<MetadataReply>> submit;
    private final LongFunction<CompletableFuture<Void>> awaitApplied;
    private final LongSupplier clockMs;
    private final Map<TopicPartition, Refused> refused = new HashMap<>();
    private final AtomicBoolean passRequested = new AtomicBoolean();

    IsrPublisher(int nodeId, Supplier<Map<TopicPartition, Led>> led, Supplier<ClusterState> metadata,
                 Function<MetadataCommand, CompletableFuture<MetadataReply>> submit,
                 LongFunction<CompletableFuture<Void>> awaitApplied, LongSupplier clockMs) {
        this.nodeId = nodeId;
        this.led = led;
        this.metadata = metadata;
        this.submit = submit;
        this.awaitApplied = awaitApplied;
        this.clockMs = clockMs;
    }

    /**
     * The partitions {@code raft} leads (ready leader), with their ISR as the leader computes it: followers that
     * answered within {@code maxSilenceMs} and are close enough to its commit index.
     */
    static Map<TopicPartition, Led> ledBy(RaftNode raft, long maxSilenceMs) {
        Map<TopicPartition, Led> out = new HashMap<>();
        for (TopicPartition tp : raft.localPartitions()) {
            PartitionReplica replica = raft.replica(tp);
            if (replica == null || !replica.isLeader()) {
                continue;
            }
            PartitionReplica.Status s = replica.status(maxSilenceMs);
            if (s.leaderHere()) {
                out.put(tp, new Led(s.epoch(), s.inSync()));
            }
        }
        return out;
    }

    /** The partitions this node leads on the multi-Raft engine, with the engine's in-sync set of each. */
    static Map<TopicPartition, Led> ledBy(EnginePartitions engine) {
        Map<TopicPartition, Led> out = new HashMap<>();
        for (TopicPartition tp : engine.hosted()) {
            EnginePartition replica = engine.partition(tp);
            List<Integer> inSync = replica == null ? List.of() : replica.inSync(); // empty unless the ready leader
            if (!inSync.isEmpty()) {
                out.put(tp, new Led(replica.leaderEpoch(), inSync));
            }
        }
        return out;
    }

    /** Asks for a pass soon; true if none was asked for yet (the caller schedules it). */
    boolean leadershipChanged() {
        return passRequested.compareAndSet(false, true);
    }

    /** One pass: sends the ISR of the partitions whose metadata record differs; returns how many it sent. */
    int publish() {
        passRequested.set(false);
        ClusterState state = metadata.get();
        long now = clockMs.getAsLong();
        Map<TopicPartition, Led> sending = new LinkedHashMap<>();
        List<MetadataCommand.IsrChange> changes = new ArrayList<>();
        Map<TopicPartition, Led> leading = led.get();
        refused.keySet().retainAll(leading.keySet());
        for (Map.Entry<TopicPartition, Led> e : leading.entrySet()) {
            TopicPartition tp = e.getKey();
            List<Integer> replicas = state.replicas(tp);
            if (replicas.isEmpty()) {
                continue; // not in this node's metadata copy (yet, or any more)
            }
            // in replica order, so records compare and display stably
            Led own = new Led(e.getValue().leaderEpoch(), replicas.stream().filter(e.getValue().isr()::contains)
                    .toList());
            IsrRecord record = state.isr(tp).orElse(null);
            if (state.leaderEpoch(tp) > own.leaderEpoch()) {
                continue; // a newer leader exists: this node is about to learn it is deposed
            }
            if (record != null && record.leader() == nodeId && record.leaderEpoch() == own.leaderEpoch()
                    && record.isr().equals(own.isr())
                    || record == null && own.isr().equals(replicas)) {
                // published already, or every replica in sync while none was published, which metadata reads as
                // "all in sync" already: a new partition's leader sends nothing (one metadata command less per topic)
                refused.remove(tp);
                continue;
            }
            Refused r = refused.get(tp);
            if (r != null && r.sent().equals(own) && now < r.untilMs()) {
                continue;
            }
            sending.put(tp, own);
            changes.add(new MetadataCommand.IsrChange(tp.topic(), tp.partition(), own.leaderEpoch(),
                    record == null ? 0 : record.partitionEpoch(), own.isr()));
            if (changes.size() == MAX_PER_COMMAND) {
                break;
            }
        }
        if (changes.isEmpty()) {
            return 0;
        }
        send(new MetadataCommand.AlterPartitionIsr(nodeId, changes), sending, now);
        return changes.size();
    }

    private void send(MetadataCommand.AlterPartitionIsr command, Map<TopicPartition, Led> sending, long now) {
        try {
            MetadataReply reply = submit.apply(command).get(REPLY_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            if (!reply.message().isEmpty()) {
                LOGGER.info("ISR of {} partitions published, some {}", sending.size(), reply.message());
            }
            awaitApplied.apply(reply.value()).get(REPLY_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOGGER.info("Publishing the ISR of {} partitions failed: {}", sending.size(),
                    e instanceof ExecutionException ? e.getCause().toString() : "no answer in " + REPLY_TIMEOUT_MS + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        ClusterState after = metadata.get();
        for (Map.Entry<TopicPartition, Led> e : sending.entrySet()) {
            IsrRecord record = after.isr(e.getKey()).orElse(null);
            boolean applied = record != null && record.leader() == nodeId
                    && record.leaderEpoch() == e.getValue().leaderEpoch() && record.isr().equals(e.getValue().isr());
            if (!applied) {
                refused.put(e.getKey(), new Refused(e.getValue(), now + RETRY_BACKOFF_MS));
            }
        }
    }
}
