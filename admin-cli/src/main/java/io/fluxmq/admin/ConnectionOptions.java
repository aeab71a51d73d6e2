package io.fluxmq.admin;

import io.grpc.ChannelCredentials;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * The options every command takes: where the cluster is, how long to wait, and how to print. The control service
 * address ({@code --bootstrap}) is enough: the Kafka addresses are then the ones the nodes registered
 * (DescribeNodes). {@code --kafka-bootstrap} gives them directly, e.g. where the registered addresses are not
 * reachable from the operator's machine. An option not given comes from the environment or the config file
 * ({@link AdminDefaults}).
 */
final class ConnectionOptions {
    /** How results are printed. */
    enum Output { TABLE, JSON }

    @Option(names = {"-b", "--bootstrap"}, split = ",", paramLabel = "host:controlPort",
            description = "gRPC control service address(es) of any node (port 9292 by default), tried in order. "
                    + "Default: the environment variable FLUXMQ_BOOTSTRAP (or FLUXMQ_ADMIN_BOOTSTRAP), else "
                    + "bootstrap= in the config file")
    List<String> control;

    @Option(names = {"-k", "--kafka-bootstrap"}, split = ",", paramLabel = "host:kafkaPort",
            description = "Kafka listener address(es) for the Kafka Admin API (port 9092 by default). Default: the "
                    + "environment variable FLUXMQ_KAFKA_BOOTSTRAP (or FLUXMQ_ADMIN_KAFKA_BOOTSTRAP), else "
                    + "kafka-bootstrap= in the config file, else the Kafka addresses the nodes registered, asked from "
                    + "--bootstrap")
    List<String> kafka;

    @Option(names = "--control-config", paramLabel = "file",
            description = "properties file with the TLS of the control service calls, Kafka's client names: "
                    + "security.protocol=SSL, ssl.keystore.* (a certificate the cluster's CA signed), ssl.truststore.* "
                    + "(the cluster's CA). Default: the environment variable FLUXMQ_ADMIN_CONTROL_CONFIG, else "
                    + "control-config= in the config file, else plaintext")
    Path controlConfig;

    @Option(names = "--command-config", paramLabel = "file",
            description = "Kafka client properties for the Kafka Admin API (security.protocol, ssl.*, sasl.*), as "
                    + "Kafka's tools take them. Default: the environment variable FLUXMQ_ADMIN_COMMAND_CONFIG, else "
                    + "command-config= in the config file")
    Path commandConfig;

    @Option(names = AdminDefaults.CONFIG_OPTION, paramLabel = "file",
            description = "properties file with defaults of these options, keyed by their long names (bootstrap, "
                    + "kafka-bootstrap, control-config, command-config, timeout-ms, output); the command line and the "
                    + "environment take precedence. Default: the environment variable FLUXMQ_ADMIN_CONFIG, else "
                    + "~/.fluxmq/admin.properties when it exists")
    Path config;

    private ChannelCredentials credentials;

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

    /** The control service's credentials ({@code --control-config}), loaded once. */
    ChannelCredentials controlCredentials() {
        if (credentials == null) {
            credentials = ControlTls.credentials(controlConfig);
        }
        return credentials;
    }

    /** The Kafka client properties of {@code --command-config}, empty without it. */
    Properties commandProperties() {
        Properties p = new Properties();
        if (commandConfig != null) {
            try (Reader in = Files.newBufferedReader(commandConfig)) {
                p.load(in);
            } catch (IOException e) {
                throw AdminException.usage("cannot read --command-config " + commandConfig + ": " + e.getMessage());
            }
        }
        return p;
    }

    boolean json() {
        return output == Output.JSON;
    }

    private static List<String> clean(List<String> addresses) {
        return addresses == null ? List.of()
                : addresses.stream().map(String::trim).filter(a -> !a.isEmpty()).toList();
    }
}
