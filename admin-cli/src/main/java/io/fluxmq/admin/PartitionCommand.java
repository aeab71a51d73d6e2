package io.fluxmq.admin;

import io.fluxmq.control.v1.RaftStatusReply;
import io.fluxmq.control.v1.RaftStatusRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code fluxmq-admin partition describe}: a topic's partitions with leader, leader epoch (the partition's Raft
 * term), replicas, in-sync replicas, the replicas a reassignment in progress adds and removes, and log start and end
 * offsets (Metadata, ListPartitionReassignments and ListOffsets); with a control address ({@code --bootstrap}) also
 * each partition's Raft commit index, every replica's match index and lag, and the log's size in bytes, from its
 * leader's {@code raft status} (RaftControl.RaftStatus). {@code partition reassign}: {@link ReassignCommand}.
 */
@Command(name = "partition", mixinStandardHelpOptions = true,
        description = "Partitions: describe, transfer-leader, reassign.",
        subcommands = {PartitionCommand.Describe.class, TransferLeaderCommand.class, ReassignCommand.class})
final class PartitionCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: partition describe)");
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "Leader, leader epoch (Raft term), replicas, in-sync replicas, log start and end offsets; with "
                    + "--bootstrap also the Raft commit index, each replica's match index and lag, and the log size.")
    static final class Describe extends AdminCommand {
        @Parameters(paramLabel = "TOPIC")
        String topic;

        @Option(names = {"-p", "--partition"}, description = "one partition (default: all)")
        Integer partition;

        @Override
        int execute() {
            KafkaSession kafka = kafka();
            TopicDescription d = kafka.await(kafka.admin().describeTopics(List.of(topic)).allTopicNames(),
                    "describing topic " + topic).get(topic);
            List<TopicPartitionInfo> infos = d.partitions().stream()
                    .filter(p -> partition == null || p.partition() == partition).toList();
            if (infos.isEmpty()) {
                throw AdminException.failed("topic " + topic + " has no partition " + partition + " (it has "
                        + d.partitions().size() + ")");
            }
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (TopicPartitionInfo p : infos) {
                if (p.leader() != null && !p.leader().isEmpty()) { // without a leader ListOffsets only times out
                    earliest.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest());
                    latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
                }
            }
            Map<TopicPartition, PartitionReassignment> moving = reassignments(kafka, topic, infos);
            ListOffsetsResult starts = kafka.admin().listOffsets(earliest);
            ListOffsetsResult ends = kafka.admin().listOffsets(latest);
            Table t = new Table("PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "OUT-OF-SYNC", "ADDING",
                    "REMOVING", "LOG-START", "LOG-END", "COMMIT-INDEX", "MATCH-INDEX", "LAG", "SIZE");
            boolean raft = !connection.controlAddresses().isEmpty();
            List<Map<String, Object>> json = new ArrayList<>();
            for (TopicPartitionInfo p : infos) {
                ClusterView.PartitionRow row = ClusterView.PartitionRow.of(topic, p);
                TopicPartition tp = new TopicPartition(topic, p.partition());
                ListOffsetsResultInfo start = earliest.containsKey(tp) ? result(starts, tp) : null;
                ListOffsetsResultInfo end = earliest.containsKey(tp) ? result(ends, tp) : null;
                Integer epoch = end == null ? null : end.leaderEpoch().orElse(null);
                PartitionReassignment r = moving.get(tp);
                List<Integer> adding = r == null ? List.of() : r.addingReplicas();
                List<Integer> removing = r == null ? List.of() : r.removingReplicas();
                RaftStatusReply status = raft && p.leader() != null && !p.leader().isEmpty()
                        ? raftStatus(p.partition()) : null;
                RaftColumns columns = RaftColumns.of(status);
                t.row(p.partition(), row.leader(), epoch, Table.list(row.replicas()), Table.list(row.isr()),
                        Table.list(row.outOfSync()), Table.list(adding), Table.list(removing),
                        start == null ? null : start.offset(), end == null ? null : end.offset(),
                        columns.commitIndex(), columns.matchIndex(), columns.lag(), columns.sizeBytes());
                Map<String, Object> m = row.json();
                m.put("adding_replicas", adding);
                m.put("removing_replicas", removing);
                m.put("leader_epoch", epoch);
                m.put("log_start_offset", start == null ? null : start.offset());
                m.put("log_end_offset", end == null ? null : end.offset());
                m.put("commit_index", columns.commitIndex());
                m.put("size_bytes", columns.sizeBytes());
                m.put("raft_replicas", columns.replicasJson());
                json.add(m);
            }
            print("topic " + topic + ", id " + d.topicId() + "\n" + t.render(), json);
            return 0;
        }

        /**
         * The partition's Raft group from its leader, or null when the control service cannot say (no replica
         * answered, an older node): the Raft columns then show {@code -} and the rest of the table stands.
         */
        private RaftStatusReply raftStatus(int p) {
            try {
                return RaftControlClient.raftStatus(connection,
                        RaftStatusRequest.newBuilder().setTopic(topic).setPartition(p).build());
            } catch (AdminException e) {
                return null;
            }
        }

        /** The reassignments in progress among the partitions (empty when the cluster cannot list them). */
        private static Map<TopicPartition, PartitionReassignment> reassignments(KafkaSession kafka, String topic,
                                                                              List<TopicPartitionInfo> infos) {
            Set<TopicPartition> tps = new HashSet<>();
            infos.forEach(p -> tps.add(new TopicPartition(topic, p.partition())));
            try {
                return kafka.admin().listPartitionReassignments(tps).reassignments().get();
            } catch (ExecutionException e) {
                return Map.of();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw AdminException.failed("interrupted");
            }
        }

        /** One partition's offset, or null when its leader could not answer (shown as {@code -}). */
        private static ListOffsetsResultInfo result(ListOffsetsResult result, TopicPartition tp) {
            try {
                return result.partitionResult(tp).get();
            } catch (ExecutionException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw AdminException.failed("interrupted");
            }
        }
    }
}
