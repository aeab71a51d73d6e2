package io.fluxmq.admin;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code fluxmq-admin}: operator commands, noun then verb ({@code cluster status}, {@code topic create}, ...), over
 * the nodes' gRPC control service and the Kafka Admin API. Exit codes: 0 done, 1 failed (or, for
 * {@code cluster health}, not healthy), 2 bad usage, 3 the cluster could not be reached.
 */
@Command(name = "fluxmq-admin", mixinStandardHelpOptions = true,
        subcommands = {ClusterCommand.class, NodeCommand.class, NodesCommand.class, TopicCommand.class, GroupCommand.class,
                PartitionCommand.class, LeadersCommand.class, RaftCommand.class},
        description = "Administers a FluxMQ cluster through its gRPC control service and the Kafka Admin API.")
public final class FluxmqAdmin implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command with the given output streams; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        String home = System.getProperty("user.home");
        return run(out, err, System.getenv(), home == null || home.isEmpty() ? null : Path.of(home), args);
    }

    /**
     * Runs one command with the given output streams, environment and home directory (where
     * {@code .fluxmq/admin.properties} is looked for; null: none); returns the exit code.
     */
    static int run(PrintWriter out, PrintWriter err, Map<String, String> env, Path home, String... args) {
        AdminDefaults defaults;
        try {
            defaults = AdminDefaults.load(args, env, home);
        } catch (AdminException e) {
            err.println("fluxmq-admin: " + e.getMessage());
            err.flush();
            return e.exitCode();
        }
        CommandLine cl = new CommandLine(new FluxmqAdmin()).setOut(out).setErr(err)
                .setCaseInsensitiveEnumValuesAllowed(true).setDefaultValueProvider(defaults);
        cl.setExecutionExceptionHandler((e, command, parsed) -> {
            if (e instanceof AdminException a) {
                command.getErr().println("fluxmq-admin: " + a.getMessage());
                return a.exitCode();
            }
            command.getErr().println("fluxmq-admin: " + e);
            return AdminException.FAILED;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command (try: cluster status, cluster health, node, topic, group, partition, leaders, raft, nodes)");
    }
}
