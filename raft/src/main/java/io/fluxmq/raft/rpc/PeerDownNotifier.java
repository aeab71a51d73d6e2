package io.fluxmq.raft.rpc;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.protocol.TermIndex;

/**
 * Tells when a Raft peer's process is gone, long before an election timeout would: the transport sees the peer's
 * connection to this node close and then finds the peer's Raft port refusing connections (a killed or stopped
 * process; the kernel closed its sockets). A peer that is frozen or cut off gives no such sign; Raft's own timeouts
 * cover it.
 */
public interface PeerDownNotifier {
    /** Registers a listener; it runs on a transport thread and must not block for long. */
    void onPeerDown(Consumer<RaftPeerId> listener);

    /**
     * Whether {@code peer} was found gone and has not come back since: it sent this node a Raft request on a new
     * connection (before any group here takes it for its leader), or its Raft port accepted a probe connection again
     * (checked every half second, for a peer that shares no group with this node).
     */
    boolean isGone(RaftPeerId peer);

    /**
     * The last entry of {@code peer}'s Raft log in {@code group} (null when its log is empty), asked over the
     * transport; fails after {@code timeoutMs} or when the peer cannot be reached.
     */
    CompletableFuture<TermIndex> lastEntry(RaftPeerId peer, RaftGroupId group, long timeoutMs);
}
