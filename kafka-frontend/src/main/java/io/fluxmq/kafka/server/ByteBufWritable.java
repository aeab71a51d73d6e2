package io.fluxmq.kafka.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.Writable;
import org.apache.kafka.common.record.BaseRecords;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * A {@link Writable} that builds a Netty buffer for one response without copying large record sets: fields go into a
 * pooled direct buffer, and every {@link MemoryRecords} of at least {@link #ZERO_COPY_MIN_BYTES} becomes a component
 * of its own that wraps the records' buffer (for Fetch, a read-only view of a memory-mapped segment), so the socket
 * write reads the page cache directly. Smaller record sets are copied: a component costs more than their bytes.
 *
 * <p>The wrapped buffers must stay valid until the response is written: segment maps are never unmapped explicitly
 * (a map lives while any view of it is reachable) and committed bytes are never rewritten, so a view handed out stays
 * readable even after retention deletes its file. Not thread-safe; one instance per response.
 */
final class ByteBufWritable implements Writable {
    static final int ZERO_COPY_MIN_BYTES = 1024;

    private final ByteBufAllocator alloc;
    private final ByteBuf fields;
    private CompositeByteBuf composite;
    /** Start in {@link #fields} of the bytes not yet added to {@link #composite}. */
    private int pending;

    /** @param fieldBytes expected bytes outside zero-copy record sets (the buffer grows if more are written) */
    ByteBufWritable(ByteBufAllocator alloc, int fieldBytes) {
        this.alloc = alloc;
        this.fields = alloc.directBuffer(fieldBytes);
    }

    /** The whole response; the caller owns (and must release or write) it. Call once, after the last write. */
    ByteBuf finish() {
        if (composite == null) {
            return fields;
        }
        addPendingFields();
        fields.release();
        return composite;
    }

    /** Releases what was written, for a response that will not be sent. */
    void discard() {
        fields.release();
        if (composite != null) {
            composite.release();
        }
    }

    @Override
    public void writeRecords(BaseRecords records) {
        if (records instanceof MemoryRecords memory && memory.sizeInBytes() >= ZERO_COPY_MIN_BYTES) {
            if (composite == null) {
                composite = alloc.compositeDirectBuffer(Integer.MAX_VALUE);
            }
            addPendingFields();
            composite.addComponent(true, Unpooled.wrappedBuffer(memory.buffer()));
        } else {
            Writable.super.writeRecords(records);
        }
    }

    private void addPendingFields() {
        int end = fields.writerIndex();
        if (end > pending) {
            composite.addComponent(true, fields.retainedSlice(pending, end - pending));
            pending = end;
        }
    }

    @Override
    public void writeByte(byte val) {
        fields.writeByte(val);
    }

    @Override
    public void writeShort(short val) {
        fields.writeShort(val);
    }

    @Override
    public void writeInt(int val) {
        fields.writeInt(val);
    }

    @Override
    public void writeLong(long val) {
        fields.writeLong(val);
    }

    @Override
    public void writeDouble(double val) {
        fields.writeDouble(val);
    }

    @Override
    public void writeByteArray(byte[] arr) {
        fields.writeBytes(arr);
    }

    @Override
    public void writeByteBuffer(ByteBuffer buf) {
        fields.writeBytes(buf.duplicate());
    }

    @Override
    public void writeUnsignedVarint(int i) {
        int v = i;
        while ((v & ~0x7F) != 0) {
            fields.writeByte((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        fields.writeByte(v);
    }

    @Override
    public void writeVarint(int i) {
        writeUnsignedVarint((i << 1) ^ (i >> 31));
    }

    @Override
    public void writeVarlong(long i) {
        long v = (i << 1) ^ (i >> 63);
        while ((v & ~0x7FL) != 0) {
            fields.writeByte(((int) v & 0x7F) | 0x80);
            v >>>= 7;
        }
        fields.writeByte((int) v);
    }
}
