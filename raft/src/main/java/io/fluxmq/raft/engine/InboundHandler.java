package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.engine.GroupMessage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection a peer dialed to this node: first its {@link Hello}, checked and answered (or refused with the reason,
 * logged here and sent to the peer to log there), then its batches, decoded and handed to the receiver on this Netty
 * thread. A frame that does not decode, or is too large ({@link Frames#decoder}), closes this connection only.
 */
final class InboundHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOGGER = LoggerFactory.getLogger(InboundHandler.class);

    private final NettyTransport transport;
    /** The peer once its handshake was accepted, else -1. */
    private int peer = -1;

    InboundHandler(NettyTransport transport) {
        this.transport = transport;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            long bytes = frame.readableBytes() + 4L;
            byte type = frame.readByte();
            if (peer >= 0 && type == Frames.BATCH) {
                List<GroupMessage> batch = GroupMessageCodec.decode(frame);
                transport.counters().received(batch.size(), bytes);
                transport.receiver().receive(peer, batch);
            } else if (peer < 0 && type == Frames.HELLO) {
                transport.counters().bytesReceived(bytes);
                accept(ctx, Hello.readFrom(frame));
            } else {
                throw new CorruptFrameException("unexpected frame of type " + type
                        + (peer < 0 ? " before the handshake" : " after the handshake"));
            }
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

    private void accept(ChannelHandlerContext ctx, Hello hello) {
        NettyTransportConfig config = transport.config();
        String mismatch = hello.mismatch(config.clusterId(), config.nodeId(), -1);
        if (mismatch != null) {
            transport.counters().refused();
            LOGGER.warn("Refused Raft connection from node {} at {}: {}", hello.node(), ctx.channel().remoteAddress(),
                    mismatch);
            ByteBuf refuse = ctx.alloc().ioBuffer();
            Frames.writeRefuse(refuse, mismatch);
            ctx.writeAndFlush(refuse).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        peer = hello.node();
        transport.sawIncarnation(peer, hello.incarnation());
        transport.inboundOpened(peer, ctx.channel());
        ByteBuf welcome = ctx.alloc().ioBuffer(64);
        Frames.writeHello(welcome, Frames.WELCOME, transport.hello(peer));
        transport.counters().bytesSent(welcome.readableBytes());
        ctx.writeAndFlush(welcome, ctx.voidPromise());
        LOGGER.info("Raft connection from node {} at {} accepted by node {} (its incarnation {})", peer,
                ctx.channel().remoteAddress(), config.nodeId(), hello.incarnation());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (io.fluxmq.raft.tls.TlsFailures.isTls(cause)) {
            ctx.close(); // a failed handshake, reported by the transport
            return;
        }
        Throwable problem = cause.getCause() instanceof CorruptFrameException ? cause.getCause() : cause;
        if (problem instanceof CorruptFrameException || problem instanceof DecoderException) {
            // Ours, or the frame decoder's: too long, negative length.
            transport.counters().corrupt();
            LOGGER.warn("Closing Raft connection from {} at {}: {}", peer < 0 ? "an unknown peer" : "node " + peer,
                    ctx.channel().remoteAddress(), problem.getMessage());
        } else {
            LOGGER.warn("Closing Raft connection from {} at {}", peer < 0 ? "an unknown peer" : "node " + peer,
                    ctx.channel().remoteAddress(), problem);
        }
        ctx.close();
    }
}
