package io.fluxmq.admin;

import io.fluxmq.control.v1.DescribeNodesReply;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A leaf command ({@code topic create}, {@code cluster status}, ...): the connection options, the output stream,
 * and lazily a Kafka Admin session and the control service's node list. Subclasses implement {@link #execute()},
 * which returns the exit code or throws an {@link AdminException}.
 */
abstract class AdminCommand implements Callable<Integer> {
    @Mixin
    ConnectionOptions connection;

    @Spec
    CommandSpec spec;

    private DescribeNodesReply nodes;
    private KafkaSession kafka;

    @Override
    public final Integer call() {
        try {
            return execute();
        } finally {
            if (kafka != null) {
                kafka.close();
            }
        }
    }

    abstract int execute();

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Prints a table, or the JSON form when {@code --output json}. */
    void print(String table, Object json) {
        out().print(connection.json() ? Json.write(json) : table);
        out().flush();
    }

    /** DescribeNodes from the first control address that answers (asked once per command). */
    DescribeNodesReply nodes() {
        if (nodes == null) {
            if (connection.controlAddresses().isEmpty()) {
                throw AdminException.usage("this command needs the control service: give --bootstrap "
                        + "host:controlPort (or FLUXMQ_BOOTSTRAP, or bootstrap= in the config file)");
            }
            nodes = ControlClient.describeNodes(connection);
        }
        return nodes;
    }

    /** The Kafka Admin session (see {@link ConnectionOptions} for where its addresses come from). */
    KafkaSession kafka() {
        if (kafka == null) {
            kafka = KafkaSession.open(connection, this::nodes);
        }
        return kafka;
    }
}
