package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.SecurityUtils;

/** Kafka's checks of ACL bindings to create and of filters to describe or delete with (INVALID_REQUEST). */
final class AclValidation {
    private AclValidation() {
    }

    /** Why Kafka refuses to create this binding, or null when it is valid. */
    static String invalidBinding(AclBinding b) {
        ResourceType type = b.pattern().resourceType();
        if (type == ResourceType.ANY || type == ResourceType.UNKNOWN) {
            return "Invalid resourceType " + type;
        }
        PatternType pattern = b.pattern().patternType();
        if (pattern != PatternType.LITERAL && pattern != PatternType.PREFIXED) {
            return "Invalid patternType " + pattern;
        }
        AclOperation op = b.entry().operation();
        if (op == AclOperation.ANY || op == AclOperation.UNKNOWN) {
            return "Invalid operation " + op;
        }
        AclPermissionType permission = b.entry().permissionType();
        if (permission != AclPermissionType.ALLOW && permission != AclPermissionType.DENY) {
            return "Invalid permissionType " + permission;
        }
        if (b.pattern().name() == null || b.pattern().name().isEmpty()) {
            return "Invalid empty resource name";
        }
        if (type == ResourceType.CLUSTER && !b.pattern().name().equals(Authorization.CLUSTER_NAME)) {
            return "The only valid name for the CLUSTER resource is " + Authorization.CLUSTER_NAME;
        }
        String principal = b.entry().principal();
        if (principal == null || principal.indexOf(':') < 0) {
            return "Could not parse principal from `" + principal + "` (no colon is present separating the principal "
                    + "type from the principal name)";
        }
        try {
            SecurityUtils.parseKafkaPrincipal(principal);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        if (b.entry().host() == null || b.entry().host().isEmpty()) {
            return "Invalid empty host";
        }
        return null;
    }

    /** Why Kafka refuses this filter (unknown elements), or null when it is valid. */
    static String invalidFilter(AclBindingFilter f) {
        if (f.patternFilter().isUnknown()) {
            return "Unknown patternFilter.";
        }
        if (f.entryFilter().isUnknown()) {
            return "Unknown entryFilter.";
        }
        return null;
    }

    static AclBindingFilter filter(byte resourceType, String name, byte patternType, String principal, String host,
                                   byte operation, byte permission) {
        return new AclBindingFilter(new ResourcePatternFilter(ResourceType.fromCode(resourceType), name,
                PatternType.fromCode(patternType)), new AccessControlEntryFilter(principal, host,
                AclOperation.fromCode(operation), AclPermissionType.fromCode(permission)));
    }
}
