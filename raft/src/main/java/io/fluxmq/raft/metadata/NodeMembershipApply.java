package io.fluxmq.raft.metadata;

import io.fluxmq.raft.metadata.NodeRecord.Membership;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the metadata state machine applies {@link MetadataCommand.SetNodeMembership}, in log order under its lock. What
 * depends on the state is checked here, so every replica decides the same: the node has a record, and a node becomes
 * DECOMMISSIONED only from DECOMMISSIONING and only once no partition (assignment or reassignment in progress) names
 * it; REMOVED only from DECOMMISSIONED while the node is DOWN; a REMOVED node stays so. DECOMMISSIONING and ACTIVE are
 * accepted from any other membership.
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
        if (known.removed() && m.membership() != Membership.REMOVED) {
            return MetadataReply.error(Errors.INVALID_REQUEST.code(), "node " + m.nodeId()
                    + " was removed from the cluster; a new node needs a new id");
        }
        if (m.membership() == Membership.REMOVED && !known.removed()
                && (known.membership() != Membership.DECOMMISSIONED || known.isUp())) {
            return MetadataReply.error(Errors.INVALID_REQUEST.code(), "node " + m.nodeId() + " is "
                    + known.membership() + " and " + known.state() + "; only a DECOMMISSIONED node that is DOWN "
                    + "(stopped) can be removed");
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
