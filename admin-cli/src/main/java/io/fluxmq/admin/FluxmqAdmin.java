package io.fluxmq.admin;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code fluxmq-admin}: operator commands over the nodes' gRPC control service. Exit codes: 0 done, 1 the cluster
 * could not be reached or refused, 2 bad usage.
 */
@Command(name = "fluxmq-admin", mixinStandardHelpOptions = true, subcommands = NodesCommand.class,
        description = "Administers a FluxMQ cluster through its gRPC control service.")
public final class FluxmqAdmin implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command with the given output streams; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return new CommandLine(new FluxmqAdmin())
                .addSubcommand(ClusterCommand.commandLine())
                .setOut(out).setErr(err).execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: nodes, cluster status)");
    }
}
