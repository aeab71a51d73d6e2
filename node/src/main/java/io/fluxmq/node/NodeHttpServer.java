package io.fluxmq.node;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.partition.PartitionException;
import io.fluxmq.raft.partition.PartitionReplica;
import io.fluxmq.raft.partition.PartitionStateMachine;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP endpoint (JDK HttpServer): {@code GET /health} (process up), {@code GET /ready} (200 once the node
 * serves and is caught up with the cluster, see {@link Readiness}; 503 with the reason while starting, registering,
 * catching up with metadata, or once the node is fenced), {@code GET /metrics}
 * (Prometheus text format, OpenMetrics when the {@code Accept} header asks for it; see {@link NodeMetrics}), and for
 * replica catch-up {@code GET /partitions/<topic>/<p>/snapshot} (latest snapshot:
 * term, index, file bytes) and {@code GET /partitions/<topic>/<p>/records?from=<offset>} (up to 8 MiB of committed
 * batches, raw segment bytes). With cluster TLS ({@code cluster.security.protocol=SSL}) it serves HTTPS with the node's
 * certificate: anyone who trusts the cluster's CA may read health, readiness and metrics, but the partition endpoints
 * answer 403 unless the client presented a certificate the CA signed (a peer node), so a process without one reads
 * no partition data.
 */
final class NodeHttpServer implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(NodeHttpServer.class);
    private static final int MAX_RECORD_BYTES = 8 << 20;
    /** Response header of {@code records}: the base offset of the leader's segment the batches were read from. */
    static final String SEGMENT_BASE_HEADER = "FluxMQ-Segment-Base";

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "fluxmq-http");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param tls      null: plain HTTP
     * @param notReady why the node is not ready (yet), or null once it is
     */
    NodeHttpServer(String host, int port, ClusterTls tls, RaftNode raft, Supplier<String> notReady,
                   NodeMetrics metrics) throws IOException {
        if (tls == null) {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } else {
            HttpsServer https = HttpsServer.create(new InetSocketAddress(host, port), 16);
            https.setHttpsConfigurator(new HttpsConfigurator(tls.sslContext()) {
                @Override
                public void configure(HttpsParameters params) {
                    SSLParameters p = getSSLContext().getDefaultSSLParameters();
                    p.setWantClientAuth(true); // asked for, checked by the partition endpoints
                    params.setSSLParameters(p);
                }
            });
            server = https;
        }
        server.setExecutor(executor);
        server.createContext("/health", ex -> reply(ex, 200, "ok\n".getBytes(StandardCharsets.UTF_8)));
        server.createContext("/ready", ex -> {
            String reason = notReady.get();
            reply(ex, reason == null ? 200 : 503, ((reason == null ? "ready" : reason) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
        });
        server.createContext("/partitions/", ex -> partitions(ex, raft));
        server.createContext("/metrics", ex -> metrics(ex, metrics));
        server.start();
        LOGGER.info("HTTP endpoint on {}", server.getAddress());
    }

    private static void metrics(HttpExchange ex, NodeMetrics metrics) throws IOException {
        String contentType = NodeMetrics.contentType(ex.getRequestHeaders().getFirst("Accept"));
        byte[] body;
        try {
            body = metrics.scrape(contentType);
        } catch (RuntimeException e) {
            LOGGER.warn("Metrics scrape failed", e);
            reply(ex, 500, String.valueOf(e).getBytes(StandardCharsets.UTF_8));
            return;
        }
        ex.getResponseHeaders().set("Content-Type", contentType);
        reply(ex, 200, body);
    }

    private static void partitions(HttpExchange ex, RaftNode raft) throws IOException {
        if (ex instanceof HttpsExchange https && !peerCertified(https)) {
            reply(ex, 403, "a cluster certificate is required\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        String[] parts = ex.getRequestURI().getPath().split("/");
        // "", "partitions", topic, partition, what
        if (parts.length != 5) {
            reply(ex, 404, new byte[0]);
            return;
        }
        TopicPartition tp;
        try {
            tp = new TopicPartition(parts[2], Integer.parseInt(parts[3]));
        } catch (NumberFormatException e) {
            reply(ex, 400, new byte[0]);
            return;
        }
        try {
            if (parts[4].equals("snapshot")) {
                PartitionStateMachine sm = raft.stateMachine(tp);
                ByteBuffer snapshot = sm == null ? null : sm.latestSnapshot();
                reply(ex, snapshot == null ? 404 : 200, snapshot == null ? new byte[0] : bytes(snapshot));
            } else if (parts[4].equals("records")) {
                PartitionReplica replica = raft.replica(tp);
                PartitionStateMachine sm = raft.stateMachine(tp);
                long from = Long.parseLong(query(ex, "from"));
                MemoryRecords records = replica == null ? null : replica.read(from, MAX_RECORD_BYTES, true);
                if (records != null && sm != null && records.sizeInBytes() > 0) {
                    // a read covers one segment: the base offset of the one holding its first batch
                    long first = records.batches().iterator().next().baseOffset();
                    ex.getResponseHeaders().set(SEGMENT_BASE_HEADER, Long.toString(sm.log().segmentBaseOf(first)));
                }
                reply(ex, records == null ? 404 : 200, records == null ? new byte[0] : bytes(records.buffer()));
            } else {
                reply(ex, 404, new byte[0]);
            }
        } catch (PartitionException | NumberFormatException e) {
            reply(ex, 400, String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Whether the client presented a certificate (the handshake verified it against the cluster's CA). */
    private static boolean peerCertified(HttpsExchange ex) {
        try {
            return ex.getSSLSession() != null && ex.getSSLSession().getPeerCertificates().length > 0;
        } catch (SSLPeerUnverifiedException e) {
            return false;
        }
    }

    private static String query(HttpExchange ex, String name) {
        String q = ex.getRequestURI().getQuery();
        if (q != null) {
            for (String kv : q.split("&")) {
                if (kv.startsWith(name + "=")) {
                    return kv.substring(name.length() + 1);
                }
            }
        }
        throw new NumberFormatException("missing query parameter " + name);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    private static void reply(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
