package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.Message;
import io.fluxmq.raftcore.Message.AppendRequest;
import io.fluxmq.raftcore.Message.AppendResponse;
import io.fluxmq.raftcore.Message.Heartbeat;
import io.fluxmq.raftcore.Message.HeartbeatResponse;
import io.fluxmq.raftcore.Message.TimeoutNow;
import io.fluxmq.raftcore.Message.InstallSnapshot;
import io.fluxmq.raftcore.Snapshot;
import io.fluxmq.raftcore.Message.VoteRequest;
import io.fluxmq.raftcore.Message.VoteResponse;
import io.fluxmq.raftcore.engine.GroupMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GroupMessageCodecTest {

    private static final long[] LONGS = {0, 1, -1, 63, 64, -64, -65, 127, 128, Integer.MAX_VALUE, Integer.MIN_VALUE,
            Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1, Long.MIN_VALUE + 1};
    private static final int[] INTS = {0, 1, -1, 3, Integer.MAX_VALUE, Integer.MIN_VALUE};

    private static ByteBuffer bytes(int length, int seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return ByteBuffer.wrap(data);
    }

    /** Every message type, each field at edge values, booleans in every combination. */
    private static List<GroupMessage> everyMessageType() {
        List<GroupMessage> batch = new ArrayList<>();
        for (int i = 0; i < LONGS.length; i++) {
            long a = LONGS[i];
            long b = LONGS[(i + 3) % LONGS.length];
            long c = LONGS[(i + 7) % LONGS.length];
            int from = INTS[i % INTS.length];
            int to = INTS[(i + 1) % INTS.length];
            boolean x = (i & 1) != 0;
            boolean y = (i & 2) != 0;
            batch.add(new GroupMessage(a, new VoteRequest(from, to, a, b, c, x, y)));
            batch.add(new GroupMessage(b, new VoteResponse(from, to, c, x, y)));
            batch.add(new GroupMessage(c, new AppendRequest(from, to, a, b, c, List.of(), a)));
            batch.add(new GroupMessage(a, new AppendResponse(from, to, b, x, c, a, b, c)));
            batch.add(new GroupMessage(b, new Heartbeat(from, to, a, b, y)));
            batch.add(new GroupMessage(c, new HeartbeatResponse(from, to, c)));
            batch.add(new GroupMessage(a, new TimeoutNow(from, to, b)));
        }
        List<Entry> entries = List.of(
                Entry.data(0, 1, 1, ByteBuffer.allocate(0)),
                Entry.leaderChange(1, 2),
                Entry.config(2, 2, Set.of(1, 2, 3, Integer.MAX_VALUE)),
                Entry.data(3, Integer.MAX_VALUE, 7, bytes(1000, 1)),
                // A gap and a term going down: not what a leader sends, but the codec must not care.
                Entry.data(Long.MAX_VALUE - 10, 5, Long.MAX_VALUE, bytes(3, 2)),
                Entry.data(5, 1, 1, bytes(1 << 20, 3)),
                Entry.data(Long.MAX_VALUE, 1, 1, bytes(1, 4)));
        batch.add(new GroupMessage(42, new AppendRequest(1, 2, 9, -1, 0, entries, 0)));
        batch.add(new GroupMessage(43, new AppendRequest(3, 1, Long.MAX_VALUE, Long.MAX_VALUE, Long.MIN_VALUE,
                List.of(Entry.data(100, 10, 3, bytes(7, 5))), Long.MIN_VALUE)));
        batch.add(new GroupMessage(44, new InstallSnapshot(1, 2, 9, Snapshot.NONE)));
        batch.add(new GroupMessage(Long.MIN_VALUE, new InstallSnapshot(Integer.MAX_VALUE, 3, Long.MAX_VALUE,
                new Snapshot(Long.MAX_VALUE, Long.MAX_VALUE, Set.of(1, 2, Integer.MAX_VALUE), bytes(70_000, 6)))));
        return batch;
    }

    private static ByteBuf encode(List<GroupMessage> batch) {
        ByteBuf out = Unpooled.buffer();
        GroupMessageCodec.encode(batch, out);
        return out;
    }

    @Test
    void everyMessageTypeRoundTripsWithEdgeValues() {
        List<GroupMessage> batch = everyMessageType();
        ByteBuf encoded = encode(batch);
        List<GroupMessage> decoded = GroupMessageCodec.decode(encoded);
        assertThat(decoded).isEqualTo(batch);
        assertThat(decoded).hasSize(7 * LONGS.length + 4);
        Set<Class<?>> types = new HashSet<>();
        decoded.forEach(m -> types.add(m.message().getClass()));
        assertThat(types).hasSize(Message.class.getPermittedSubclasses().length);
        assertThat(encoded.isReadable()).isFalse();
    }

    @Test
    void emptyBatchIsTheNodeHeartbeatOfOneByte() {
        ByteBuf encoded = encode(List.of());
        assertThat(encoded.readableBytes()).isEqualTo(1);
        assertThat(GroupMessageCodec.decode(encoded)).isEmpty();
    }

    @Test
    void aGroupHeartbeatIsAFewBytes() {
        ByteBuf encoded = encode(List.of(new GroupMessage(1234, new Heartbeat(1, 2, 5, 1000, true))));
        assertThat(encoded.readableBytes()).isLessThanOrEqualTo(10);
    }

    @Test
    void entryDataOutlivesTheReleasedBufferAndIsReadOnly() {
        byte[] original = bytes(5000, 9).array().clone();
        ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer();
        GroupMessageCodec.encode(List.of(new GroupMessage(1, new AppendRequest(1, 2, 3, -1, 0,
                List.of(Entry.data(0, 10, 3, ByteBuffer.wrap(original.clone()))), 0))), pooled);
        List<GroupMessage> decoded = GroupMessageCodec.decode(pooled);
        // Scribble over the buffer's memory, then give it back to the pool.
        pooled.setZero(0, pooled.capacity());
        pooled.release();
        ByteBuf reused = PooledByteBufAllocator.DEFAULT.directBuffer(pooled.capacity());
        reused.writeZero(reused.capacity());
        ByteBuffer data = ((AppendRequest) decoded.get(0).message()).entries().get(0).data();
        byte[] read = new byte[data.remaining()];
        data.duplicate().get(read);
        assertThat(read).isEqualTo(original);
        assertThat(data.isReadOnly()).isTrue();
        assertThatThrownBy(() -> data.put(0, (byte) 1)).isInstanceOf(ReadOnlyBufferException.class);
        reused.release();
    }

    @Test
    void theEntryKindsKeepTheirWireNumbers() {
        // The codec writes Entry.Kind's ordinal: reordering the enum changes the protocol (bump Hello.VERSION).
        assertThat(Entry.Kind.values()).containsExactly(Entry.Kind.DATA, Entry.Kind.LEADER_CHANGE, Entry.Kind.CONFIG);
    }

    @Test
    void everyTruncationIsRefused() {
        List<GroupMessage> batch = everyMessageType().subList(0, 40);
        List<GroupMessage> withEntries = new ArrayList<>(batch);
        withEntries.add(new GroupMessage(7, new AppendRequest(1, 2, 3, 4, 3,
                List.of(Entry.data(5, 2, 3, bytes(20, 1)), Entry.config(7, 3, Set.of(1, 2))), 5)));
        ByteBuf encoded = encode(withEntries);
        int length = encoded.readableBytes();
        for (int cut = 0; cut < length; cut++) {
            ByteBuf truncated = encoded.slice(0, cut);
            assertThatThrownBy(() -> GroupMessageCodec.decode(truncated)).as("cut at %d of %d", cut, length)
                    .isInstanceOf(CorruptFrameException.class);
        }
    }

    @Test
    void trailingBytesAreRefused() {
        ByteBuf encoded = encode(List.of(new GroupMessage(1, new TimeoutNow(1, 2, 3))));
        encoded.writeByte(0);
        assertThatThrownBy(() -> GroupMessageCodec.decode(encoded)).isInstanceOf(CorruptFrameException.class)
                .hasMessageContaining("after the last");
    }

    @Test
    void hugeCountsAndLengthsAreRefusedBeforeAnythingIsAllocated() {
        ByteBuf messages = Unpooled.buffer();
        Varints.writeInt(messages, Integer.MAX_VALUE);
        assertThatThrownBy(() -> GroupMessageCodec.decode(messages)).isInstanceOf(CorruptFrameException.class)
                .hasMessageContaining("message count");

        ByteBuf entries = appendHeader();
        Varints.writeInt(entries, Integer.MAX_VALUE - 1);
        entries.writeZero(20);
        assertThatThrownBy(() -> GroupMessageCodec.decode(entries)).isInstanceOf(CorruptFrameException.class)
                .hasMessageContaining("entry count");

        ByteBuf data = appendHeader();
        Varints.writeInt(data, 1);
        Varints.writeLong(data, 0);
        Varints.writeInt(data, 1);
        Varints.writeLong(data, 1);
        data.writeByte(0);
        Varints.writeInt(data, Integer.MAX_VALUE);
        data.writeZero(10);
        assertThatThrownBy(() -> GroupMessageCodec.decode(data)).isInstanceOf(CorruptFrameException.class)
                .hasMessageContaining("entry data length");

        ByteBuf negative = Unpooled.buffer();
        Varints.writeInt(negative, -1);
        assertThatThrownBy(() -> GroupMessageCodec.decode(negative)).isInstanceOf(CorruptFrameException.class);
    }

    /** A batch of one AppendRequest, written up to its entry count. */
    private static ByteBuf appendHeader() {
        ByteBuf out = Unpooled.buffer();
        Varints.writeInt(out, 1);
        Varints.writeLong(out, 5);
        out.writeByte(3);
        for (int i = 0; i < 6; i++) {
            Varints.writeLong(out, 1);
        }
        return out;
    }

    @Test
    void unknownTypesFlagsKindsAndImpossibleEntriesAreRefused() {
        ByteBuf type = Unpooled.buffer();
        Varints.writeInt(type, 1);
        Varints.writeLong(type, 5);
        type.writeByte(99);
        type.writeZero(5);
        assertThatThrownBy(() -> GroupMessageCodec.decode(type)).isInstanceOf(CorruptFrameException.class)
                .hasMessageContaining("unknown message type 99");

        ByteBuf flags = encode(List.of(new GroupMessage(5, new VoteResponse(1, 2, 3, true, true))));
        flags.setByte(flags.writerIndex() - 1, 0x07);
        assertThatThrownBy(() -> GroupMessageCodec.decode(flags)).isInstanceOf(CorruptFrameException.class)
                .hasMessageContaining("unknown flags");

        ByteBuf kind = entry(1, 1, 9);
        assertThatThrownBy(() -> GroupMessageCodec.decode(kind)).isInstanceOf(CorruptFrameException.class)
                .hasMessageContaining("unknown entry kind");
        ByteBuf term0 = entry(1, 0, 0);
        assertThatThrownBy(() -> GroupMessageCodec.decode(term0)).isInstanceOf(CorruptFrameException.class);
        ByteBuf count0 = entry(0, 1, 0);
        assertThatThrownBy(() -> GroupMessageCodec.decode(count0)).isInstanceOf(CorruptFrameException.class);

        ByteBuf longVarint = Unpooled.buffer();
        longVarint.writeBytes(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
                (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01});
        assertThatThrownBy(() -> GroupMessageCodec.decode(longVarint)).isInstanceOf(CorruptFrameException.class);
    }

    private static ByteBuf entry(int count, long term, int kind) {
        ByteBuf out = appendHeader();
        Varints.writeInt(out, 1);
        Varints.writeLong(out, 0);
        Varints.writeInt(out, count);
        Varints.writeLong(out, term);
        out.writeByte(kind);
        Varints.writeInt(out, 0);
        return out;
    }

    @Test
    void randomCorruptionDecodesOrIsRefusedNeverAnotherFailure() {
        ByteBuf encoded = encode(everyMessageType().subList(0, 60));
        byte[] clean = new byte[encoded.readableBytes()];
        encoded.readBytes(clean);
        Random random = new Random(20261201);
        int refused = 0;
        for (int round = 0; round < 3000; round++) {
            byte[] bytes = clean.clone();
            for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            }
            try {
                GroupMessageCodec.decode(Unpooled.wrappedBuffer(bytes));
            } catch (CorruptFrameException e) {
                refused++;
            }
        }
        assertThat(refused).as("corrupted batches refused").isPositive();
    }

    @Test
    void varintsRoundTripAtTheEdges() {
        ByteBuf out = Unpooled.buffer();
        for (long value : LONGS) {
            Varints.writeLong(out, value);
        }
        for (long value : LONGS) {
            assertThat(Varints.readLong(out)).isEqualTo(value);
        }
        Varints.writeLong(out, Long.MIN_VALUE);
        assertThat(out.readableBytes()).isEqualTo(Varints.MAX_BYTES);
        Varints.writeLong(out, Integer.MAX_VALUE + 1L);
        out.skipBytes(Varints.MAX_BYTES);
        assertThatThrownBy(() -> Varints.readInt(out)).isInstanceOf(CorruptFrameException.class);
    }
}
