package io.fluxmq.admin;

import io.fluxmq.control.v1.ControlServiceGrpc;
import io.fluxmq.control.v1.DescribeNodesReply;
import io.fluxmq.control.v1.DescribeNodesRequest;
import io.fluxmq.control.v1.NodeInfo;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code fluxmq-admin nodes} (also {@code cluster status}): every node with its address, UP/DOWN state and last
 * heartbeat age (DescribeNodes).
 */
@Command(name = "nodes", mixinStandardHelpOptions = true,
        description = "Lists the cluster's nodes: id, Kafka address, state, age of the last heartbeat, role.")
final class NodesCommand implements Callable<Integer> {
    @Option(names = {"-b", "--bootstrap"}, split = ",", paramLabel = "host:controlPort",
            defaultValue = "${env:FLUXMQ_ADMIN_BOOTSTRAP}",
            description = "control service address(es) of any node (port 9292 by default); tried in order. "
                    + "Default: the environment variable FLUXMQ_ADMIN_BOOTSTRAP")
    List<String> bootstrap;

    @Option(names = "--timeout-ms", defaultValue = "5000", description = "per-address deadline (default ${DEFAULT-VALUE})")
    long timeoutMs;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (bootstrap == null || bootstrap.stream().allMatch(String::isBlank)) {
            throw new ParameterException(spec.commandLine(),
                    "Missing required option: '--bootstrap=host:controlPort' (or FLUXMQ_ADMIN_BOOTSTRAP)");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> failures = new ArrayList<>();
        for (String address : bootstrap) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(address.trim()).usePlaintext().build();
            try {
                DescribeNodesReply reply = ControlServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                        .describeNodes(DescribeNodesRequest.getDefaultInstance());
                out.print(format(reply));
                out.flush();
                return 0;
            } catch (StatusRuntimeException e) {
                failures.add(address + ": " + e.getStatus().getCode()
                        + (e.getStatus().getDescription() == null ? "" : " " + e.getStatus().getDescription()));
            } finally {
                channel.shutdownNow();
            }
        }
        err.println("fluxmq-admin: no node answered: " + String.join("; ", failures));
        return 1;
    }

    /** The table printed for a reply: a header line, one line per node, then the controller line. */
    static String format(DescribeNodesReply reply) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-4s %-24s %-7s %-16s %s%n",
                "ID", "ADDRESS", "STATE", "LAST HEARTBEAT", "ROLE"));
        for (NodeInfo n : reply.getNodesList()) {
            String address = n.getEndpoint().getHost().isEmpty() ? "-"
                    : n.getEndpoint().getHost() + ":" + n.getEndpoint().getKafkaPort();
            String state = n.getState().name().replace("NODE_STATE_", "");
            String age = n.getLastHeartbeatAgeMs() < 0 ? "unknown"
                    : String.format(Locale.ROOT, "%.1f s ago", n.getLastHeartbeatAgeMs() / 1000.0);
            String role = n.getNodeId() == reply.getControllerId() ? "controller (leader)"
                    : n.getController() ? "controller" : "broker";
            sb.append(String.format(Locale.ROOT, "%-4d %-24s %-7s %-16s %s%n", n.getNodeId(), address, state, age,
                    role));
        }
        sb.append(String.format(Locale.ROOT, "controller leader: %s, metadata epoch %d, answered by node %d%n",
                reply.getControllerId() < 0 ? "unknown" : Integer.toString(reply.getControllerId()),
                reply.getMetadataEpoch(), reply.getAnsweredBy()));
        return sb.toString();
    }
}
