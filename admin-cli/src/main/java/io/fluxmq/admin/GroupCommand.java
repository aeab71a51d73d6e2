package io.fluxmq.admin;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fluxmq-admin group list | describe | reset-offsets | delete}: consumer groups over the Kafka Admin API. */
@Command(name = "group", mixinStandardHelpOptions = true,
        description = "Consumer groups: list, describe (members, assignment, lag), reset-offsets, delete.",
        subcommands = {GroupCommand.ListGroups.class, GroupCommand.Describe.class, ResetOffsetsCommand.class,
                GroupCommand.Delete.class})
final class GroupCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command (try: group list, describe, reset-offsets, delete)");
    }

    /** The group's committed offsets. */
    static Map<TopicPartition, OffsetAndMetadata> committed(KafkaSession kafka, String group) {
        Map<TopicPartition, OffsetAndMetadata> offsets = kafka.await(kafka.admin().listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata(), "fetching the committed offsets of group " + group);
        Map<TopicPartition, OffsetAndMetadata> present = new HashMap<>();
        offsets.forEach((tp, o) -> {
            if (o != null) {
                present.put(tp, o);
            }
        });
        return present;
    }

    /** Offsets of the partitions by {@code spec} (earliest, latest, a timestamp). */
    static Map<TopicPartition, ListOffsetsResultInfo> offsets(KafkaSession kafka, Collection<TopicPartition> tps,
                                                             OffsetSpec spec, String what) {
        if (tps.isEmpty()) {
            return Map.of();
        }
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        tps.forEach(tp -> request.put(tp, spec));
        return kafka.await(kafka.admin().listOffsets(request).all(), what);
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the consumer groups.")
    static final class ListGroups extends AdminCommand {
        @Override
        int execute() {
            KafkaSession kafka = kafka();
            Collection<GroupListing> groups = kafka.await(kafka.admin()
                    .listGroups(ListGroupsOptions.forConsumerGroups()).all(), "listing groups");
            Table t = new Table("GROUP", "TYPE", "STATE");
            List<Map<String, Object>> json = new ArrayList<>();
            groups.stream().sorted(Comparator.comparing(GroupListing::groupId)).forEach(g -> {
                String type = g.type().map(x -> x.toString().toLowerCase(Locale.ROOT)).orElse(null);
                String state = g.groupState().map(Object::toString).orElse(null);
                t.row(g.groupId(), type, state);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("group", g.groupId());
                m.put("type", type);
                m.put("state", state);
                json.add(m);
            });
            print(t.render(), json);
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "State, members and their assignment, committed offsets and lag per partition.")
    static final class Describe extends AdminCommand {
        @Parameters(paramLabel = "GROUP", arity = "1..*")
        List<String> groups;

        @Override
        int execute() {
            KafkaSession kafka = kafka();
            Map<String, ConsumerGroupDescription> descriptions = kafka.await(kafka.admin()
                    .describeConsumerGroups(groups).all(), "describing group(s) " + String.join(", ", groups));
            StringBuilder sb = new StringBuilder();
            List<Map<String, Object>> json = new ArrayList<>();
            for (String group : groups) {
                ConsumerGroupDescription d = descriptions.get(group);
                Map<TopicPartition, OffsetAndMetadata> committed = committed(kafka, group);
                Map<TopicPartition, MemberDescription> owners = new HashMap<>();
                d.members().forEach(m -> m.assignment().topicPartitions().forEach(tp -> owners.put(tp, m)));
                Set<TopicPartition> partitions = new TreeSet<>(Comparator.comparing(TopicPartition::topic)
                        .thenComparingInt(TopicPartition::partition));
                partitions.addAll(committed.keySet());
                partitions.addAll(owners.keySet());
                Map<TopicPartition, ListOffsetsResultInfo> ends = offsets(kafka, partitions, OffsetSpec.latest(),
                        "fetching log end offsets for group " + group);
                sb.append(String.format(Locale.ROOT,
                        "group %s: state %s, type %s, assignor %s, coordinator %s, %d member(s)%n", group,
                        d.groupState(), d.type().toString().toLowerCase(Locale.ROOT),
                        d.partitionAssignor().isEmpty() ? "-" : d.partitionAssignor(),
                        d.coordinator() == null ? "-" : d.coordinator().id(), d.members().size()));
                Table members = new Table("CONSUMER-ID", "HOST", "CLIENT-ID", "PARTITIONS");
                List<Map<String, Object>> membersJson = new ArrayList<>();
                for (MemberDescription m : d.members()) {
                    List<String> assigned = m.assignment().topicPartitions().stream()
                            .sorted(Comparator.comparing(TopicPartition::topic)
                                    .thenComparingInt(TopicPartition::partition))
                            .map(TopicPartition::toString).toList();
                    members.row(m.consumerId(), m.host(), m.clientId(), assigned.isEmpty() ? "-"
                            : String.join(",", assigned));
                    Map<String, Object> mj = new LinkedHashMap<>();
                    mj.put("consumer_id", m.consumerId());
                    mj.put("group_instance_id", m.groupInstanceId().orElse(null));
                    mj.put("host", m.host());
                    mj.put("client_id", m.clientId());
                    mj.put("assignment", assigned);
                    membersJson.add(mj);
                }
                if (!d.members().isEmpty()) {
                    sb.append(members.render());
                }
                Table offsets = new Table("TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                        "CONSUMER-ID");
                List<Map<String, Object>> offsetsJson = new ArrayList<>();
                for (TopicPartition tp : partitions) {
                    Long current = committed.containsKey(tp) ? committed.get(tp).offset() : null;
                    Long end = ends.containsKey(tp) ? ends.get(tp).offset() : null;
                    Long lag = current == null || end == null ? null : Math.max(0, end - current);
                    MemberDescription owner = owners.get(tp);
                    offsets.row(tp.topic(), tp.partition(), current, end, lag,
                            owner == null ? null : owner.consumerId());
                    Map<String, Object> oj = new LinkedHashMap<>();
                    oj.put("topic", tp.topic());
                    oj.put("partition", tp.partition());
                    oj.put("current_offset", current);
                    oj.put("log_end_offset", end);
                    oj.put("lag", lag);
                    oj.put("consumer_id", owner == null ? null : owner.consumerId());
                    offsetsJson.add(oj);
                }
                sb.append(offsets.isEmpty() ? "no committed offsets, no assignment\n" : "\n" + offsets.render())
                        .append('\n');
                Map<String, Object> g = new LinkedHashMap<>();
                g.put("group", group);
                g.put("state", d.groupState().toString());
                g.put("type", d.type().toString().toLowerCase(Locale.ROOT));
                g.put("assignor", d.partitionAssignor().isEmpty() ? null : d.partitionAssignor());
                g.put("coordinator", d.coordinator() == null ? null : d.coordinator().id());
                g.put("members", membersJson);
                g.put("offsets", offsetsJson);
                json.add(g);
            }
            print(sb.toString(), json);
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Deletes groups without members, and their committed offsets.")
    static final class Delete extends AdminCommand {
        @Parameters(paramLabel = "GROUP", arity = "1..*")
        List<String> groups;

        @Override
        int execute() {
            KafkaSession kafka = kafka();
            Map<String, KafkaFuture<Void>> results = kafka.admin()
                    .deleteConsumerGroups(groups).deletedGroups();
            List<String> deleted = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            for (String g : groups) {
                try {
                    results.get(g).get();
                    deleted.add(g);
                } catch (ExecutionException e) {
                    failures.add(kafka.explain("deleting group " + g, e.getCause()).getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw AdminException.failed("interrupted");
                }
            }
            if (!deleted.isEmpty()) {
                print("deleted group " + String.join(", ", deleted) + "\n", Map.of("deleted", deleted));
            }
            if (!failures.isEmpty()) {
                throw AdminException.failed(String.join("; ", failures));
            }
            return 0;
        }
    }
}
