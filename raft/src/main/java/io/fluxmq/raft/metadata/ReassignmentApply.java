package io.fluxmq.raft.metadata;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the metadata state machine applies {@link MetadataCommand.ReassignPartition} and
 * {@link MetadataCommand.CompleteReassignment}, in log order under its lock. Validation of node ids happens on the
 * submitting node (it knows the cluster's members); here only what depends on the state: the partition exists, a
 * cancel finds a reassignment, a completion matches the target in progress.
 */
final class ReassignmentApply {
    private static final Logger LOGGER = LoggerFactory.getLogger(ReassignmentApply.class);

    private ReassignmentApply() {
    }

    static MetadataReply start(MetadataStateMachine sm, ClusterState s, MetadataCommand.ReassignPartition r) {
        TopicRecord topic = s.topics().get(r.topic());
        if (topic == null || r.partition() < 0 || r.partition() >= topic.partitions()) {
            return MetadataReply.error(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(),
                    "partition " + r.topic() + "-" + r.partition() + " does not exist");
        }
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        Reassignment running = s.reassignments().get(tp);
        List<Integer> original = running != null ? running.original() : topic.replicas(r.partition());
        if (r.target() == null) {
            if (running == null) {
                return MetadataReply.error(Errors.NO_REASSIGNMENT_IN_PROGRESS.code(),
                        "no reassignment of " + tp + " is in progress");
            }
            sm.publish(s.withReassignment(tp, new Reassignment(original, original), null));
            LOGGER.info("Metadata: reassignment of {} cancelled; moving back to {}", tp, original);
            return MetadataReply.ok(0);
        }
        if (running == null && original.equals(r.target())) {
            return MetadataReply.ok(0); // already there
        }
        sm.publish(s.withReassignment(tp, new Reassignment(original, r.target()), null));
        LOGGER.info("Metadata: reassigning {} from {} to {}", tp, original, r.target());
        return MetadataReply.ok(0);
    }

    static MetadataReply complete(MetadataStateMachine sm, ClusterState s, MetadataCommand.CompleteReassignment c) {
        TopicPartition tp = new TopicPartition(c.topic(), c.partition());
        Reassignment running = s.reassignments().get(tp);
        TopicRecord topic = s.topics().get(c.topic());
        if (running == null && topic != null && c.partition() < topic.partitions()
                && topic.replicas(c.partition()).equals(c.target())) {
            return MetadataReply.ok(0); // completed already (a leader whose metadata copy lagged sent it again)
        }
        if (running == null || topic == null || !running.target().equals(c.target())) {
            return MetadataReply.error(Errors.NO_REASSIGNMENT_IN_PROGRESS.code(),
                    "no reassignment of " + tp + " to " + c.target() + " is in progress");
        }
        List<List<Integer>> assignments = new ArrayList<>(topic.assignments());
        assignments.set(c.partition(), c.target());
        TopicRecord next = new TopicRecord(topic.name(), topic.topicId(), topic.replicationFactor(), topic.configs(),
                topic.internal(), assignments);
        sm.publish(s.withReassignment(tp, null, next));
        LOGGER.info("Metadata: reassignment of {} done; replicas {}", tp, c.target());
        return MetadataReply.ok(0);
    }
}
