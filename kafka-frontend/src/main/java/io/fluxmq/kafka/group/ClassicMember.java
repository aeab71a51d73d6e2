package io.fluxmq.kafka.group;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;

/** A member of a classic group: identity, timeouts, its protocols (name → opaque metadata), assignment, waiters. */
final class ClassicMember {
    /** {@link #lastHeartbeatMs} of a member restored from the offsets topic until the group's next tick. */
    static final long SESSION_NOT_STARTED = Long.MIN_VALUE;

    String memberId;
    final String instanceId;
    final String clientId;
    final String clientHost;
    int sessionTimeoutMs;
    int rebalanceTimeoutMs;
    /** Protocol name → metadata in the member's order of preference; passed to the leader untouched. */
    Map<String, byte[]> protocols;
    byte[] assignment = new byte[0];
    long lastHeartbeatMs;
    /** Set while the member waits in JoinGroup for the rebalance to complete. */
    CompletableFuture<JoinGroupResponseData> joinWaiter;
    /** Set while the member waits in SyncGroup for the leader's assignment. */
    CompletableFuture<SyncGroupResponseData> syncWaiter;

    ClassicMember(String memberId, String instanceId, String clientId, String clientHost, int sessionTimeoutMs,
                  int rebalanceTimeoutMs, Map<String, byte[]> protocols, long nowMs) {
        this.memberId = memberId;
        this.instanceId = instanceId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.protocols = new LinkedHashMap<>(protocols);
        this.lastHeartbeatMs = nowMs;
    }

    boolean sameProtocols(Map<String, byte[]> other) {
        if (!protocols.keySet().equals(other.keySet())) {
            return false;
        }
        for (Map.Entry<String, byte[]> e : protocols.entrySet()) {
            if (!Arrays.equals(e.getValue(), other.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    boolean isStatic() {
        return instanceId != null;
    }

    boolean sessionExpired(long nowMs) {
        return joinWaiter == null && syncWaiter == null && nowMs - lastHeartbeatMs > sessionTimeoutMs;
    }

    @Override
    public String toString() {
        return Objects.toString(memberId) + (instanceId == null ? "" : "(" + instanceId + ")");
    }
}
