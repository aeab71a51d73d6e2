package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.Message.AppendRequest;
import io.fluxmq.raftcore.Message.Heartbeat;
import io.fluxmq.raftcore.engine.GroupMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FramesTest {

    private static final int MAX_FRAME = 4096;

    /** Cuts {@code bytes} into frames with the transport's decoder; returns each frame's body after the type byte. */
    private static List<ByteBuf> frames(ByteBuf bytes, byte type) {
        EmbeddedChannel channel = new EmbeddedChannel(Frames.decoder(MAX_FRAME));
        channel.writeInbound(bytes);
        List<ByteBuf> frames = new ArrayList<>();
        ByteBuf frame;
        while ((frame = channel.readInbound()) != null) {
            assertThat(frame.readableBytes()).isLessThanOrEqualTo(MAX_FRAME);
            assertThat(frame.readByte()).isEqualTo(type);
            frames.add(frame);
        }
        return frames;
    }

    @Test
    void aBatchTooLargeForOneFrameIsSplitInOrder() {
        List<GroupMessage> batch = new ArrayList<>();
        for (int group = 0; group < 200; group++) {
            batch.add(new GroupMessage(group, new Heartbeat(1, 2, 3, group, false)));
            if (group % 10 == 0) {
                batch.add(new GroupMessage(group, new AppendRequest(1, 2, 3, -1, 0,
                        List.of(Entry.data(0, 1, 3, ByteBuffer.allocate(700))), 0)));
            }
        }
        ByteBuf out = Unpooled.buffer();
        assertThat(Frames.writeBatch(out, batch, MAX_FRAME)).isZero();
        List<ByteBuf> frames = frames(out, Frames.BATCH);
        assertThat(frames.size()).isGreaterThan(2);
        List<GroupMessage> decoded = new ArrayList<>();
        frames.forEach(frame -> decoded.addAll(GroupMessageCodec.decode(frame)));
        assertThat(decoded).isEqualTo(batch);
    }

    @Test
    void aMessageLargerThanAFrameIsLeftOutAndTheRestSent() {
        GroupMessage huge = new GroupMessage(1, new AppendRequest(1, 2, 3, -1, 0,
                List.of(Entry.data(0, 1, 3, ByteBuffer.allocate(MAX_FRAME))), 0));
        GroupMessage small = new GroupMessage(2, new Heartbeat(1, 2, 3, 0, false));
        ByteBuf out = Unpooled.buffer();
        assertThat(Frames.writeBatch(out, List.of(small, huge, small), MAX_FRAME)).isEqualTo(1);
        List<GroupMessage> decoded = new ArrayList<>();
        frames(out, Frames.BATCH).forEach(frame -> decoded.addAll(GroupMessageCodec.decode(frame)));
        assertThat(decoded).containsExactly(small, small);
    }

    @Test
    void anEmptyBatchIsOneSmallFrame() {
        ByteBuf out = Unpooled.buffer();
        Frames.writeBatch(out, List.of(), MAX_FRAME);
        assertThat(out.readableBytes()).isEqualTo(6);
        List<ByteBuf> frames = frames(out, Frames.BATCH);
        assertThat(frames).hasSize(1);
        assertThat(GroupMessageCodec.decode(frames.get(0))).isEmpty();
    }

    @Test
    void anOversizedFrameIsRefusedByTheDecoder() {
        EmbeddedChannel channel = new EmbeddedChannel(Frames.decoder(MAX_FRAME));
        ByteBuf bytes = Unpooled.buffer();
        bytes.writeInt(MAX_FRAME + 1);
        bytes.writeByte(Frames.BATCH);
        assertThatThrownBy(() -> channel.writeInbound(bytes)).isInstanceOf(TooLongFrameException.class);
    }

    @Test
    void helloRoundTripsAndMismatchesSayWhy() {
        Hello hello = new Hello(Hello.VERSION, "cluster-é", 3, Long.MIN_VALUE, 1);
        ByteBuf out = Unpooled.buffer();
        Frames.writeHello(out, Frames.HELLO, hello);
        List<ByteBuf> frames = frames(out, Frames.HELLO);
        assertThat(Hello.readFrom(frames.get(0))).isEqualTo(hello);

        assertThat(hello.mismatch("cluster-é", 1, 3)).isNull();
        assertThat(hello.mismatch("cluster-é", 1, -1)).isNull();
        assertThat(hello.mismatch("other", 1, -1)).contains("cluster id 'cluster-é' is not this node's 'other'");
        assertThat(hello.mismatch("cluster-é", 2, -1)).contains("expected node 1 and reached node 2");
        assertThat(hello.mismatch("cluster-é", 1, 4)).contains("it is node 3, not node 4");
        assertThat(new Hello(2, "cluster-é", 3, 0, 1).mismatch("cluster-é", 1, -1))
                .contains("protocol version 2, this node speaks 1");
        assertThat(new Hello(Hello.VERSION, "c", 1, 0, 1).mismatch("c", 1, -1)).contains("own id");
    }

    @Test
    void aHandshakeThatIsNotOursIsRefused() {
        ByteBuf http = Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n".getBytes());
        assertThatThrownBy(() -> Hello.readFrom(http)).isInstanceOf(CorruptFrameException.class)
                .hasMessageContaining("not a FluxMQ Raft peer");
        ByteBuf truncated = Unpooled.buffer();
        new Hello(Hello.VERSION, "c", 1, 2, 3).writeTo(truncated);
        ByteBuf cut = truncated.slice(0, truncated.readableBytes() - 1);
        assertThatThrownBy(() -> Hello.readFrom(cut)).isInstanceOf(CorruptFrameException.class);
        assertThatThrownBy(() -> new Hello(Hello.VERSION, "x".repeat(256), 1, 2, 3).writeTo(Unpooled.buffer()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
