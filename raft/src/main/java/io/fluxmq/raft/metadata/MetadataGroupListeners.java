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
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds a node that joins a running cluster to the metadata Raft group as a listener (a non-voting member that
 * receives every entry), on the group's leader, with Ratis' {@code setConfiguration}: the voters stay exactly as they
 * are ({@code controller.nodes}), the listeners become the current ones plus the new node (or with its new address).
 * Ratis catches the listener up (log or snapshot) before it commits the new configuration. A removed node's listener
 * is taken out the same way. Thread-safe.
 */
public final class MetadataGroupListeners {
    private static final Logger LOGGER = LoggerFactory.getLogger(MetadataGroupListeners.class);
    private static final ClientId CLIENT_ID = ClientId.randomId();
    private static final AtomicLong CALL_IDS = new AtomicLong();

    private final RaftServer server;
    private final RaftGroupId groupId;

    public MetadataGroupListeners(RaftServer server, RaftGroupId groupId) {
        this.server = server;
        this.groupId = groupId;
    }

    /**
     * Completes once node {@code peerId} is no listener of the group: at once when it is none, otherwise after the
     * leader committed a configuration without it. A voter is never removed (fails).
     */
    public CompletableFuture<Void> removeListener(RaftPeerId peerId) {
        try {
            RaftConfiguration conf = server.getDivision(groupId).getRaftConf();
            List<RaftPeer> voters = new ArrayList<>(conf.getCurrentPeers());
            if (voters.stream().anyMatch(v -> v.getId().equals(peerId))) {
                return CompletableFuture.failedFuture(new IllegalStateException(peerId
                        + " is a voter of the metadata group (controller.nodes); voters are not changed"));
            }
            List<RaftPeer> listeners = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER));
            if (!listeners.removeIf(l -> l.getId().equals(peerId))) {
                return CompletableFuture.completedFuture(null);
            }
            LOGGER.info("Metadata group: removing listener {} (voters stay {})", peerId, ids(voters));
            return setConfiguration(voters, listeners, "removing " + peerId + " from");
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static List<String> ids(List<RaftPeer> peers) {
        return peers.stream().map(p -> p.getId().toString()).sorted().toList();
    }

    private CompletableFuture<Void> setConfiguration(List<RaftPeer> voters, List<RaftPeer> listeners, String what) {
        SetConfigurationRequest request = new SetConfigurationRequest(CLIENT_ID, server.getId(), groupId,
                CALL_IDS.incrementAndGet(), voters, listeners);
        try {
            return server.setConfigurationAsync(request).thenApply(reply -> {
                if (!reply.isSuccess()) {
                    throw new IllegalStateException(what + " the metadata group failed: " + reply.getException());
                }
                return null;
            });
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
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
            LOGGER.info("Metadata group: adding listener {} at {} (voters stay {})", peer.getId(), peer.getAddress(),
                    ids(voters));
            return setConfiguration(voters, listeners, "adding " + peer + " to");
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
