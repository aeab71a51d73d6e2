package io.fluxmq.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fluxmq-admin partition reassign TOPIC -p N --replicas 0,1,3}: AlterPartitionReassignments for one partition,
 * then (unless {@code --no-wait}) ListPartitionReassignments every {@value #POLL_MS} ms, printing a line whenever the
 * replicas being added or removed change, until the reassignment is gone and the partition's replicas are the target.
 * {@code --cancel} cancels the reassignment in progress (the partition moves back to its original replicas).
 */
@Command(name = "reassign", mixinStandardHelpOptions = true,
        description = "Move a partition to other replicas through Raft membership changes (or --cancel).")
final class ReassignCommand extends AdminCommand {
    static final long POLL_MS = 500;

    @Parameters(paramLabel = "TOPIC")
    String topic;

    @Option(names = {"-p", "--partition"}, required = true, description = "the partition")
    int partition;

    @Option(names = {"-r", "--replicas"}, split = ",", paramLabel = "ID",
            description = "the new replica node ids, the preferred leader first (e.g. 0,1,3)")
    List<Integer> replicas;

    @Option(names = "--cancel", description = "cancel the reassignment in progress")
    boolean cancel;

    @Option(names = "--no-wait", description = "return once the reassignment started")
    boolean noWait;

    @Option(names = "--wait-timeout-ms", defaultValue = "600000",
            description = "how long to wait for the move to finish (default ${DEFAULT-VALUE})")
    long waitTimeoutMs;

    @Override
    int execute() {
        if (cancel == (replicas != null)) {
            throw AdminException.usage("give either --replicas ID,ID,... or --cancel");
        }
        KafkaSession kafka = kafka();
        TopicPartition tp = new TopicPartition(topic, partition);
        Optional<NewPartitionReassignment> change = cancel ? Optional.empty()
                : Optional.of(new NewPartitionReassignment(replicas));
        kafka.await(kafka.admin().alterPartitionReassignments(Map.of(tp, change)).all(),
                (cancel ? "cancelling the reassignment of " : "reassigning ") + tp);
        out().println((cancel ? "Cancelling the reassignment of " : "Reassigning ") + tp
                + (cancel ? "" : " to " + Table.list(replicas)));
        out().flush();
        if (noWait) {
            print("", result(tp, null, false));
            return 0;
        }
        long deadline = System.nanoTime() + waitTimeoutMs * 1_000_000;
        String last = null;
        List<Integer> now;
        while (true) {
            Map<TopicPartition, PartitionReassignment> running = kafka.await(
                    kafka.admin().listPartitionReassignments(Set.of(tp)).reassignments(),
                    "listing the reassignment of " + tp);
            PartitionReassignment r = running.get(tp);
            now = null;
            if (r == null) {
                // the node that answers Metadata may apply the completion a moment after the one that listed it
                now = replicasOf(kafka);
                if (cancel || now.equals(replicas)) {
                    break;
                }
            } else {
                String progress = "  replicas " + Table.list(r.replicas()) + ", adding "
                        + Table.list(r.addingReplicas()) + ", removing " + Table.list(r.removingReplicas());
                if (!progress.equals(last) && !connection.json()) {
                    out().println(progress);
                    out().flush();
                    last = progress;
                }
            }
            if (System.nanoTime() > deadline) {
                throw AdminException.failed("the reassignment of " + tp + " did not finish within " + waitTimeoutMs
                        + " ms (replicas now " + (now == null ? "moving" : Table.list(now)) + "); it goes on in the"
                        + " background unless another request changed it (check with `fluxmq-admin partition"
                        + " describe " + topic + " -p " + partition + "`, cancel with --cancel)");
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw AdminException.failed("interrupted; the reassignment goes on in the background");
            }
        }
        print("Done: " + tp + " has replicas " + Table.list(now) + "\n", result(tp, now, true));
        return 0;
    }

    private List<Integer> replicasOf(KafkaSession kafka) {
        TopicDescription d = kafka.await(kafka.admin().describeTopics(List.of(topic)).allTopicNames(),
                "describing topic " + topic).get(topic);
        TopicPartitionInfo info = d.partitions().get(partition);
        return info.replicas().stream().map(Node::id).toList();
    }

    private Map<String, Object> result(TopicPartition tp, List<Integer> now, boolean done) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("topic", tp.topic());
        m.put("partition", tp.partition());
        m.put("target", cancel ? null : replicas);
        m.put("replicas", now);
        m.put("done", done);
        return m;
    }
}
