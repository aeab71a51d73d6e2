package io.fluxmq.node;

import io.fluxmq.raft.partition.SnapshotSource;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.common.TopicPartition;

/**
 * {@link SnapshotSource} over the leader's {@link NodeHttpServer}: HTTP, or with cluster TLS HTTPS presenting this
 * node's certificate (the leader serves partition data only to holders of a cluster certificate). Thread-safe.
 */
final class HttpSnapshotSource implements SnapshotSource {
    private final Members members;
    private final HttpClient client;
    private final String scheme;

    /** {@code tls} null: plaintext HTTP. */
    HttpSnapshotSource(Members members, ClusterTls tls) {
        this.members = members;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (tls != null) {
            b.sslContext(tls.sslContext());
        }
        this.client = b.build();
        this.scheme = tls == null ? "http" : "https";
    }

    @Override
    public ByteBuffer snapshot(int leaderNodeId, TopicPartition tp) throws IOException {
        return get(leaderNodeId, tp, "snapshot");
    }

    @Override
    public ByteBuffer records(int leaderNodeId, TopicPartition tp, long from, long to) throws IOException {
        return segmentRecords(leaderNodeId, tp, from, to).batches();
    }

    @Override
    public SegmentRecords segmentRecords(int leaderNodeId, TopicPartition tp, long from, long to) throws IOException {
        HttpResponse<byte[]> response = send(leaderNodeId, tp, "records?from=" + from);
        long base = response.headers().firstValueAsLong(NodeHttpServer.SEGMENT_BASE_HEADER).orElse(-1);
        return new SegmentRecords(ByteBuffer.wrap(response.body()), base);
    }

    private ByteBuffer get(int node, TopicPartition tp, String what) throws IOException {
        return ByteBuffer.wrap(send(node, tp, what).body());
    }

    private HttpResponse<byte[]> send(int node, TopicPartition tp, String what) throws IOException {
        ClusterMember m = members.member(node);
        if (m == null) {
            throw new IOException("unknown node " + node);
        }
        URI uri = URI.create(scheme + "://" + m.host() + ":" + m.httpPort() + "/partitions/"
                + URLEncoder.encode(tp.topic(), StandardCharsets.UTF_8) + "/" + tp.partition() + "/" + what);
        try {
            HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                    .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) {
                throw new IOException(uri + " answered " + response.statusCode());
            }
            return response;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted fetching " + uri, e);
        }
    }
}
