package io.fluxmq.admin;

import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fluxmq-admin group reset-offsets}: moves a group's committed offsets (as {@code kafka-consumer-groups
 * --reset-offsets}). Prints the plan and changes nothing unless {@code --execute}; executing needs a group without
 * members (stop its consumers first), as in Kafka.
 */
@Command(name = "reset-offsets", mixinStandardHelpOptions = true,
        description = "Moves a group's committed offsets; a dry run unless --execute.")
final class ResetOffsetsCommand extends AdminCommand {
    @Parameters(paramLabel = "GROUP")
    String group;

    @Option(names = "--topic", paramLabel = "topic[:p,p...]",
            description = "a topic (all its partitions) or some of its partitions; repeatable")
    List<String> topics;

    @Option(names = "--all-topics", description = "every partition the group has committed offsets for")
    boolean allTopics;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    @Option(names = "--execute", description = "apply the new offsets (default: only print them)")
    boolean execute;

    @Option(names = "--dry-run", description = "only print the new offsets (the default)")
    boolean dryRun;

    /** Exactly one of the ways to pick the new offsets. */
    static final class Target {
        @Option(names = "--to-earliest", required = true, description = "the log start")
        boolean earliest;
        @Option(names = "--to-latest", required = true, description = "the log end")
        boolean latest;
        @Option(names = "--to-offset", required = true, paramLabel = "offset", description = "this offset")
        Long offset;
        @Option(names = "--to-datetime", required = true, paramLabel = "time",
                description = "the first record at or after this time (ISO-8601, local if no zone, or epoch ms)")
        String datetime;
        @Option(names = "--shift-by", required = true, paramLabel = "n", description = "the committed offset plus n")
        Long shift;

        OffsetReset reset() {
            if (earliest) {
                return new OffsetReset(OffsetReset.Kind.EARLIEST, 0);
            } else if (latest) {
                return new OffsetReset(OffsetReset.Kind.LATEST, 0);
            } else if (offset != null) {
                return new OffsetReset(OffsetReset.Kind.OFFSET, offset);
            } else if (datetime != null) {
                return new OffsetReset(OffsetReset.Kind.DATETIME,
                        OffsetReset.parseDateTime(datetime, ZoneId.systemDefault()));
            }
            return new OffsetReset(OffsetReset.Kind.SHIFT, shift);
        }
    }

    @Override
    int execute() {
        if (execute && dryRun) {
            throw AdminException.usage("--execute and --dry-run exclude each other");
        }
        if (allTopics == (topics != null && !topics.isEmpty())) {
            throw AdminException.usage("give either --topic topic[:partitions] or --all-topics");
        }
        OffsetReset reset = target.reset();
        KafkaSession kafka = kafka();
        checkInactive(kafka);
        Map<TopicPartition, OffsetAndMetadata> committed = GroupCommand.committed(kafka, group);
        TreeSet<TopicPartition> partitions = new TreeSet<>(Comparator.comparing(TopicPartition::topic)
                .thenComparingInt(TopicPartition::partition));
        if (allTopics) {
            partitions.addAll(committed.keySet());
        } else {
            partitions.addAll(selected(kafka));
        }
        Map<TopicPartition, ListOffsetsResultInfo> starts = GroupCommand.offsets(kafka, partitions,
                OffsetSpec.earliest(), "fetching log start offsets");
        Map<TopicPartition, ListOffsetsResultInfo> ends = GroupCommand.offsets(kafka, partitions,
                OffsetSpec.latest(), "fetching log end offsets");
        Map<TopicPartition, ListOffsetsResultInfo> atTime = reset.kind() == OffsetReset.Kind.DATETIME
                ? GroupCommand.offsets(kafka, partitions, OffsetSpec.forTimestamp(reset.value()),
                "finding offsets by time") : Map.of();
        Map<TopicPartition, OffsetAndMetadata> plan = new LinkedHashMap<>();
        Table t = new Table("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET");
        List<Map<String, Object>> json = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            Long current = committed.containsKey(tp) ? committed.get(tp).offset() : null;
            long next = reset.newOffset(tp, current, starts.get(tp).offset(), ends.get(tp).offset(),
                    atTime.containsKey(tp) ? atTime.get(tp).offset() : null);
            plan.put(tp, new OffsetAndMetadata(next));
            t.row(group, tp.topic(), tp.partition(), current, next);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("topic", tp.topic());
            m.put("partition", tp.partition());
            m.put("current_offset", current);
            m.put("new_offset", next);
            json.add(m);
        }
        if (plan.isEmpty()) {
            throw AdminException.failed("no partitions to reset: group " + group + " has no committed offsets"
                    + (allTopics ? "; name them with --topic" : ""));
        }
        if (execute) {
            kafka.await(kafka.admin().alterConsumerGroupOffsets(group, plan).all(),
                    "committing the new offsets of group " + group);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("group", group);
        result.put("executed", execute);
        result.put("partitions", json);
        print(t.render() + (execute ? "reset " + plan.size() + " partition(s) of group " + group + "\n"
                : "dry run: nothing changed; add --execute to apply\n"), result);
        return 0;
    }

    /** Refuses to execute for a group with members: they would overwrite the new offsets with their own. */
    private void checkInactive(KafkaSession kafka) {
        if (!execute) {
            return;
        }
        ConsumerGroupDescription d;
        try {
            d = kafka.admin().describeConsumerGroups(List.of(group)).all().get().get(group);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return; // a group that does not exist yet may get offsets, as in Kafka
            }
            throw kafka.explain("describing group " + group, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw AdminException.failed("interrupted");
        }
        if (d.groupState() != GroupState.EMPTY && d.groupState() != GroupState.DEAD || !d.members().isEmpty()) {
            throw AdminException.failed("group " + group + " is " + d.groupState() + " with " + d.members().size()
                    + " member(s): offsets can only be reset while it has none; stop its consumers first");
        }
    }

    private List<TopicPartition> selected(KafkaSession kafka) {
        List<OffsetReset.TopicSelection> selections = topics.stream().map(OffsetReset.TopicSelection::parse).toList();
        List<String> whole = selections.stream().filter(s -> s.partitions().isEmpty())
                .map(OffsetReset.TopicSelection::topic).distinct().toList();
        Map<String, TopicDescription> described = whole.isEmpty() ? new HashMap<>()
                : kafka.await(kafka.admin().describeTopics(whole).allTopicNames(),
                "describing " + String.join(", ", whole));
        List<TopicPartition> result = new ArrayList<>();
        for (OffsetReset.TopicSelection s : selections) {
            if (s.partitions().isEmpty()) {
                described.get(s.topic()).partitions().forEach(p -> result.add(new TopicPartition(s.topic(),
                        p.partition())));
            } else {
                s.partitions().forEach(p -> result.add(new TopicPartition(s.topic(), p)));
            }
        }
        return result;
    }
}
