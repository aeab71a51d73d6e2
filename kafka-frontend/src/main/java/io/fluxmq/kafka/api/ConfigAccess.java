package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.server.RequestContext;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Kafka's authorization of config resources: a topic's configs need the operation on the topic
 * (TOPIC_AUTHORIZATION_FAILED), a group's on the group (GROUP_AUTHORIZATION_FAILED), broker and broker-logger configs
 * on the cluster (CLUSTER_AUTHORIZATION_FAILED).
 */
final class ConfigAccess {
    private ConfigAccess() {
    }

    /** The error refusing the operation on the config resource, or NONE when allowed. */
    static Errors check(Authorization auth, RequestContext context, byte resourceType, String name,
                        AclOperation operation) {
        if (!auth.enabled()) {
            return Errors.NONE;
        }
        ConfigResource.Type type = ConfigResource.Type.forId(resourceType);
        return switch (type) {
            case TOPIC -> auth.allowed(context, operation, ResourceType.TOPIC, name) ? Errors.NONE
                    : Errors.TOPIC_AUTHORIZATION_FAILED;
            case GROUP -> auth.allowed(context, operation, ResourceType.GROUP, name) ? Errors.NONE
                    : Errors.GROUP_AUTHORIZATION_FAILED;
            case BROKER, BROKER_LOGGER, CLIENT_METRICS -> auth.allowedOnCluster(context, operation) ? Errors.NONE
                    : Errors.CLUSTER_AUTHORIZATION_FAILED;
            default -> Errors.NONE; // unknown types are answered INVALID_REQUEST by the handler
        };
    }
}
