package io.fluxmq.node;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A group consumer in its own JVM, run by {@link ConsumerProcess} so a test can SIGKILL it (no LeaveGroup, no
 * commit on close). It commits synchronously after processing each poll and reports on stdout, one event a line
 * prefixed {@code @@}: {@code ASSIGNED p,p,...} after every rebalance callback, {@code R partition offset} per
 * record, {@code C partition nextOffset} once a commit returned. Offsets a commit could not take during a rebalance
 * are committed after the next poll, or in the revocation callback before their partition goes.
 *
 * <p>Arguments: bootstrap, topic, group, group.protocol ({@code classic} uses cooperative-sticky).
 */
public final class GroupConsumerMain {
    private GroupConsumerMain() {
    }

    public static void main(String[] args) {
        String bootstrap = args[0];
        String topic = args[1];
        String group = args[2];
        String protocol = args[3];
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "50");
        if (protocol.equals("classic")) {
            c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
            c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
            c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        }
        PrintStream out = System.out;
        // Processed but not yet committed; committed after the next poll or, for revoked partitions, before they go.
        Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    Map<TopicPartition, OffsetAndMetadata> leaving = new HashMap<>();
                    partitions.forEach(tp -> {
                        OffsetAndMetadata o = pending.remove(tp);
                        if (o != null) {
                            leaving.put(tp, o);
                        }
                    });
                    if (!leaving.isEmpty()) {
                        consumer.commitSync(leaving);
                        reportCommits(out, leaving);
                    }
                    report(out, consumer.assignment(), partitions);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    report(out, consumer.assignment(), List.of());
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    pending.keySet().removeAll(partitions);
                    report(out, consumer.assignment(), partitions);
                }
            });
            while (true) {
                StringBuilder lines = new StringBuilder();
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    lines.append("@@ R ").append(r.partition()).append(' ').append(r.offset()).append('\n');
                    pending.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                out.print(lines);
                out.flush();
                if (!pending.isEmpty()) {
                    try {
                        consumer.commitSync(pending);
                        reportCommits(out, pending);
                        pending.clear();
                    } catch (RebalanceInProgressException | CommitFailedException e) {
                        out.println("@@ X " + e.getClass().getSimpleName()); // retried after the next poll
                    }
                }
            }
        }
    }

    private static void reportCommits(PrintStream out, Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.forEach((tp, o) -> out.println("@@ C " + tp.partition() + " " + o.offset()));
        out.flush();
    }

    /** The assignment after a callback; partitions being revoked or lost are not part of it any more. */
    private static void report(PrintStream out, Collection<TopicPartition> assignment,
                               Collection<TopicPartition> leaving) {
        TreeSet<Integer> owned = new TreeSet<>();
        assignment.stream().filter(tp -> !leaving.contains(tp)).forEach(tp -> owned.add(tp.partition()));
        out.println("@@ ASSIGNED " + String.join(",", owned.stream().map(String::valueOf).toList()));
        out.flush();
    }
}
