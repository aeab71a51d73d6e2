package io.fluxmq.kafka.group;

/** A group as ListGroups reports it. */
public record GroupListing(String groupId, String protocolType, String state, GroupType type) {
    static GroupListing of(Group group) {
        String protocolType = "consumer";
        if (group instanceof ClassicGroup g) {
            protocolType = g.protocolType() == null ? "" : g.protocolType();
        }
        return new GroupListing(group.groupId(), protocolType, group.stateName(), group.type());
    }
}
