package io.fluxmq.raft.engine;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The handshake, both ways: the dialing node sends one in a {@code HELLO} frame, the accepting node answers with its
 * own in a {@code WELCOME} frame (or a {@code REFUSE} frame with the reason). Layout, fixed across protocol versions so
 * that a version mismatch can be told apart from garbage and reported:
 * <pre>
 * magic:int32 ('FLXR') version:int16 clusterIdLength:byte clusterId:utf8 node:int32 incarnation:int64 peer:int32
 * </pre>
 *
 * @param version     the sender's protocol version ({@link #VERSION})
 * @param clusterId   the cluster the sender belongs to; nodes of different clusters refuse each other
 * @param node        the sender's node id
 * @param incarnation a random number the sender's transport chose when it started: a new one means the node restarted
 * @param peer        the node the sender believes it is talking to (a misrouted address is refused)
 */
record Hello(int version, String clusterId, int node, long incarnation, int peer) {

    static final int MAGIC = 0x464C5852;
    static final int VERSION = 1;
    static final int MAX_CLUSTER_ID_BYTES = 255;

    static void checkClusterId(String clusterId) {
        if (clusterId.isEmpty() || clusterId.getBytes(StandardCharsets.UTF_8).length > MAX_CLUSTER_ID_BYTES) {
            throw new IllegalArgumentException("cluster id must be 1 to " + MAX_CLUSTER_ID_BYTES + " UTF-8 bytes: '"
                    + clusterId + "'");
        }
    }

    void writeTo(ByteBuf out) {
        checkClusterId(clusterId);
        byte[] cluster = clusterId.getBytes(StandardCharsets.UTF_8);
        out.writeInt(MAGIC);
        out.writeShort(version);
        out.writeByte(cluster.length);
        out.writeBytes(cluster);
        out.writeInt(node);
        out.writeLong(incarnation);
        out.writeInt(peer);
    }

    /** Reads a handshake; {@link CorruptFrameException} if it is not one (wrong magic, truncated, trailing bytes). */
    static Hello readFrom(ByteBuf in) {
        try {
            int magic = in.readInt();
            if (magic != MAGIC) {
                throw new CorruptFrameException(String.format("not a FluxMQ Raft peer (magic 0x%08x)", magic));
            }
            int version = in.readUnsignedShort();
            byte[] cluster = new byte[in.readUnsignedByte()];
            in.readBytes(cluster);
            Hello hello = new Hello(version, new String(cluster, StandardCharsets.UTF_8), in.readInt(), in.readLong(),
                    in.readInt());
            if (in.isReadable()) {
                throw new CorruptFrameException(in.readableBytes() + " bytes after the handshake");
            }
            return hello;
        } catch (IndexOutOfBoundsException e) {
            throw new CorruptFrameException("truncated handshake", e);
        }
    }

    /**
     * Why a node that is {@code self} in {@code clusterId} must not talk to the sender of this handshake, or null if
     * it may.
     */
    String mismatch(String expectedClusterId, int self, int expectedNode) {
        if (version != VERSION) {
            return "protocol version " + version + ", this node speaks " + VERSION;
        }
        if (!clusterId.equals(expectedClusterId)) {
            return "cluster id '" + clusterId + "' is not this node's '" + expectedClusterId + "'";
        }
        if (peer != self) {
            return "it expected node " + peer + " and reached node " + self;
        }
        if (expectedNode >= 0 && node != expectedNode) {
            return "it is node " + node + ", not node " + expectedNode;
        }
        if (node == self) {
            return "it has this node's own id " + self;
        }
        return null;
    }
}
