package io.fluxmq.kafka.server;

import io.fluxmq.kafka.security.SaslMechanisms;
import io.fluxmq.kafka.security.ScramCredentials;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.ByteBuffer;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates a SASL_PLAINTEXT or SASL_SSL connection before any request reaches the {@link ConnectionHandler},
 * as Kafka's {@code SaslServerAuthenticator} does: only ApiVersions (passed on), SaslHandshake v0–1 and
 * SaslAuthenticate v0–2 are accepted until the client authenticated; any other request closes the connection. A
 * v0 handshake is followed by raw SASL tokens (size-prefixed, no Kafka header), a v1 one by SaslAuthenticate
 * requests. Failed authentication answers {@code SASL_AUTHENTICATION_FAILED} with a message (v1) and closes the
 * connection once the answer is written. On success it announces {@code User:<name>} ({@link Authenticated}) and
 * takes itself out of the pipeline, so authenticated requests pay nothing. With {@code connections.max.reauth.ms}
 * set for the mechanism, SaslAuthenticate's {@code session_lifetime_ms} carries it and the announcement a
 * {@link SaslSession}, through which the {@link ConnectionHandler} serves re-authentication (KIP-368) in request
 * order. Confined to the channel's event loop.
 */
final class SaslAuthenticationHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOGGER = LoggerFactory.getLogger(SaslAuthenticationHandler.class);

    /** Where the exchange stands. */
    private enum Stage { HANDSHAKE, AUTHENTICATE, RAW_TOKENS, FAILED }

    private final SaslMechanisms mechanisms;
    private final ScramCredentials clusterCredentials;
    private final RequestMemoryHandler memory;
    private Stage stage = Stage.HANDSHAKE;
    private String mechanism;
    private SaslServer server;

    /**
     * SCRAM users are looked up in {@code clusterCredentials} (cluster metadata) first; {@code memory} null: no request
     * memory accounting (tests).
     */
    SaslAuthenticationHandler(SaslMechanisms mechanisms, ScramCredentials clusterCredentials,
                              RequestMemoryHandler memory) {
        this.mechanisms = mechanisms;
        this.clusterCredentials = clusterCredentials;
        this.memory = memory;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (stage != Stage.RAW_TOKENS && frame.readableBytes() >= 2
                && frame.getShort(frame.readerIndex()) == ApiKeys.API_VERSIONS.id) {
            ctx.fireChannelRead(msg); // answered by the ConnectionHandler, synchronously, so in order
            return;
        }
        long frameBytes = frame.readableBytes() + 4L;
        ByteBuffer bytes = ByteBuffer.allocate(frame.readableBytes());
        frame.readBytes(bytes);
        frame.release();
        bytes.flip();
        try {
            switch (stage) {
                case RAW_TOKENS -> rawToken(ctx, bytes);
                case HANDSHAKE, AUTHENTICATE -> request(ctx, bytes);
                case FAILED -> { } // closing
            }
        } finally {
            if (memory != null) {
                memory.release(frameBytes);
            }
        }
    }

    private void request(ChannelHandlerContext ctx, ByteBuffer bytes) {
        RequestHeader header;
        ApiMessage body;
        try {
            header = RequestHeader.parse(bytes);
            body = switch (header.apiKey()) {
                case SASL_HANDSHAKE -> stage == Stage.HANDSHAKE && header.apiVersion() <= 1
                        ? new SaslHandshakeRequestData(new ByteBufferAccessor(bytes), header.apiVersion()) : null;
                case SASL_AUTHENTICATE -> stage == Stage.AUTHENTICATE && header.apiVersion() <= 2
                        ? new SaslAuthenticateRequestData(new ByteBufferAccessor(bytes), header.apiVersion()) : null;
                default -> null;
            };
        } catch (RuntimeException e) {
            fail(ctx, "a request that cannot be decoded before SASL authentication: " + e.getMessage());
            return;
        }
        if (body instanceof SaslHandshakeRequestData handshake) {
            handshake(ctx, header, handshake);
        } else if (body instanceof SaslAuthenticateRequestData authenticate) {
            authenticate(ctx, header, authenticate);
        } else {
            fail(ctx, header.apiKey() + " v" + header.apiVersion() + " before SASL authentication completed");
        }
    }

    private void handshake(ChannelHandlerContext ctx, RequestHeader header, SaslHandshakeRequestData request) {
        SaslHandshakeResponseData response = new SaslHandshakeResponseData().setMechanisms(mechanisms.enabled());
        server = mechanisms.newServer(request.mechanism(), clusterCredentials);
        if (server == null) {
            stage = Stage.FAILED;
            respond(ctx, header, response.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code()))
                    .addListener(ChannelFutureListener.CLOSE);
            LOGGER.info("Closing connection from {}: SASL mechanism {} is not enabled (enabled: {})",
                    ctx.channel().remoteAddress(), request.mechanism(), mechanisms.enabled());
            return;
        }
        mechanism = request.mechanism();
        stage = header.apiVersion() == 0 ? Stage.RAW_TOKENS : Stage.AUTHENTICATE;
        respond(ctx, header, response.setErrorCode(Errors.NONE.code()));
    }

    private void authenticate(ChannelHandlerContext ctx, RequestHeader header, SaslAuthenticateRequestData request) {
        byte[] challenge;
        try {
            challenge = server.evaluateResponse(request.authBytes());
        } catch (SaslAuthenticationException | SaslException e) {
            String message = e instanceof SaslAuthenticationException ? e.getMessage()
                    : "Authentication failed during authentication due to invalid credentials with SASL mechanism "
                    + mechanism;
            stage = Stage.FAILED;
            LOGGER.info("Failed authentication with {} ({}{})", ctx.channel().remoteAddress(), message,
                    e instanceof SaslException ? ": " + e.getMessage() : "");
            respond(ctx, header, new SaslAuthenticateResponseData().setErrorCode(
                    Errors.SASL_AUTHENTICATION_FAILED.code()).setErrorMessage(message).setAuthBytes(new byte[0]))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        boolean complete = server.isComplete();
        long lifetimeMs = complete ? mechanisms.maxReauthMs(mechanism) : 0;
        respond(ctx, header, new SaslAuthenticateResponseData().setErrorCode(Errors.NONE.code())
                .setAuthBytes(challenge == null ? new byte[0] : challenge).setSessionLifetimeMs(lifetimeMs));
        if (complete) {
            authenticated(ctx);
        }
    }

    private void rawToken(ChannelHandlerContext ctx, ByteBuffer token) {
        byte[] in = new byte[token.remaining()];
        token.get(in);
        byte[] challenge;
        try {
            challenge = server.evaluateResponse(in);
        } catch (SaslAuthenticationException | SaslException e) {
            stage = Stage.FAILED;
            LOGGER.info("Failed authentication with {} ({})", ctx.channel().remoteAddress(), e.getMessage());
            ctx.close();
            return;
        }
        byte[] out = challenge == null ? new byte[0] : challenge;
        ctx.writeAndFlush(Unpooled.buffer(4 + out.length).writeInt(out.length).writeBytes(out));
        if (server.isComplete()) {
            authenticated(ctx);
        }
    }

    /**
     * Announces the principal, with a {@link SaslSession} when the mechanism has a session lifetime (as Kafka, also
     * for a client that cannot re-authenticate: its connection closes at its first request after the session expired).
     */
    private void authenticated(ChannelHandlerContext ctx) {
        KafkaPrincipal principal = new KafkaPrincipal(KafkaPrincipal.USER_TYPE, server.getAuthorizationID());
        dispose();
        long lifetimeMs = mechanisms.maxReauthMs(mechanism);
        SaslSession session = lifetimeMs > 0 ? new SaslSession(mechanisms, clusterCredentials, mechanism, principal,
                lifetimeMs, System.nanoTime()) : null;
        ctx.fireUserEventTriggered(new Authenticated(principal, session));
        ctx.pipeline().remove(this);
    }

    private ChannelFuture respond(ChannelHandlerContext ctx, RequestHeader header, ApiMessage body) {
        return ctx.writeAndFlush(ResponseEncoder.encode(header.apiKey(), header.apiVersion(), header.correlationId(),
                body, ctx.alloc()));
    }

    private void fail(ChannelHandlerContext ctx, String reason) {
        stage = Stage.FAILED;
        LOGGER.info("Closing connection from {}: {}", ctx.channel().remoteAddress(), reason);
        ctx.close();
    }

    private void dispose() {
        if (server != null) {
            try {
                server.dispose();
            } catch (SaslException ignored) {
                // nothing held
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        dispose();
        super.channelInactive(ctx);
    }
}
