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
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Submits metadata commands to the metadata Raft group from any node (Ratis' client finds the leader). A command
 * completes once it is committed and applied on the leader; the local copy follows shortly after. Thread-safe.
 */
final class MetadataClient implements Closeable {
    private static final org.slf4j.Logger LOGGER = org.slf4j.LoggerFactory.getLogger(MetadataClient.class);
    private static final long TIMEOUT_MS = 15_000;
    /** Fresh clients a command may be sent through after the one it was given to broke (see {@link #unsent}). */
    private static final int RESENDS = 3;
    private static final long RESEND_DELAY_MS = 200;
    private final java.util.function.Supplier<RaftClient> clients;
    private volatile RaftClient client;
    private volatile boolean closed;
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
        this.clients = () -> RaftClient.newBuilder().setRaftGroup(group).setProperties(properties)
                .setParameters(parameters).build();
        this.client = clients.get();
    }

    /** Completes with the reply; a Kafka error in the reply fails the future with an {@link AdminException}. */
    CompletableFuture<MetadataReply> submit(MetadataCommand command) {
        Message message = Message.valueOf(ByteString.copyFrom(command.encode()));
        return send(message, RESENDS)
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

    /**
     * Sends through the current client; if that client can send nothing more (see {@link #unsent}), replaces it and
     * sends again, at most {@code resends} times. Ratis' ordered client fails its request window for good on an error
     * it does not retry, such as a server that does not have the metadata group yet while the nodes start
     * (GroupMismatchException, seen in CI): every later command of the node then failed with "... is closed".
     */
    private CompletableFuture<RaftClientReply> send(Message message, int resends) {
        RaftClient used = client;
        return CompletableFuture.supplyAsync(() -> used.async().send(message), sender)
                .thenCompose(f -> f)
                .handle((reply, e) -> {
                    if (e == null) {
                        return CompletableFuture.completedFuture(reply);
                    }
                    if (closed || resends == 0 || !unsent(e)) {
                        return CompletableFuture.<RaftClientReply>failedFuture(e);
                    }
                    replace(used, e);
                    return CompletableFuture.supplyAsync(() -> send(message, resends - 1),
                            CompletableFuture.delayedExecutor(RESEND_DELAY_MS, TimeUnit.MILLISECONDS, sender))
                            .thenCompose(f -> f);
                })
                .thenCompose(f -> f);
    }

    /**
     * Whether the failure means the command was never applied: the window refused it before sending
     * (AlreadyClosedException), or the server it reached has no metadata group (GroupMismatchException).
     */
    private static boolean unsent(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof AlreadyClosedException || t instanceof GroupMismatchException) {
                return true;
            }
        }
        return false;
    }

    private synchronized void replace(RaftClient broken, Throwable why) {
        if (client != broken || closed) {
            return;
        }
        LOGGER.info("Metadata client replaced after {}", why.toString());
        client = clients.get();
        try {
            broken.close();
        } catch (IOException e) {
            LOGGER.debug("Closing the replaced metadata client: {}", e.toString());
        }
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        sender.shutdownNow();
        client.close();
    }
}
