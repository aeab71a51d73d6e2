package io.fluxmq.kafka.server;

import io.fluxmq.kafka.api.ApiHandler;
import io.fluxmq.kafka.api.ApiRegistry;
import io.fluxmq.kafka.api.CloseConnectionException;
import io.fluxmq.kafka.metrics.FrontendMetrics;
import io.fluxmq.kafka.quota.ClientQuotaManager;
import io.fluxmq.kafka.quota.QuotaType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a connection's pipeline: decodes each frame, dispatches it to its API handler and hands the
 * response future to the connection's {@link ResponseOrderer}. A frame that cannot be served closes the connection
 * after one log line. Reports each connection, and each request's time from its frame being read until its handler
 * answered (or failed), to {@link FrontendMetrics}. Gives each request's bytes back to the node's request memory when
 * it is answered, and closes the connection when the idle timer fires with no request in flight. Every request
 * carries the connection's principal: {@code User:ANONYMOUS} until an {@link Authenticated} event (TLS client
 * certificate, SASL) names another. A handler that throttles its request (a client over its quota) mutes the
 * connection: it stops reading for the throttle time, as Kafka's channel muting, while the response goes out at once.
 * A SASL connection with a session lifetime passes each request to its {@link SaslSession} first (KIP-368).
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOGGER = LoggerFactory.getLogger(ConnectionHandler.class);

    private final ApiRegistry registry;
    private final RequestDecoder decoder;
    private final String listener;
    private final int maxInFlight;
    private final FrontendMetrics metrics;
    private final ReadGate gate;
    private final RequestMemoryHandler memory;
    private ResponseOrderer orderer;
    private ReadGate readGate;
    /** Mutes this connection for a quota; one per connection, handed to every request's context. */
    private RequestContext.Throttle throttle = RequestContext.Throttle.NONE;
    /** Until when (nanoTime) the connection is muted for a quota; 0 when not muted. Event loop only. */
    private long mutedUntilNanos;
    private KafkaPrincipal principal = KafkaPrincipal.ANONYMOUS;
    /** The SASL session when it has a lifetime (re-authentication, expiry); null otherwise. */
    private SaslSession session;

    /** A handler with no bound on request memory (tests on an embedded channel). */
    ConnectionHandler(ApiRegistry registry, String listener, int maxInFlight, FrontendMetrics metrics) {
        this(registry, listener, maxInFlight, metrics, null, null);
    }

    /** {@code gate} and {@code memory} null: a gate of its own and no accounting. */
    ConnectionHandler(ApiRegistry registry, String listener, int maxInFlight, FrontendMetrics metrics, ReadGate gate,
                      RequestMemoryHandler memory) {
        this.gate = gate;
        this.memory = memory;
        this.registry = registry;
        this.metrics = metrics;
        this.decoder = new RequestDecoder(registry);
        this.listener = listener;
        this.maxInFlight = maxInFlight;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        readGate = gate != null ? gate : new ReadGate(ctx.channel());
        orderer = new ResponseOrderer(ctx.channel(), maxInFlight, readGate);
        throttle = throttleMs -> mute(ctx, throttleMs);
        metrics.connectionOpened(listener);
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        long readNanos = System.nanoTime();
        ByteBuffer frame;
        ByteBuf buf = (ByteBuf) msg;
        long frameBytes = buf.readableBytes() + 4L;
        try {
            frame = ByteBuffer.allocate(buf.readableBytes());
            buf.readBytes(frame);
            frame.flip();
        } finally {
            buf.release();
        }
        RequestDecoder.Decoded decoded = decoder.decode(frame);
        if (decoded instanceof RequestDecoder.Decoded.Fatal fatal) {
            LOGGER.warn("Closing connection from {}: {}", ctx.channel().remoteAddress(), fatal.reason());
            ctx.close();
        } else if (decoded instanceof RequestDecoder.Decoded.Immediate immediate) {
            orderer.enqueue(CompletableFuture.completedFuture(Unpooled.wrappedBuffer(immediate.response())),
                    () -> release(frameBytes));
        } else if (decoded instanceof RequestDecoder.Decoded.Request request) {
            if (session == null || servedBySession(ctx, request.request(), readNanos, frameBytes)) {
                orderer.enqueue(dispatch(ctx, request.request(), readNanos, frameBytes), () -> release(frameBytes));
            }
        }
    }

    /**
     * Hands the request to the connection's {@link SaslSession} first; false when the session answered it (a
     * re-authentication step, in order with the other responses) or closes the connection (after the earlier
     * responses went out).
     */
    private boolean servedBySession(ChannelHandlerContext ctx, KafkaRequest request, long readNanos, long frameBytes) {
        SaslSession.Verdict verdict = session.onRequest(request, readNanos);
        if (verdict instanceof SaslSession.Verdict.Serve) {
            return true;
        }
        if (verdict instanceof SaslSession.Verdict.Answer answer) {
            ByteBuf response = ResponseEncoder.encode(request.apiKey(), request.version(), request.correlationId(),
                    answer.body(), ctx.alloc());
            orderer.enqueue(CompletableFuture.completedFuture(response), () -> release(frameBytes));
            if (answer.thenClose()) {
                LOGGER.info("Closing connection from {} ({}): re-authentication failed", ctx.channel().remoteAddress(),
                        session.principal());
                orderer.enqueue(CompletableFuture.failedFuture(new CloseConnectionException("re-authentication")),
                        () -> { });
            }
        } else if (verdict instanceof SaslSession.Verdict.Close close) {
            LOGGER.info("Closing connection from {} ({}): {}", ctx.channel().remoteAddress(), session.principal(),
                    close.reason());
            orderer.enqueue(CompletableFuture.failedFuture(new CloseConnectionException(close.reason())),
                    () -> release(frameBytes));
        }
        return false;
    }

    private void release(long frameBytes) {
        if (memory != null) {
            memory.release(frameBytes);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof Authenticated authenticated) {
            principal = authenticated.principal();
            session = authenticated.session();
            return;
        }
        if (event instanceof IdleStateEvent && orderer != null && orderer.isEmpty()) {
            LOGGER.debug("Closing connection from {}: idle for connections.max.idle.ms",
                    ctx.channel().remoteAddress());
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private CompletableFuture<ByteBuf> dispatch(ChannelHandlerContext ctx, KafkaRequest request, long readNanos,
                                                long frameBytes) {
        ApiHandler handler = registry.handler(request.apiKey());
        RequestContext context = new RequestContext(request.header(), listener,
                (InetSocketAddress) ctx.channel().remoteAddress(), principal, frameBytes, throttle);
        boolean respond = handler.expectsResponse(request.body());
        CompletableFuture<ApiMessage> response;
        ClientQuotaManager quotas = registry.quotas();
        boolean charged = quotas.enabled(QuotaType.REQUEST); // the clock is read only when some client has the quota
        long handleStart = charged ? System.nanoTime() : 0;
        try {
            response = handler.handle(context, request.body());
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        long handleNanos = charged ? System.nanoTime() - handleStart : 0;
        return response.handle((body, error) -> {
            metrics.requestDone(request.apiKey(), System.nanoTime() - readNanos);
            // request_percentage: the time this thread spent on the request (decoding is the reader's, waiting for
            // Raft is no thread's); over the quota the response says so and the connection is muted
            int requestThrottleMs = charged ? quotas.recordRequestTime(context, handleNanos) : 0;
            if (requestThrottleMs > 0 && body != null) {
                ThrottleTimes.raise(body, requestThrottleMs);
            }
            if (error == null && respond) {
                try {
                    return ResponseEncoder.encode(request.apiKey(), request.version(), request.correlationId(), body,
                            ctx.alloc());
                } catch (RuntimeException e) {
                    error = e;
                }
            }
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                if (cause instanceof CloseConnectionException close) {
                    LOGGER.info("Closing connection from {} (client id {}, correlation id {}): {}",
                            ctx.channel().remoteAddress(), request.header().clientId(), request.correlationId(),
                            close.getMessage());
                } else {
                    LOGGER.error("{} v{} from {} failed; closing the connection", request.apiKey(), request.version(),
                            ctx.channel().remoteAddress(), error);
                }
                throw new IllegalStateException(error);
            }
            return null;
        });
    }

    /**
     * Stops reading for {@code throttleMs} from now (a later end replaces an earlier one); the read resumes when the
     * last mute ends, unless another reason still pauses it.
     */
    private void mute(ChannelHandlerContext ctx, int throttleMs) {
        if (!ctx.executor().inEventLoop()) {
            ctx.executor().execute(() -> mute(ctx, throttleMs));
            return;
        }
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(throttleMs);
        if (readGate == null || until - mutedUntilNanos <= 0 && mutedUntilNanos != 0) {
            return;
        }
        mutedUntilNanos = until;
        readGate.pause(ReadGate.THROTTLE);
        ctx.executor().schedule(() -> {
            if (mutedUntilNanos == until) {
                mutedUntilNanos = 0;
                readGate.resume(ReadGate.THROTTLE);
            }
        }, throttleMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (session != null) {
            session.close();
        }
        if (orderer != null) {
            orderer.close();
            metrics.connectionClosed(listener);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            LOGGER.warn("Closing connection from {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
        } else if (cause instanceof IOException) {
            LOGGER.debug("Connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            LOGGER.warn("Closing connection from {} after an error", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
