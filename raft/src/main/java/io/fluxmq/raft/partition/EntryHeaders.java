package io.fluxmq.raft.partition;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The log data of a partition Raft entry that carries record batches: the {@link EntryHeader} of each batch, in offset
 * order. The entry's state-machine data is the batches themselves, back to back, contiguous in offsets.
 *
 * <p>One batch is written as a single {@link EntryHeader} (version 3, as before coalescing existed). Several batches,
 * coalesced by the leader into one entry ({@link PartitionReplica}), are written as version 4 (big endian):
 * {@code version:int8 (=4) | count:int32 | count × (the fields of an EntryHeader v3 without its version byte)}.
 * Versions 1 and 3 (single headers) and 4 parse; version 2 is a {@link LogStartEntry}. Immutable.
 */
record EntryHeaders(List<EntryHeader> headers) {
    static final byte VERSION_MANY = 4;
    private static final int FIELDS = EntryHeader.SIZE - 1;

    EntryHeaders {
        if (headers.isEmpty()) {
            throw new IllegalArgumentException("an entry carries at least one batch");
        }
        headers = List.copyOf(headers);
    }

    long baseOffset() {
        return headers.get(0).baseOffset();
    }

    long nextOffset() {
        return headers.get(headers.size() - 1).nextOffset();
    }

    /** Bytes of all batches together: the size of the entry's state-machine data. */
    int batchBytes() {
        int bytes = 0;
        for (EntryHeader h : headers) {
            bytes += h.batchBytes();
        }
        return bytes;
    }

    ByteBuffer toBuffer() {
        if (headers.size() == 1) {
            return headers.get(0).toBuffer();
        }
        ByteBuffer buffer = ByteBuffer.allocate(encodedSize(headers.size()));
        buffer.put(VERSION_MANY).putInt(headers.size());
        for (EntryHeader h : headers) {
            buffer.put(h.toBuffer().position(1));
        }
        return buffer.flip();
    }

    static int encodedSize(int count) {
        return count == 1 ? EntryHeader.SIZE : 1 + 4 + count * FIELDS;
    }

    /** The length of the headers at the start of {@code message} (a leader's proposal: headers, then batches). */
    static int encodedLength(ByteBuffer message) {
        if (message.remaining() > 0 && message.get(message.position()) == VERSION_MANY) {
            if (message.remaining() < 5) {
                throw new IllegalArgumentException("entry headers v4 need at least 5 bytes, got " + message.remaining());
            }
            return encodedSize(message.getInt(message.position() + 1));
        }
        return EntryHeader.SIZE;
    }

    static EntryHeaders parse(ByteBuffer buffer) {
        if (buffer.remaining() == 0 || buffer.get(buffer.position()) != VERSION_MANY) {
            return new EntryHeaders(List.of(EntryHeader.parse(buffer)));
        }
        buffer.get();
        if (buffer.remaining() < 4) {
            throw new IllegalArgumentException("entry headers v4 lack their count");
        }
        int count = buffer.getInt();
        if (count < 1 || (long) count * FIELDS > buffer.remaining()) {
            throw new IllegalArgumentException("entry headers v4 announce " + count + " headers in "
                    + buffer.remaining() + " bytes");
        }
        EntryHeader[] parsed = new EntryHeader[count];
        ByteBuffer one = ByteBuffer.allocate(EntryHeader.SIZE);
        for (int i = 0; i < count; i++) {
            one.clear();
            one.put(EntryHeader.VERSION).put(buffer.slice(buffer.position(), FIELDS)).flip();
            buffer.position(buffer.position() + FIELDS);
            parsed[i] = EntryHeader.parse(one);
        }
        return new EntryHeaders(List.of(parsed));
    }
}
