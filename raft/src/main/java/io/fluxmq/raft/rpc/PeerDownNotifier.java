package io.fluxmq.raft.rpc;

import java.util.function.Consumer;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * Tells when a Raft peer's process is gone, long before an election timeout would: the transport sees the peer's
 * connection to this node close and then finds the peer's Raft port refusing connections (a killed or stopped
 * process; the kernel closed its sockets). A peer that is frozen or cut off gives no such sign; Raft's own timeouts
 * cover it.
 */
public interface PeerDownNotifier {
    /** Registers a listener; it runs on a transport thread and must not block for long. */
    void onPeerDown(Consumer<RaftPeerId> listener);
}
