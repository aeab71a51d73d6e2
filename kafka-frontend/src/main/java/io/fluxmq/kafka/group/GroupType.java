package io.fluxmq.kafka.group;

/** Which rebalance protocol a group runs; {@link #label()} is how ListGroups names it. */
public enum GroupType {
    /** JoinGroup/SyncGroup/Heartbeat, client-side assignment (also groups that only commit offsets). */
    CLASSIC("classic"),
    /** KIP-848 ConsumerGroupHeartbeat, server-side assignment. */
    CONSUMER("consumer");

    private final String label;

    GroupType(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
