package io.fluxmq.kafka.auth;

import io.fluxmq.kafka.server.RequestContext;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.utils.Utils;

/**
 * The access check every API handler asks: may the request's principal, from its host, perform an operation on a
 * resource. {@link #DISABLED} (no {@code authorizer.class.name}) allows everything without looking at anything;
 * handlers read {@link #enabled()} to skip their per-topic loops entirely then. Implementations are thread-safe.
 */
public interface Authorization {
    /** Name of the one CLUSTER resource, as in Kafka. */
    String CLUSTER_NAME = "kafka-cluster";

    /** Authorization off: every operation allowed. */
    Authorization DISABLED = new Authorization() {
        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public boolean allowed(RequestContext context, AclOperation operation, ResourceType type, String name) {
            return true;
        }

        @Override
        public boolean allowed(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type,
                               String name) {
            return true;
        }

        @Override
        public boolean allowedOnAny(RequestContext context, AclOperation operation, ResourceType type) {
            return true;
        }
    };

    boolean enabled();

    boolean allowed(RequestContext context, AclOperation operation, ResourceType type, String name);

    /**
     * The same decision for a principal and client address (its IP as text) known outside a Kafka request: the
     * control service's callers, identified by their cluster certificates.
     */
    boolean allowed(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type, String name);

    /**
     * Whether the operation is allowed on at least one resource of the type (Kafka's
     * {@code Authorizer.authorizeByResourceType}; InitProducerId's "WRITE on any topic").
     */
    boolean allowedOnAny(RequestContext context, AclOperation operation, ResourceType type);

    /** Whether authorization is on and refuses the operation (costs one call and nothing else while off). */
    default boolean denies(RequestContext context, AclOperation operation, ResourceType type, String name) {
        return enabled() && !allowed(context, operation, type, name);
    }

    /** The message Kafka answers SECURITY_DISABLED with. */
    String NO_AUTHORIZER_MESSAGE = "No Authorizer is configured.";

    /**
     * Whether an ACL API (CreateAcls, DescribeAcls, DeleteAcls) is refused, in Kafka's order: the cluster operation
     * first, then whether an authorizer runs at all; {@link Errors#NONE} when it may go on.
     */
    default Errors aclApiRefusal(RequestContext context, AclOperation operation) {
        return !allowedOnCluster(context, operation) ? Errors.CLUSTER_AUTHORIZATION_FAILED
                : !enabled() ? Errors.SECURITY_DISABLED : Errors.NONE;
    }

    default boolean allowedOnCluster(RequestContext context, AclOperation operation) {
        return allowed(context, operation, ResourceType.CLUSTER, CLUSTER_NAME);
    }

    /**
     * The operations allowed on a resource as Kafka's 32-bit field ({@code include_*_authorized_operations}): one bit
     * per {@link AclOperation#code()} of the operations Kafka supports for the type.
     */
    default int authorizedOperations(RequestContext context, ResourceType type, String name) {
        Set<Byte> codes = new HashSet<>();
        for (AclOperation op : supportedOperations(type)) {
            if (allowed(context, op, type, name)) {
                codes.add(op.code());
            }
        }
        return Utils.to32BitField(codes);
    }

    /** Kafka's supported operations per resource type ({@code AclEntry.supportedOperations}). */
    static Set<AclOperation> supportedOperations(ResourceType type) {
        return switch (type) {
            case TOPIC -> Set.of(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DESCRIBE,
                    AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS);
            case GROUP -> Set.of(AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE,
                    AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS);
            case CLUSTER -> Set.of(AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS,
                    AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER,
                    AclOperation.DESCRIBE);
            case TRANSACTIONAL_ID -> Set.of(AclOperation.DESCRIBE, AclOperation.WRITE);
            case DELEGATION_TOKEN -> Set.of(AclOperation.DESCRIBE);
            case USER -> Set.of(AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS);
            default -> Set.of();
        };
    }
}
