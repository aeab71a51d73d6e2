package io.fluxmq.raft.metadata;

import io.fluxmq.raft.metadata.NodeRecord.Membership;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the metadata state machine applies {@link MetadataCommand.SetNodeMembership}, in log order under its lock. What
 * depends on the state is checked here, so every replica decides the same: the node has a record, and a node becomes
 * DECOMMISSIONED only from DECOMMISSIONING and only once no partition (assignment or reassignment in progress) names
 * it. DECOMMISSIONING and ACTIVE are accepted from any membership.
 */
final class NodeMembershipApply {
    private static final Logger LOGGER = LoggerFactory.getLogger(NodeMembershipApply.class);

    private NodeMembershipApply() {
    }

    static MetadataReply apply(MetadataStateMachine sm, ClusterState s, MetadataCommand.SetNodeMembership m) {
        NodeRecord known = s.nodes().get(m.nodeId());
        if (known == null) {
            return MetadataReply.error(Errors.BROKER_ID_NOT_REGISTERED.code(), "node " + m.nodeId()
                    + " is not known to the cluster metadata");
        }
        if (m.membership() == Membership.DECOMMISSIONED) {
            if (known.membership() != Membership.DECOMMISSIONING) {
                return MetadataReply.error(Errors.INVALID_REQUEST.code(), "node " + m.nodeId() + " is "
                        + known.membership() + ", not DECOMMISSIONING");
            }
            int left = s.partitionsOn(m.nodeId()).size();
            if (left > 0) {
                return MetadataReply.error(Errors.INVALID_REQUEST.code(), "node " + m.nodeId() + " still holds "
                        + left + " replicas");
            }
        }
        if (known.membership() != m.membership()) {
            sm.publish(s.withNode(known.withMembership(m.membership())));
            LOGGER.info("Metadata: node {} is {} (was {})", m.nodeId(), m.membership(), known.membership());
        }
        return MetadataReply.ok(0);
    }
}
