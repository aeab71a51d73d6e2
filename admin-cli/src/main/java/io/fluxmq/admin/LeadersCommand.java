package io.fluxmq.admin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.ElectLeadersResult;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code fluxmq-admin leaders balance}. */
@Command(name = "leaders", mixinStandardHelpOptions = true, description = "Partition leaders: balance.",
        subcommands = LeadersCommand.Balance.class)
final class LeadersCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: leaders balance)");
    }

    /**
     * Moves the leadership of every partition whose preferred replica (the first one) is in sync but does not lead
     * back to it: Kafka's ElectLeaders, PREFERRED, for all partitions (as {@code kafka-leader-election
     * --election-type PREFERRED --all-topic-partitions}). Prints each partition that moved and each that could not;
     * exit 1 when any could not.
     */
    @Command(name = "balance", mixinStandardHelpOptions = true,
            description = "Move leadership back to each partition's preferred replica where it is in sync.")
    static final class Balance extends AdminCommand {
        @Override
        int execute() {
            KafkaSession kafka = kafka();
            ElectLeadersResult result = kafka.admin().electLeaders(ElectionType.PREFERRED, null);
            Map<TopicPartition, Optional<Throwable>> outcomes = kafka.await(result.partitions(),
                    "electing preferred leaders");
            Table t = new Table("TOPIC", "PARTITION", "RESULT");
            List<Map<String, Object>> json = new ArrayList<>();
            int failed = 0;
            int moved = 0;
            for (TopicPartition tp : sorted(outcomes.keySet())) {
                Optional<Throwable> error = outcomes.get(tp);
                if (error.isPresent() && error.get() instanceof ElectionNotNeededException) {
                    continue;
                }
                String outcome = error.map(e -> e.getClass().getSimpleName().replace("Exception", "") + ": "
                        + e.getMessage()).orElse("moved to the preferred replica");
                if (error.isPresent()) {
                    failed++;
                } else {
                    moved++;
                }
                t.row(tp.topic(), tp.partition(), outcome);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("topic", tp.topic());
                m.put("partition", tp.partition());
                m.put("moved", error.isEmpty());
                m.put("error", error.map(Throwable::getMessage).orElse(null));
                json.add(m);
            }
            String summary = moved + " partition(s) moved to their preferred leader"
                    + (failed == 0 ? "" : ", " + failed + " could not move") + "\n";
            print((t.isEmpty() ? "" : t.render()) + summary, json);
            return failed == 0 ? 0 : AdminException.FAILED;
        }

        private static List<TopicPartition> sorted(Set<TopicPartition> partitions) {
            List<TopicPartition> out = new ArrayList<>(partitions);
            out.sort((a, b) -> a.topic().equals(b.topic()) ? Integer.compare(a.partition(), b.partition())
                    : a.topic().compareTo(b.topic()));
            return out;
        }
    }
}
