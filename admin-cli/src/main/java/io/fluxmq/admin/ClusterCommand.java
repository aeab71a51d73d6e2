package io.fluxmq.admin;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code fluxmq-admin cluster status}: the cluster's nodes and controller, the same table as {@code nodes}. */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Cluster-wide commands: status.")
final class ClusterCommand implements Runnable {
    @Spec
    CommandSpec spec;

    /** {@code cluster} with its subcommands; {@code status} is {@link NodesCommand} under that name. */
    static CommandLine commandLine() {
        return new CommandLine(new ClusterCommand()).addSubcommand("status", new NodesCommand());
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: cluster status)");
    }
}
