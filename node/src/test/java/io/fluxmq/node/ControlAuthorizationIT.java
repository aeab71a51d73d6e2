package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.admin.FluxmqAdmin;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13: per-operator authorization of the control service. Three nodes with node-to-node TLS and an authorizer;
 * the nodes' certificate principal is a super user (as Kafka's brokers are), an operator's certificate of the same CA
 * is not: the operator's {@code fluxmq-admin} is refused (exit 1, naming the principal and the ACL to grant) until
 * {@code Describe} on the cluster is granted, then reads but may not change anything ({@code raft snapshot} needs
 * {@code Alter}) until that is granted too; the operator's certificate can never act as a node ({@code ClusterAction}
 * is not implied by {@code Alter}); the nodes, authorized by their own certificates, go on registering, serving and
 * moving leaders.
 */
class ControlAuthorizationIT {
    private static final String NODE_PRINCIPAL = "User:CN=fluxmq-node,OU=nodes";
    private static final String OPERATOR = "User:CN=operator,OU=admins";

    @Test
    @Timeout(300)
    void operatorsGetWhatTheirCertificatePrincipalIsGranted(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("ca"));
        TestCertificates ca = TestCertificates.create(dir.resolve("ca"));
        Path nodeStore = ca.keystore("node", "CN=fluxmq-node,OU=nodes");
        Path operatorStore = ca.keystore("operator", "CN=operator,OU=admins");
        Map<String, String> settings = new HashMap<>();
        settings.put("cluster.security.protocol", "SSL");
        settings.put("cluster.ssl.keystore.type", "PKCS12");
        settings.put("cluster.ssl.keystore.location", nodeStore.toString());
        settings.put("cluster.ssl.keystore.password", TestCertificates.PASSWORD);
        settings.put("cluster.ssl.truststore.type", "PKCS12");
        settings.put("cluster.ssl.truststore.location", ca.truststore().toString());
        settings.put("cluster.ssl.truststore.password", TestCertificates.PASSWORD);
        settings.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        // the nodes, and the test's Kafka clients (plaintext listener: ANONYMOUS) to administer ACLs
        settings.put("super.users", NODE_PRINCIPAL + ";User:ANONYMOUS");
        long[] logsAtStart = new long[3]; // node logs append across runs
        for (int i = 0; i < 3; i++) {
            Path log = Path.of("target", "node-logs", "cluster-node-" + i + ".log");
            logsAtStart[i] = Files.exists(log) ? Files.size(log) : 0;
        }
        try (TestCluster cluster = TestCluster.start(3, dir.resolve("nodes"), settings);
             Admin admin = cluster.admin()) {
            cluster.createTopic("guarded", 3, (short) 3);
            Path operator = controlConfig(dir, "operator.properties", operatorStore, ca);

            Result refused = cli(cluster, operator, "node", "list");
            assertThat(refused.exit).as("%s", refused).isEqualTo(1);
            assertThat(refused.err).contains(OPERATOR).contains("Describe").contains("kafka-acls");

            grant(admin, AclOperation.DESCRIBE);
            Result listed = awaitServed(cluster, operator, "node", "list");
            assertThat(listed.exit).as("%s", listed).isZero();
            assertThat(listed.out).contains("127.0.0.1");
            Result status = cli(cluster, operator, "raft", "status", "guarded", "-p", "0");
            assertThat(status.exit).as("%s", status).isZero();
            Result snapshot = cli(cluster, operator, "raft", "snapshot", "guarded", "-p", "0");
            assertThat(snapshot.exit).as("Describe does not allow a change: %s", snapshot).isEqualTo(1);
            assertThat(snapshot.err).contains(OPERATOR).contains("Alter");

            grant(admin, AclOperation.ALTER);
            Result allowed = awaitServed(cluster, operator, "raft", "snapshot", "guarded", "-p", "0");
            assertThat(allowed.exit).as("%s", allowed).isZero();
            // answered by any node, which forwards it to the leader's node with its own certificate
            int leader = cluster.awaitLeader("guarded", 1, Duration.ofSeconds(30));
            int target = (leader + 1) % 3;
            Result moved = cli(cluster, operator, "partition", "transfer-leader", "guarded", "-p", "1", "--to",
                    Integer.toString(target));
            assertThat(moved.exit).as("%s", moved).isZero();
            assertThat(cluster.awaitLeader("guarded", 1, Duration.ofSeconds(30))).isEqualTo(target);

            // the nodes' own calls are authorized by their principal: a restarted node registers again
            long logFrom = cluster.node(2).logLength();
            cluster.node(2).kill();
            cluster.restart(2);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!cluster.node(2).logSince(logFrom).contains("Node 2 registered with controller")) {
                assertThat(System.nanoTime()).as("node 2 registered again within 90 s").isLessThan(deadline);
                Thread.sleep(100);
            }
            String logs = IntStream.range(0, 3).mapToObj(i -> {
                try {
                    return cluster.node(i).logSince(logsAtStart[i]);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).collect(Collectors.joining("\n"));
            assertThat(logs).doesNotContain("Refused control call: " + NODE_PRINCIPAL)
                    .contains("Refused control call: " + OPERATOR);
        }
    }

    private static void grant(Admin admin, AclOperation operation) throws Exception {
        admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster",
                PatternType.LITERAL), new AccessControlEntry(OPERATOR, "*", operation, AclPermissionType.ALLOW))))
                .all().get(60, TimeUnit.SECONDS);
    }

    /**
     * The command until it is not refused: each node applies a new ACL from its metadata replica, so the node the
     * CLI asks may refuse for a few milliseconds after createAcls answered (bounded: 30 s).
     */
    private static Result awaitServed(TestCluster cluster, Path operator, String... args) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Result r = cli(cluster, operator, args);
            if (r.exit != 1 || !r.err.contains("is not authorized")) {
                return r;
            }
            assertThat(System.nanoTime()).as("served within 30 s of the grant: %s", r).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static Path controlConfig(Path dir, String name, Path keystore, TestCertificates ca) throws Exception {
        Path file = dir.resolve(name);
        Files.write(file, List.of("security.protocol=SSL", "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + ca.truststore(), "ssl.truststore.password=" + TestCertificates.PASSWORD,
                "ssl.keystore.type=PKCS12", "ssl.keystore.location=" + keystore,
                "ssl.keystore.password=" + TestCertificates.PASSWORD));
        return file;
    }

    private record Result(int exit, String out, String err) {
    }

    private static Result cli(TestCluster cluster, Path controlConfig, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap", IntStream.range(0, 3).mapToObj(cluster::controlAddress)
                .collect(Collectors.joining(",")), "--timeout-ms", "10000", "--control-config",
                controlConfig.toString()));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = FluxmqAdmin.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        return new Result(exit, out.toString(), err.toString());
    }
}
