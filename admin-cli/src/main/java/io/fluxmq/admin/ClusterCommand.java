package io.fluxmq.admin;

import io.fluxmq.control.v1.DescribeNodesReply;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code fluxmq-admin cluster status | health}. */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Cluster-wide commands: status, health.",
        subcommands = {ClusterCommand.Status.class, ClusterCommand.Health.class})
final class ClusterCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: cluster status)");
    }

    /** The view of the cluster from the control service (when given) and Kafka's DescribeCluster and Metadata. */
    static ClusterView view(AdminCommand command) {
        DescribeNodesReply control = command.connection.controlAddresses().isEmpty() ? null : command.nodes();
        KafkaSession kafka = command.kafka();
        Admin admin = kafka.admin();
        DescribeClusterResult cluster = admin.describeCluster();
        String clusterId = kafka.await(cluster.clusterId(), "DescribeCluster");
        Node controller = kafka.await(cluster.controller(), "DescribeCluster");
        Collection<Node> brokers = kafka.await(cluster.nodes(), "DescribeCluster");
        Collection<String> names = kafka.await(admin.listTopics(new ListTopicsOptions().listInternal(true)).names(),
                "listing topics");
        Map<String, TopicDescription> topics = names.isEmpty() ? Map.of()
                : kafka.await(admin.describeTopics(names).allTopicNames(), "describing topics");
        return ClusterView.of(control, clusterId, controller, brokers, topics.values());
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Controller, every node (addresses, state, heartbeat, role, replica and leader counts), "
                    + "and the partitions that are under-replicated or without a leader.")
    static final class Status extends AdminCommand {
        @Override
        int execute() {
            ClusterView view = view(this);
            print(view.format(), view.json());
            return 0;
        }
    }

    @Command(name = "health", mixinStandardHelpOptions = true,
            description = "Exit code 0 when every node is UP and every partition has a leader and all its replicas "
                    + "in sync, 1 otherwise (3 when the cluster cannot be reached).")
    static final class Health extends AdminCommand {
        @Override
        int execute() {
            List<String> problems = view(this).problems();
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("healthy", problems.isEmpty());
            json.put("problems", problems);
            String table = problems.isEmpty() ? "healthy\n"
                    : "unhealthy:\n" + String.join("\n", problems.stream().map(p -> "  " + p).toList()) + "\n";
            print(table, json);
            return problems.isEmpty() ? 0 : 1;
        }
    }
}
