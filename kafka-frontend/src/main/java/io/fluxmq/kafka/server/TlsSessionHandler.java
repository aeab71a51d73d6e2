package io.fluxmq.kafka.server;

import io.fluxmq.kafka.security.SslEngines;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Right after the {@link SslHandler} of a TLS listener: logs a failed or timed-out handshake in one line (the
 * {@link SslHandler} closes the connection), and on an SSL listener (not SASL_SSL, where SASL decides) announces the
 * principal of the client's certificate with an {@link Authenticated} event. Confined to the channel's event loop.
 */
final class TlsSessionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOGGER = LoggerFactory.getLogger(TlsSessionHandler.class);

    private final SslEngines engines;
    private final boolean principalFromCertificate;

    TlsSessionHandler(SslEngines engines, boolean principalFromCertificate) {
        this.engines = engines;
        this.principalFromCertificate = principalFromCertificate;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof SslHandshakeCompletionEvent done) {
            if (!done.isSuccess()) {
                LOGGER.info("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), done.cause().toString());
                ctx.close();
                return;
            }
            if (principalFromCertificate) {
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                ctx.fireUserEventTriggered(new Authenticated(engines.principal(ssl.engine().getSession())));
            }
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof SSLException) {
            LOGGER.debug("TLS error on the connection from {}: {}", ctx.channel().remoteAddress(), c.toString());
            ctx.close();
            return;
        }
        super.exceptionCaught(ctx, cause);
    }
}
