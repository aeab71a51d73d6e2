package io.fluxmq.admin;

import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options every command takes: where the cluster is, how long to wait, and how to print. The control service
 * address ({@code --bootstrap}) is enough: the Kafka addresses are then the ones the nodes registered
 * (DescribeNodes). {@code --kafka-bootstrap} gives them directly, e.g. where the registered addresses are not
 * reachable from the operator's machine.
 */
final class ConnectionOptions {
    /** How results are printed. */
    enum Output { TABLE, JSON }

    @Option(names = {"-b", "--bootstrap"}, split = ",", paramLabel = "host:controlPort",
            defaultValue = "${env:FLUXMQ_ADMIN_BOOTSTRAP}",
            description = "gRPC control service address(es) of any node (port 9292 by default), tried in order. "
                    + "Default: the environment variable FLUXMQ_ADMIN_BOOTSTRAP")
    List<String> control;

    @Option(names = {"-k", "--kafka-bootstrap"}, split = ",", paramLabel = "host:kafkaPort",
            defaultValue = "${env:FLUXMQ_ADMIN_KAFKA_BOOTSTRAP}",
            description = "Kafka listener address(es) for the Kafka Admin API (port 9092 by default). Default: the "
                    + "environment variable FLUXMQ_ADMIN_KAFKA_BOOTSTRAP, else the Kafka addresses the nodes "
                    + "registered, asked from --bootstrap")
    List<String> kafka;

    @Option(names = "--timeout-ms", defaultValue = "30000",
            description = "deadline of each request, in milliseconds (default ${DEFAULT-VALUE})")
    long timeoutMs;

    @Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "table|json",
            description = "table (default, for people) or json (for scripts)")
    Output output;

    /** The control addresses given, without blanks. */
    List<String> controlAddresses() {
        return clean(control);
    }

    /** The Kafka addresses given, without blanks. */
    List<String> kafkaAddresses() {
        return clean(kafka);
    }

    boolean json() {
        return output == Output.JSON;
    }

    private static List<String> clean(List<String> addresses) {
        return addresses == null ? List.of()
                : addresses.stream().map(String::trim).filter(a -> !a.isEmpty()).toList();
    }
}
