package io.fluxmq.kafka.group;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.apache.kafka.common.Uuid;

/**
 * A member of a KIP-848 consumer group: subscription, epoch, the partitions it may own now ({@link #assigned}), those
 * it still has to give up ({@link #pendingRevocation}) and what it last said it owns.
 */
final class ConsumerMember {
    /** Where the member is in reconciling towards its target assignment (the group record stores the ordinal). */
    enum State {
        /** Holds its target assignment at the current assignment epoch. */
        STABLE,
        /** Must first revoke {@link #pendingRevocation}; keeps its epoch until it reports having done so. */
        UNREVOKED_PARTITIONS,
        /** At the current epoch but waiting for partitions that another member still owns. */
        UNRELEASED_PARTITIONS
    }

    /** {@link #lastHeartbeatMs} of a member restored by a new coordinator until its first tick. */
    static final long SESSION_NOT_STARTED = -1;

    final String memberId;
    final String instanceId;
    String rackId;
    final String clientId;
    final String clientHost;
    int rebalanceTimeoutMs;
    List<String> subscribedTopicNames = List.of();
    String subscribedTopicRegex;
    /**
     * Which topics matched by {@link #subscribedTopicRegex} the member gets: those its principal may DESCRIBE, as of
     * its latest heartbeat (Kafka 4.1 filters a regex's topics the same way); every topic while authorization is off.
     */
    Predicate<String> describable = topic -> true;
    String serverAssignor;
    int memberEpoch;
    int previousMemberEpoch = -1;
    State state = State.STABLE;
    Map<Uuid, Set<Integer>> assigned = new TreeMap<>();
    Map<Uuid, Set<Integer>> pendingRevocation = new TreeMap<>();
    /** What the member last reported owning (heartbeats send it only when it changes). */
    Map<Uuid, Set<Integer>> reportedOwned = new TreeMap<>();
    long lastHeartbeatMs;
    long revocationDeadlineMs;

    ConsumerMember(String memberId, String instanceId, String clientId, String clientHost, long nowMs) {
        this.memberId = memberId;
        this.instanceId = instanceId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.lastHeartbeatMs = nowMs;
    }

    boolean owns(Uuid topic, int partition) {
        return contains(assigned, topic, partition) || contains(pendingRevocation, topic, partition);
    }

    static boolean contains(Map<Uuid, Set<Integer>> m, Uuid topic, int partition) {
        Set<Integer> s = m.get(topic);
        return s != null && s.contains(partition);
    }

    static boolean subsetOf(Map<Uuid, Set<Integer>> a, Map<Uuid, Set<Integer>> b) {
        for (Map.Entry<Uuid, Set<Integer>> e : a.entrySet()) {
            for (int p : e.getValue()) {
                if (!contains(b, e.getKey(), p)) {
                    return false;
                }
            }
        }
        return true;
    }

    static Map<Uuid, Set<Integer>> copy(Map<Uuid, Set<Integer>> m) {
        Map<Uuid, Set<Integer>> out = new TreeMap<>();
        m.forEach((k, v) -> {
            if (!v.isEmpty()) {
                out.put(k, new TreeSet<>(v));
            }
        });
        return out;
    }
}
