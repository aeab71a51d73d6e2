package io.fluxmq.raft.metadata;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the metadata state machine applies {@link MetadataCommand.AlterPartitionIsr}, in log order under its lock, with
 * the checks of Kafka's controller for AlterPartition: each partition is applied or refused on its own.
 * <ul>
 *   <li>unknown topic or partition: {@code UNKNOWN_TOPIC_OR_PARTITION};</li>
 *   <li>a leader epoch older than the newest metadata knows (reported leader or published ISR):
 *       {@code FENCED_LEADER_EPOCH} — a deposed leader cannot overwrite its successor's ISR;</li>
 *   <li>the same leader epoch with another leader than the one recorded for it: {@code INVALID_REQUEST};</li>
 *   <li>the same leader epoch as the current ISR record but another partition epoch than its one:
 *       {@code INVALID_UPDATE_VERSION} — the change was computed from an older ISR (a command that arrives after a
 *       later one of the same leader; repeating the current ISR is no error); a newer leader epoch is applied
 *       whatever partition epoch it names;</li>
 *   <li>an ISR without the leader, with duplicates or with a node that is not a replica: {@code INVALID_REQUEST}.</li>
 * </ul>
 * An accepted change stores the ISR with the partition epoch one above the current one (a change that repeats the
 * current ISR in the same leader epoch changes nothing). The reply carries the refusals in its message; it is an error
 * (the first refusal's code) only when no partition was accepted.
 */
final class IsrApply {
    private static final Logger LOGGER = LoggerFactory.getLogger(IsrApply.class);

    private IsrApply() {
    }

    static MetadataReply apply(MetadataStateMachine sm, ClusterState s, MetadataCommand.AlterPartitionIsr command) {
        Map<TopicPartition, IsrRecord> accepted = new HashMap<>();
        List<String> refused = new ArrayList<>();
        Errors firstError = null;
        for (MetadataCommand.IsrChange c : command.changes()) {
            TopicPartition tp = new TopicPartition(c.topic(), c.partition());
            String reason = check(s, command.leader(), tp, c);
            if (reason != null) {
                if (firstError == null) {
                    firstError = Errors.valueOf(reason.substring(0, reason.indexOf(':')));
                }
                refused.add(tp + " " + reason);
                continue;
            }
            IsrRecord current = s.isrs().get(tp);
            if (current != null && current.leader() == command.leader() && current.leaderEpoch() == c.leaderEpoch()
                    && current.isr().equals(c.isr())) {
                continue; // already so
            }
            int epoch = current == null ? 1 : current.partitionEpoch() + 1;
            accepted.put(tp, new IsrRecord(command.leader(), c.leaderEpoch(), epoch, c.isr()));
        }
        if (!accepted.isEmpty()) {
            sm.publish(s.withIsrs(accepted));
            if (accepted.size() <= 10) {
                LOGGER.info("Metadata: ISR from leader {}: {}", command.leader(), accepted);
            } else {
                LOGGER.info("Metadata: ISR of {} partitions from leader {}", accepted.size(), command.leader());
            }
        }
        if (refused.isEmpty()) {
            return MetadataReply.ok(0);
        }
        String message = "refused " + String.join("; ", refused);
        LOGGER.info("Metadata: ISR change from leader {} {}", command.leader(), message);
        if (refused.size() == command.changes().size()) {
            return MetadataReply.error(firstError.code(), message);
        }
        return new MetadataReply((short) 0, 0, message);
    }

    /** Why the change is refused, as {@code ERROR_NAME: explanation}, or null when it may be applied. */
    private static String check(ClusterState s, int leader, TopicPartition tp, MetadataCommand.IsrChange c) {
        List<Integer> replicas = s.replicas(tp);
        if (replicas.isEmpty()) {
            return Errors.UNKNOWN_TOPIC_OR_PARTITION.name() + ": no such partition";
        }
        int known = s.leaderEpoch(tp);
        if (c.leaderEpoch() < known) {
            return Errors.FENCED_LEADER_EPOCH.name() + ": leader epoch " + c.leaderEpoch() + " is older than "
                    + known;
        }
        LeaderRecord reported = s.leaders().get(tp);
        IsrRecord current = s.isrs().get(tp);
        if (reported != null && reported.epoch() == c.leaderEpoch() && reported.leader() != leader
                || current != null && current.leaderEpoch() == c.leaderEpoch() && current.leader() != leader) {
            return Errors.INVALID_REQUEST.name() + ": another node leads in epoch " + c.leaderEpoch();
        }
        if (current != null && current.leaderEpoch() == c.leaderEpoch()
                && current.partitionEpoch() != c.partitionEpoch() && !current.isr().equals(c.isr())) {
            return Errors.INVALID_UPDATE_VERSION.name() + ": partition epoch " + c.partitionEpoch() + " is not the "
                    + "current " + current.partitionEpoch();
        }
        if (!c.isr().contains(leader) || !replicas.containsAll(c.isr())
                || new HashSet<>(c.isr()).size() != c.isr().size()) {
            return Errors.INVALID_REQUEST.name() + ": ISR " + c.isr() + " must hold leader " + leader
                    + " and only replicas " + replicas + ", once each";
        }
        return null;
    }
}
