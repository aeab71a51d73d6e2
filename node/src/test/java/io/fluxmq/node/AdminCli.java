package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fluxmq.admin.FluxmqAdmin;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** The real {@code fluxmq-admin} command line, run in this JVM against a cluster's control addresses. */
record AdminCli(String control) {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Result(int exit, String out, String err) {}

    static AdminCli of(TestCluster cluster) {
        List<String> addresses = new ArrayList<>();
        for (int i = 0; i < cluster.size(); i++) {
            addresses.add(cluster.controlAddress(i));
        }
        return new AdminCli(String.join(",", addresses));
    }

    Result run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap", control));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = FluxmqAdmin.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        System.out.println("fluxmq-admin " + String.join(" ", args) + " -> " + exit + "\n" + out + err);
        return new Result(exit, out.toString(), err.toString());
    }

    String ok(String... args) {
        Result r = run(args);
        assertThat(r.exit()).as("fluxmq-admin %s: %s", String.join(" ", args), r).isZero();
        return r.out();
    }

    /** The command's JSON output ({@code --output json}) once it exits 0 and meets {@code condition}. */
    JsonNode awaitJson(Predicate<JsonNode> condition, long timeoutMs, String... args) throws Exception {
        List<String> withJson = new ArrayList<>(List.of(args));
        withJson.addAll(List.of("--output", "json"));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        Result last = null;
        while (System.nanoTime() < deadline) {
            last = run(withJson.toArray(String[]::new));
            if (last.exit() == 0) {
                JsonNode json = JSON.readTree(last.out());
                if (condition.test(json)) {
                    return json;
                }
            }
            Thread.sleep(250);
        }
        throw new AssertionError("fluxmq-admin " + String.join(" ", withJson) + " did not meet the condition within "
                + timeoutMs + " ms; last: " + last);
    }
}
