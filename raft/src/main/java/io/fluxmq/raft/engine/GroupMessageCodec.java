package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.Message;
import io.fluxmq.raftcore.Message.AppendRequest;
import io.fluxmq.raftcore.Message.AppendResponse;
import io.fluxmq.raftcore.Message.Heartbeat;
import io.fluxmq.raftcore.Message.HeartbeatResponse;
import io.fluxmq.raftcore.Message.InstallSnapshot;
import io.fluxmq.raftcore.Snapshot;
import io.fluxmq.raftcore.Message.TimeoutNow;
import io.fluxmq.raftcore.Message.VoteRequest;
import io.fluxmq.raftcore.Message.VoteResponse;
import io.fluxmq.raftcore.engine.GroupMessage;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary form of a batch of {@link GroupMessage}s, the body of a batch frame ({@link Frames}).
 *
 * <p>Format (every integer a zigzag varint, {@link Varints}, unless said otherwise):
 * <pre>
 * batch   = count message*
 * message = groupId type:byte body
 *   1 VoteRequest       from to term lastTerm endOffset flags:byte (1 preVote, 2 transfer)
 *   2 VoteResponse      from to term flags:byte (1 granted, 2 preVote)
 *   3 AppendRequest     from to term prevLastOffset prevTerm commitOffset entryCount entry*
 *   4 AppendResponse    from to term flags:byte (1 success) matchEnd rejectedPrev hintTerm hintEnd
 *   5 Heartbeat         from to term commitOffset flags:byte (1 quiesce)
 *   6 HeartbeatResponse from to term
 *   7 TimeoutNow        from to term
 *   8 InstallSnapshot   from to term offset snapshotTerm voterCount voter* length data:byte[length]
 * entry   = baseDelta count termDelta kind:byte (Entry.Kind ordinal) length data:byte[length]
 * </pre>
 * An entry's base offset is written as its distance from the previous entry's end (0 in a contiguous append) and its
 * term as its distance from the previous entry's term, both from 0 for the first entry, so a run of entries of one
 * term costs a few bytes of header each. A heartbeat of a group is about 10 bytes.
 *
 * <p>Decoding checks every count and length against the bytes left in the frame before allocating anything, so a
 * corrupt or hostile frame fails with {@link CorruptFrameException}, never with an out-of-memory error. Entry data is
 * copied out of the frame into an array of its own: the frame's buffer is released as soon as it is decoded, while
 * an entry lives on in the group's log (a view into one array per frame would keep the whole frame alive as long as
 * any of its entries is in a log). That is the only copy on the receiving side.
 *
 * <p>Stateless and thread-safe.
 */
public final class GroupMessageCodec {

    private static final int VOTE_REQUEST = 1;
    private static final int VOTE_RESPONSE = 2;
    private static final int APPEND_REQUEST = 3;
    private static final int APPEND_RESPONSE = 4;
    private static final int HEARTBEAT = 5;
    private static final int HEARTBEAT_RESPONSE = 6;
    private static final int TIMEOUT_NOW = 7;
    private static final int INSTALL_SNAPSHOT = 8;
    /** groupId, type, from, to, term and up to five more integers and a flags byte, at their longest. */
    private static final int MESSAGE_HEADER_BOUND = 12 * Varints.MAX_BYTES;
    /** An entry's fixed fields at their longest. */
    private static final int ENTRY_HEADER_BOUND = 5 * Varints.MAX_BYTES;
    /** The fewest bytes a message takes (groupId, type, from, to, term of one byte each). */
    private static final int MIN_MESSAGE_BYTES = 5;
    /** The fewest bytes an entry takes. */
    private static final int MIN_ENTRY_BYTES = 5;
    private static final Entry.Kind[] KINDS = Entry.Kind.values();

    private GroupMessageCodec() {
    }

    /** Writes the batch (count and messages). */
    public static void encode(List<GroupMessage> batch, ByteBuf out) {
        encode(batch, 0, batch.size(), out);
    }

    /** Writes messages {@code [from, to)} of the batch as a batch of their own. */
    static void encode(List<GroupMessage> batch, int from, int to, ByteBuf out) {
        Varints.writeInt(out, to - from);
        for (int i = from; i < to; i++) {
            writeMessage(batch.get(i), out);
        }
    }

    /** At least the bytes {@link #encode} writes for the message (used to split batches under the frame limit). */
    static int sizeBound(GroupMessage message) {
        if (message.message() instanceof AppendRequest append) {
            long bound = MESSAGE_HEADER_BOUND;
            for (Entry entry : append.entries()) {
                bound += ENTRY_HEADER_BOUND + entry.sizeInBytes();
            }
            return (int) Math.min(Integer.MAX_VALUE, bound);
        }
        if (message.message() instanceof InstallSnapshot install) {
            long bound = MESSAGE_HEADER_BOUND + (long) (install.snapshot().voters().size() + 1) * Varints.MAX_BYTES
                    + install.snapshot().data().remaining();
            return (int) Math.min(Integer.MAX_VALUE, bound);
        }
        return MESSAGE_HEADER_BOUND;
    }

    private static void writeMessage(GroupMessage groupMessage, ByteBuf out) {
        Message message = groupMessage.message();
        Varints.writeLong(out, groupMessage.groupId());
        if (message instanceof VoteRequest m) {
            writeHeader(out, VOTE_REQUEST, m);
            Varints.writeLong(out, m.lastTerm());
            Varints.writeLong(out, m.endOffset());
            out.writeByte((m.preVote() ? 1 : 0) | (m.transfer() ? 2 : 0));
        } else if (message instanceof VoteResponse m) {
            writeHeader(out, VOTE_RESPONSE, m);
            out.writeByte((m.granted() ? 1 : 0) | (m.preVote() ? 2 : 0));
        } else if (message instanceof AppendRequest m) {
            writeHeader(out, APPEND_REQUEST, m);
            Varints.writeLong(out, m.prevLastOffset());
            Varints.writeLong(out, m.prevTerm());
            Varints.writeLong(out, m.commitOffset());
            writeEntries(m.entries(), out);
        } else if (message instanceof AppendResponse m) {
            writeHeader(out, APPEND_RESPONSE, m);
            out.writeByte(m.success() ? 1 : 0);
            Varints.writeLong(out, m.matchEnd());
            Varints.writeLong(out, m.rejectedPrev());
            Varints.writeLong(out, m.hintTerm());
            Varints.writeLong(out, m.hintEnd());
        } else if (message instanceof Heartbeat m) {
            writeHeader(out, HEARTBEAT, m);
            Varints.writeLong(out, m.commitOffset());
            out.writeByte(m.quiesce() ? 1 : 0);
        } else if (message instanceof HeartbeatResponse m) {
            writeHeader(out, HEARTBEAT_RESPONSE, m);
        } else if (message instanceof TimeoutNow m) {
            writeHeader(out, TIMEOUT_NOW, m);
        } else if (message instanceof InstallSnapshot m) {
            writeHeader(out, INSTALL_SNAPSHOT, m);
            Snapshot snapshot = m.snapshot();
            Varints.writeLong(out, snapshot.offset());
            Varints.writeLong(out, snapshot.term());
            Varints.writeInt(out, snapshot.voters().size());
            for (int voter : snapshot.voters()) {
                Varints.writeInt(out, voter);
            }
            Varints.writeInt(out, snapshot.data().remaining());
            out.writeBytes(snapshot.data().duplicate());
        } else {
            throw new IllegalArgumentException("no wire form for " + message);
        }
    }

    private static void writeHeader(ByteBuf out, int type, Message message) {
        out.writeByte(type);
        Varints.writeInt(out, message.from());
        Varints.writeInt(out, message.to());
        Varints.writeLong(out, message.term());
    }

    private static void writeEntries(List<Entry> entries, ByteBuf out) {
        Varints.writeInt(out, entries.size());
        long previousEnd = 0;
        long previousTerm = 0;
        for (Entry entry : entries) {
            // Differences wrap around like the sums that undo them, so every long survives the trip.
            Varints.writeLong(out, entry.baseOffset() - previousEnd);
            Varints.writeInt(out, entry.count());
            Varints.writeLong(out, entry.term() - previousTerm);
            out.writeByte(entry.kind().ordinal());
            Varints.writeInt(out, entry.sizeInBytes());
            // duplicate(): the entry's buffer is shared with the log and other sends; its position must not move.
            out.writeBytes(entry.data().duplicate());
            previousEnd = entry.endOffset();
            previousTerm = entry.term();
        }
    }

    /**
     * Reads a whole batch; the buffer must hold exactly one batch (trailing bytes are refused). The buffer is not
     * released, and nothing decoded refers to it.
     */
    public static List<GroupMessage> decode(ByteBuf in) {
        try {
            int count = Varints.readCount(in, in.readableBytes() / MIN_MESSAGE_BYTES, "message count");
            List<GroupMessage> batch = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                long groupId = Varints.readLong(in);
                batch.add(new GroupMessage(groupId, readMessage(in)));
            }
            if (in.isReadable()) {
                throw new CorruptFrameException(in.readableBytes() + " bytes after the last of " + count
                        + " messages");
            }
            return batch;
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            // Fixed-size reads past the end, and values Entry refuses (a negative offset, a term of 0).
            throw new CorruptFrameException("batch does not decode: " + e.getMessage(), e);
        }
    }

    private static Message readMessage(ByteBuf in) {
        int type = in.readByte();
        int from = Varints.readInt(in);
        int to = Varints.readInt(in);
        long term = Varints.readLong(in);
        switch (type) {
            case VOTE_REQUEST: {
                long lastTerm = Varints.readLong(in);
                long endOffset = Varints.readLong(in);
                int flags = readFlags(in, 3);
                return new VoteRequest(from, to, term, lastTerm, endOffset, (flags & 1) != 0, (flags & 2) != 0);
            }
            case VOTE_RESPONSE: {
                int flags = readFlags(in, 3);
                return new VoteResponse(from, to, term, (flags & 1) != 0, (flags & 2) != 0);
            }
            case APPEND_REQUEST: {
                long prevLastOffset = Varints.readLong(in);
                long prevTerm = Varints.readLong(in);
                long commitOffset = Varints.readLong(in);
                return new AppendRequest(from, to, term, prevLastOffset, prevTerm, readEntries(in), commitOffset);
            }
            case APPEND_RESPONSE: {
                boolean success = readFlags(in, 1) != 0;
                return new AppendResponse(from, to, term, success, Varints.readLong(in), Varints.readLong(in),
                        Varints.readLong(in), Varints.readLong(in));
            }
            case HEARTBEAT: {
                long commitOffset = Varints.readLong(in);
                return new Heartbeat(from, to, term, commitOffset, readFlags(in, 1) != 0);
            }
            case HEARTBEAT_RESPONSE:
                return new HeartbeatResponse(from, to, term);
            case TIMEOUT_NOW:
                return new TimeoutNow(from, to, term);
            case INSTALL_SNAPSHOT: {
                long offset = Varints.readLong(in);
                long snapshotTerm = Varints.readLong(in);
                int voterCount = Varints.readCount(in, in.readableBytes(), "voter count");
                java.util.Set<Integer> voters = new java.util.TreeSet<>();
                for (int i = 0; i < voterCount; i++) {
                    voters.add(Varints.readInt(in));
                }
                int length = Varints.readCount(in, in.readableBytes(), "snapshot data length");
                byte[] data = new byte[length];
                in.readBytes(data);
                return new InstallSnapshot(from, to, term, new Snapshot(offset, snapshotTerm, voters,
                        ByteBuffer.wrap(data)));
            }
            default:
                throw new CorruptFrameException("unknown message type " + type);
        }
    }

    private static int readFlags(ByteBuf in, int known) {
        int flags = in.readUnsignedByte();
        if ((flags & ~known) != 0) {
            throw new CorruptFrameException("unknown flags " + Integer.toBinaryString(flags));
        }
        return flags;
    }

    private static List<Entry> readEntries(ByteBuf in) {
        int count = Varints.readCount(in, in.readableBytes() / MIN_ENTRY_BYTES, "entry count");
        List<Entry> entries = new ArrayList<>(count);
        long previousEnd = 0;
        long previousTerm = 0;
        for (int i = 0; i < count; i++) {
            long baseOffset = previousEnd + Varints.readLong(in);
            int offsets = Varints.readInt(in);
            long term = previousTerm + Varints.readLong(in);
            int kind = in.readUnsignedByte();
            if (kind >= KINDS.length) {
                throw new CorruptFrameException("unknown entry kind " + kind);
            }
            int length = Varints.readCount(in, in.readableBytes(), "entry data length");
            byte[] data = new byte[length];
            in.readBytes(data);
            Entry entry = new Entry(baseOffset, offsets, term, KINDS[kind], ByteBuffer.wrap(data).asReadOnlyBuffer());
            entries.add(entry);
            previousEnd = entry.endOffset();
            previousTerm = term;
        }
        return List.copyOf(entries);
    }
}
