package io.fluxmq.admin;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code fluxmq-admin topic create | list | describe | delete | add-partitions | alter-config}, over the Kafka Admin
 * API.
 */
@Command(name = "topic", mixinStandardHelpOptions = true,
        description = "Topics: create, list, describe, delete, add-partitions, alter-config.",
        subcommands = {TopicCommand.Create.class, TopicCommand.ListTopics.class, TopicCommand.Describe.class,
                TopicCommand.Delete.class, TopicCommand.AddPartitions.class, TopicCommand.AlterConfig.class})
final class TopicCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command (try: topic create, list, describe, delete, add-partitions)");
    }

    /** {@code key=value} pairs as a map; a pair without {@code =} is a usage error. */
    static Map<String, String> configs(List<String> pairs) {
        Map<String, String> configs = new LinkedHashMap<>();
        for (String pair : pairs == null ? List.<String>of() : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw AdminException.usage("config '" + pair + "' is not key=value (e.g. --config retention.ms=3600000)");
            }
            configs.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        return configs;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates a topic.")
    static final class Create extends AdminCommand {
        @Parameters(paramLabel = "TOPIC")
        String topic;

        @Option(names = {"-p", "--partitions"}, description = "partition count (default: the cluster's num.partitions)")
        Integer partitions;

        @Option(names = {"-r", "--replication-factor"},
                description = "replicas per partition (default: the cluster's default.replication.factor)")
        Short replicationFactor;

        @Option(names = {"-c", "--config"}, paramLabel = "key=value", description = "a topic config; repeatable")
        List<String> config;

        @Option(names = "--if-not-exists", description = "succeed when the topic already exists")
        boolean ifNotExists;

        @Override
        int execute() {
            NewTopic t = new NewTopic(topic, Optional.ofNullable(partitions), Optional.ofNullable(replicationFactor))
                    .configs(configs(config));
            KafkaSession kafka = kafka();
            CreateTopicsResult result = kafka.admin().createTopics(List.of(t));
            try {
                result.all().get();
            } catch (ExecutionException e) {
                if (ifNotExists && e.getCause() instanceof TopicExistsException) {
                    print("topic " + topic + " already exists\n", Map.of("topic", topic, "created", false));
                    return 0;
                }
                throw kafka.explain("creating topic " + topic, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw AdminException.failed("interrupted");
            }
            // what the cluster created (CreateTopics v5+ answers with it), so the defaults show
            int count = kafka.await(result.numPartitions(topic), "creating topic " + topic);
            int rf = kafka.await(result.replicationFactor(topic), "creating topic " + topic);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("topic", topic);
            json.put("created", true);
            json.put("partitions", count);
            json.put("replication_factor", rf);
            print("created topic " + topic + " with " + count + " partitions, replication factor " + rf + "\n", json);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the topics.")
    static final class ListTopics extends AdminCommand {
        @Option(names = "--internal", description = "include internal topics (__consumer_offsets)")
        boolean internal;

        @Override
        int execute() {
            KafkaSession kafka = kafka();
            Collection<String> names = kafka.await(kafka.admin().listTopics(new ListTopicsOptions()
                    .listInternal(internal)).names(), "listing topics");
            Map<String, TopicDescription> topics = names.isEmpty() ? Map.of()
                    : new TreeMap<>(kafka.await(kafka.admin().describeTopics(names).allTopicNames(),
                    "describing topics"));
            Table t = new Table("TOPIC", "PARTITIONS", "REPLICATION-FACTOR");
            List<Map<String, Object>> json = new ArrayList<>();
            topics.values().forEach(d -> {
                int rf = d.partitions().isEmpty() ? 0 : d.partitions().get(0).replicas().size();
                t.row(d.name(), d.partitions().size(), rf);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("topic", d.name());
                m.put("partitions", d.partitions().size());
                m.put("replication_factor", rf);
                json.add(m);
            });
            print(t.render(), json);
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "Topic id, partitions (leader, replicas, in-sync replicas) and configs set on the topic.")
    static final class Describe extends AdminCommand {
        @Parameters(paramLabel = "TOPIC", arity = "0..*", description = "topics (default: all)")
        List<String> topics;

        @Option(names = "--under-replicated-partitions", description = "only partitions with replicas out of sync")
        boolean underReplicated;

        @Override
        int execute() {
            KafkaSession kafka = kafka();
            Collection<String> names = topics == null || topics.isEmpty()
                    ? kafka.await(kafka.admin().listTopics().names(), "listing topics") : topics;
            Map<String, TopicDescription> descriptions = names.isEmpty() ? Map.of()
                    : new TreeMap<>(kafka.await(kafka.admin().describeTopics(names).allTopicNames(),
                    "describing " + String.join(", ", names)));
            List<ConfigResource> resources = descriptions.keySet().stream()
                    .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
            Map<ConfigResource, Config> configs = resources.isEmpty() ? Map.of()
                    : kafka.await(kafka.admin().describeConfigs(resources).all(), "describing topic configs");
            StringBuilder sb = new StringBuilder();
            List<Map<String, Object>> json = new ArrayList<>();
            for (TopicDescription d : descriptions.values()) {
                Map<String, String> overrides = new TreeMap<>();
                Config c = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, d.name()));
                if (c != null) {
                    c.entries().stream().filter(e -> e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG)
                            .forEach(e -> overrides.put(e.name(), e.value()));
                }
                int rf = d.partitions().isEmpty() ? 0 : d.partitions().get(0).replicas().size();
                Table t = new Table("PARTITION", "LEADER", "REPLICAS", "ISR", "OUT-OF-SYNC");
                List<Map<String, Object>> parts = new ArrayList<>();
                for (TopicPartitionInfo p : d.partitions()) {
                    ClusterView.PartitionRow row = ClusterView.PartitionRow.of(d.name(), p);
                    if (underReplicated && row.outOfSync().isEmpty()) {
                        continue;
                    }
                    t.row(row.partition(), row.leader(), Table.list(row.replicas()), Table.list(row.isr()),
                            Table.list(row.outOfSync()));
                    parts.add(row.json());
                }
                if (underReplicated && parts.isEmpty()) {
                    continue;
                }
                sb.append("topic ").append(d.name()).append(", id ").append(d.topicId()).append(", ")
                        .append(d.partitions().size()).append(" partitions, replication factor ").append(rf)
                        .append(d.isInternal() ? ", internal" : "").append('\n')
                        .append("configs: ").append(overrides.isEmpty() ? "(defaults)" : overrides.toString()
                                .replaceAll("[{}]", "")).append('\n')
                        .append(t.render()).append('\n');
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("topic", d.name());
                m.put("id", d.topicId().toString());
                m.put("internal", d.isInternal());
                m.put("replication_factor", rf);
                m.put("configs", overrides);
                m.put("partitions", parts);
                json.add(m);
            }
            print(sb.toString(), json);
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes topics and their records.")
    static final class Delete extends AdminCommand {
        @Parameters(paramLabel = "TOPIC", arity = "1..*")
        List<String> topics;

        @Override
        int execute() {
            KafkaSession kafka = kafka();
            kafka.await(kafka.admin().deleteTopics(topics).all(), "deleting " + String.join(", ", topics));
            print("deleted topic " + String.join(", ", topics) + "\n", Map.of("deleted", topics));
            return 0;
        }
    }

    @Command(name = "add-partitions", mixinStandardHelpOptions = true,
            description = "Grows a topic to a new partition count (partitions cannot be removed).")
    static final class AddPartitions extends AdminCommand {
        @Parameters(paramLabel = "TOPIC")
        String topic;

        @Option(names = {"-p", "--partitions"}, required = true, description = "the new total partition count")
        int partitions;

        @Override
        int execute() {
            KafkaSession kafka = kafka();
            kafka.await(kafka.admin().createPartitions(Map.of(topic, NewPartitions.increaseTo(partitions))).all(),
                    "growing topic " + topic + " to " + partitions + " partitions");
            print("topic " + topic + " now has " + partitions + " partitions\n",
                    Map.of("topic", topic, "partitions", partitions));
            return 0;
        }
    }

    @Command(name = "alter-config", mixinStandardHelpOptions = true,
            description = "Changes topic configs at runtime (IncrementalAlterConfigs), as kafka-configs --alter does.")
    static final class AlterConfig extends AdminCommand {
        @Parameters(paramLabel = "TOPIC")
        String topic;

        @Option(names = "--set", paramLabel = "key=value", description = "a config to set; repeatable")
        List<String> set;

        @Option(names = "--delete", paramLabel = "key", description = "a config to return to its default; repeatable")
        List<String> delete;

        @Option(names = "--append", paramLabel = "key=value", description = "add to a list config; repeatable")
        List<String> append;

        @Option(names = "--subtract", paramLabel = "key=value", description = "remove from a list config; repeatable")
        List<String> subtract;

        @Option(names = "--validate-only", description = "check the change without applying it")
        boolean validateOnly;

        @Override
        int execute() {
            List<AlterConfigOp> ops = new ArrayList<>();
            configs(set).forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET)));
            for (String k : delete == null ? List.<String>of() : delete) {
                ops.add(new AlterConfigOp(new ConfigEntry(k, ""), AlterConfigOp.OpType.DELETE));
            }
            configs(append).forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v),
                    AlterConfigOp.OpType.APPEND)));
            configs(subtract).forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v),
                    AlterConfigOp.OpType.SUBTRACT)));
            if (ops.isEmpty()) {
                throw AdminException.usage("nothing to change: give --set key=value, --delete key, --append key=value "
                        + "or --subtract key=value");
            }
            KafkaSession kafka = kafka();
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            kafka.await(kafka.admin().incrementalAlterConfigs(Map.of(resource, ops),
                    new AlterConfigsOptions().validateOnly(validateOnly)).all(), "altering configs of topic " + topic);
            String verb = validateOnly ? "validated (not applied) config changes of topic " : "altered configs of topic ";
            print(verb + topic + "\n", Map.of("topic", topic, "altered", !validateOnly));
            return 0;
        }
    }
}
