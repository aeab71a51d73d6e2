package io.fluxmq.raft.metadata;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;

/**
 * Adds a node that joins a running cluster to the metadata Raft group as a listener (a non-voting member that
 * receives every entry), on the group's leader, with Ratis' {@code setConfiguration}: the voters stay exactly as they
 * are ({@code controller.nodes}), the listeners become the current ones plus the new node (or with its new address).
 * Ratis catches the listener up (log or snapshot) before it commits the new configuration. Thread-safe.
 */
public final class MetadataGroupListeners {
    private static final ClientId CLIENT_ID = ClientId.randomId();
    private static final AtomicLong CALL_IDS = new AtomicLong();

    private final RaftServer server;
    private final RaftGroupId groupId;

    public MetadataGroupListeners(RaftServer server, RaftGroupId groupId) {
        this.server = server;
        this.groupId = groupId;
    }

    /**
     * Completes once {@code peer} is a voter or a listener of the group at its address: at once when it already is,
     * otherwise after the leader committed a configuration with it as a listener. Fails on a node that does not lead
     * the group, while another configuration change is in progress, or when Ratis gives up on the peer.
     */
    public CompletableFuture<Void> ensureMember(RaftPeer peer) {
        try {
            RaftConfiguration conf = server.getDivision(groupId).getRaftConf();
            List<RaftPeer> voters = new ArrayList<>(conf.getCurrentPeers());
            for (RaftPeer v : voters) {
                if (v.getId().equals(peer.getId())) {
                    return CompletableFuture.completedFuture(null); // a controller: its address is static config
                }
            }
            List<RaftPeer> listeners = new ArrayList<>();
            for (RaftPeer l : conf.getCurrentPeers(RaftPeerRole.LISTENER)) {
                if (l.getId().equals(peer.getId())) {
                    if (l.getAddress().equals(peer.getAddress())) {
                        return CompletableFuture.completedFuture(null);
                    }
                    continue; // registered again at another address: replaced below
                }
                listeners.add(l);
            }
            listeners.add(RaftPeer.newBuilder(peer)
                    .setStartupRole(RaftPeerRole.LISTENER).build());
            SetConfigurationRequest request = new SetConfigurationRequest(CLIENT_ID, server.getId(), groupId,
                    CALL_IDS.incrementAndGet(), voters, listeners);
            return server.setConfigurationAsync(request).thenApply(reply -> {
                if (!reply.isSuccess()) {
                    throw new IllegalStateException("adding " + peer + " to the metadata group failed: "
                            + reply.getException());
                }
                return null;
            });
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
