package io.fluxmq.raft.partition;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The log data of a partition Raft entry that carries record batches: the {@link EntryHeader} of each batch, in offset
 * order. The entry's state-machine data is the batches themselves, back to back, contiguous in offsets.
 *
 * <p>One batch is written as a single {@link EntryHeader} (version 3, as before coalescing existed). Several batches,
 * coalesced by the leader into one entry ({@link PartitionReplica}), are written as version 4 (big endian):
 * {@code version:int8 (=4) | count:int32 | count × (the fields of an EntryHeader v3 without its version byte)}, or,
 * when one of them is transactional or a transaction marker, as version 6: {@code version:int8 (=6) | count:int32 |
 * count × (the fields of an EntryHeader v5 without its version byte)}. Versions 1, 3 and 5 (single headers), 4 and 6
 * parse; version 2 is a {@link LogStartEntry}. Immutable.
 */
record EntryHeaders(List<EntryHeader> headers) {
    static final byte VERSION_MANY = 4;
    static final byte VERSION_MANY_TXN = 6;
    private static final int FIELDS = EntryHeader.SIZE - 1;
    private static final int FIELDS_TXN = EntryHeader.SIZE_V5 - 1;

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
        boolean txn = anyTxn();
        ByteBuffer buffer = ByteBuffer.allocate(encodedSize(headers.size(), txn));
        buffer.put(txn ? VERSION_MANY_TXN : VERSION_MANY).putInt(headers.size());
        for (EntryHeader h : headers) {
            ByteBuffer one = h.toBuffer().position(1);
            buffer.put(one);
            if (txn && h.txn() == EntryHeader.TXN_NONE) {
                buffer.put(EntryHeader.TXN_NONE);
            }
        }
        return buffer.flip();
    }

    private boolean anyTxn() {
        for (EntryHeader h : headers) {
            if (h.txn() != EntryHeader.TXN_NONE) {
                return true;
            }
        }
        return false;
    }

    static int encodedSize(int count) {
        return encodedSize(count, false);
    }

    private static int encodedSize(int count, boolean txn) {
        return count == 1 ? (txn ? EntryHeader.SIZE_V5 : EntryHeader.SIZE)
                : 1 + 4 + count * (txn ? FIELDS_TXN : FIELDS);
    }

    /** The length of the headers at the start of {@code message} (a leader's proposal: headers, then batches). */
    static int encodedLength(ByteBuffer message) {
        byte version = message.remaining() > 0 ? message.get(message.position()) : 0;
        if (version == VERSION_MANY || version == VERSION_MANY_TXN) {
            if (message.remaining() < 5) {
                throw new IllegalArgumentException("entry headers v" + version + " need at least 5 bytes, got "
                        + message.remaining());
            }
            return encodedSize(message.getInt(message.position() + 1), version == VERSION_MANY_TXN);
        }
        return version == EntryHeader.VERSION_TXN ? EntryHeader.SIZE_V5 : EntryHeader.SIZE;
    }

    static EntryHeaders parse(ByteBuffer buffer) {
        byte version = buffer.remaining() == 0 ? 0 : buffer.get(buffer.position());
        if (version != VERSION_MANY && version != VERSION_MANY_TXN) {
            return new EntryHeaders(List.of(EntryHeader.parse(buffer)));
        }
        buffer.get();
        if (buffer.remaining() < 4) {
            throw new IllegalArgumentException("entry headers v" + version + " lack their count");
        }
        int fields = version == VERSION_MANY_TXN ? FIELDS_TXN : FIELDS;
        int count = buffer.getInt();
        if (count < 1 || (long) count * fields > buffer.remaining()) {
            throw new IllegalArgumentException("entry headers v" + version + " announce " + count + " headers in "
                    + buffer.remaining() + " bytes");
        }
        EntryHeader[] parsed = new EntryHeader[count];
        ByteBuffer one = ByteBuffer.allocate(fields + 1);
        byte single = version == VERSION_MANY_TXN ? EntryHeader.VERSION_TXN : EntryHeader.VERSION;
        for (int i = 0; i < count; i++) {
            one.clear();
            one.put(single).put(buffer.slice(buffer.position(), fields)).flip();
            buffer.position(buffer.position() + fields);
            parsed[i] = EntryHeader.parse(one);
        }
        return new EntryHeaders(List.of(parsed));
    }
}
