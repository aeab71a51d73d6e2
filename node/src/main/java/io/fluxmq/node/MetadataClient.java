package io.fluxmq.node;

import io.fluxmq.kafka.broker.AdminException;
import io.fluxmq.raft.metadata.MetadataCommand;
import io.fluxmq.raft.metadata.MetadataReply;
import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.protocol.Errors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Submits metadata commands to the metadata Raft group from any node (Ratis' client finds the leader). A command
 * completes once it is committed and applied on the leader; the local copy follows shortly after. Thread-safe.
 */
final class MetadataClient implements Closeable {
    private static final long TIMEOUT_MS = 15_000;
    private final RaftClient client;
    /**
     * Ratis' "async" send connects to the leader synchronously (up to 30 s when packets are dropped), so sends run
     * here, never on a Raft apply thread or a Netty event loop.
     */
    private final java.util.concurrent.ExecutorService sender = java.util.concurrent.Executors.newSingleThreadExecutor(
            r -> {
                Thread t = new Thread(r, "fluxmq-metadata-client");
                t.setDaemon(true);
                return t;
            });

    MetadataClient(RaftGroup group, RaftProperties properties, Parameters parameters) {
        this.client = RaftClient.newBuilder().setRaftGroup(group).setProperties(properties).setParameters(parameters)
                .build();
    }

    /** Completes with the reply; a Kafka error in the reply fails the future with an {@link AdminException}. */
    CompletableFuture<MetadataReply> submit(MetadataCommand command) {
        Message message = Message.valueOf(ByteString.copyFrom(command.encode()));
        return CompletableFuture.supplyAsync(() -> client.async().send(message), sender)
                .thenCompose(f -> f)
                .orTimeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .thenApply(reply -> {
                    if (!reply.isSuccess()) {
                        throw new AdminException(Errors.NOT_CONTROLLER, "metadata write failed: " + reply.getException());
                    }
                    MetadataReply r = MetadataReply.decode(reply.getMessage().getContent().asReadOnlyByteBuffer());
                    if (!r.isOk()) {
                        throw new AdminException(Errors.forCode(r.errorCode()), r.message());
                    }
                    return r;
                });
    }

    @Override
    public void close() throws IOException {
        sender.shutdownNow();
        client.close();
    }
}
