package io.fluxmq.kafka.auth;

import io.fluxmq.kafka.server.RequestContext;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Kafka's ACL authorization rules (those of {@code StandardAuthorizer}) over the cluster's ACL bindings:
 * <ol>
 *   <li>a super user ({@code super.users}) is allowed everything;</li>
 *   <li>the bindings that match the resource are the literal ones of its name, the literal wildcard {@code *} and
 *       the prefixed ones whose prefix starts its name; of those, a binding applies when its principal is the
 *       request's or {@code User:*} and its host is the client's address or {@code *};</li>
 *   <li>an applying DENY for the operation or ALL refuses (deny beats allow);</li>
 *   <li>an applying ALLOW for the operation or ALL allows; ALLOW of READ, WRITE, DELETE or ALTER also allows
 *       DESCRIBE, ALLOW of ALTER_CONFIGS also DESCRIBE_CONFIGS;</li>
 *   <li>otherwise, when no binding at all matches the resource, {@code allow.everyone.if.no.acl.found} decides;
 *       else refused.</li>
 * </ol>
 * Decisions are cached per principal, host, operation and resource until the ACLs change ({@link #update}), so
 * Produce and Fetch cost one hash lookup per topic. Thread-safe.
 */
public final class AclAuthorizer implements Authorization {
    private static final int CACHE_MAX = 100_000;
    private static final Set<AclOperation> IMPLY_DESCRIBE = EnumSet.of(AclOperation.DESCRIBE, AclOperation.READ,
            AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER);
    private static final Set<AclOperation> IMPLY_DESCRIBE_CONFIGS = EnumSet.of(AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS);

    private record Key(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type,
                       String name) {
    }

    private final AuthorizerConfig config;
    private volatile AclIndex index = AclIndex.EMPTY;
    private volatile Collection<AclBinding> source;
    private volatile ConcurrentHashMap<Key, Boolean> decisions = new ConcurrentHashMap<>();

    public AclAuthorizer(AuthorizerConfig config) {
        this.config = config;
    }

    /** Takes the cluster's current ACL bindings; a no-op when given the same collection instance again. */
    public void update(Collection<AclBinding> acls) {
        if (acls == source) {
            return;
        }
        synchronized (this) {
            source = acls;
            index = new AclIndex(acls);
            decisions = new ConcurrentHashMap<>();
        }
    }

    @Override
    public boolean enabled() {
        return true;
    }

    @Override
    public boolean allowed(RequestContext context, AclOperation operation, ResourceType type, String name) {
        return allowed(principal(context), host(context), operation, type, name);
    }

    @Override
    public boolean allowed(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type,
                           String name) {
        if (config.superUsers().contains(principal)) {
            return true;
        }
        Key key = new Key(principal, host, operation, type, name);
        ConcurrentHashMap<Key, Boolean> cache = decisions;
        Boolean known = cache.get(key);
        if (known != null) {
            return known;
        }
        boolean allowed = decide(index, key);
        if (cache.size() >= CACHE_MAX) {
            cache.clear(); // bounded: many distinct resources or clients just recompute
        }
        cache.put(key, allowed);
        return allowed;
    }

    private boolean decide(AclIndex acls, Key key) {
        boolean found = false;
        boolean allow = false;
        for (AclIndex.Entry e : acls.matching(key.type(), key.name())) {
            found = true;
            if (!applies(e, key.principal(), key.host())) {
                continue;
            }
            AclOperation op = e.binding().entry().operation();
            if (e.binding().entry().permissionType() == AclPermissionType.DENY) {
                if (op == AclOperation.ALL || op == key.operation()) {
                    return false;
                }
            } else if (e.binding().entry().permissionType() == AclPermissionType.ALLOW
                    && implies(op, key.operation())) {
                allow = true;
            }
        }
        return allow || (!found && config.allowEveryoneIfNoAclFound());
    }

    private static boolean applies(AclIndex.Entry e, KafkaPrincipal principal, String host) {
        KafkaPrincipal p = e.principal();
        boolean principalMatches = p.equals(principal) || (p.getPrincipalType().equals(KafkaPrincipal.USER_TYPE)
                && p.getName().equals(ResourcePattern.WILDCARD_RESOURCE));
        String h = e.binding().entry().host();
        return principalMatches && (h.equals(ResourcePattern.WILDCARD_RESOURCE) || h.equals(host));
    }

    /** Whether an ALLOW binding for {@code granted} allows {@code requested}. */
    static boolean implies(AclOperation granted, AclOperation requested) {
        if (granted == AclOperation.ALL || granted == requested) {
            return true;
        }
        return (requested == AclOperation.DESCRIBE && IMPLY_DESCRIBE.contains(granted))
                || (requested == AclOperation.DESCRIBE_CONFIGS && IMPLY_DESCRIBE_CONFIGS.contains(granted));
    }

    /**
     * Kafka's {@code Authorizer.authorizeByResourceType}: allowed when the operation is allowed on a resource named
     * "hardcode" (super users, {@code allow.everyone.if.no.acl.found}), or when an applying ALLOW binding (literal or
     * prefixed) of the type is not dominated by an applying DENY (the wildcard, the same literal, or a prefix of its
     * name). Scans the bindings of the type: used by InitProducerId only, not per record.
     */
    @Override
    public boolean allowedOnAny(RequestContext context, AclOperation operation, ResourceType type) {
        if (allowed(context, operation, type, "hardcode")) {
            return true;
        }
        KafkaPrincipal principal = principal(context);
        String host = host(context);
        Set<String> denyLiteral = new HashSet<>();
        Set<String> denyPrefixed = new HashSet<>();
        Set<String> allowLiteral = new HashSet<>();
        Set<String> allowPrefixed = new HashSet<>();
        for (AclIndex.Entry e : index.ofType(type)) {
            AclOperation op = e.binding().entry().operation();
            if (!applies(e, principal, host) || (op != operation && op != AclOperation.ALL)) {
                continue;
            }
            ResourcePattern p = e.binding().pattern();
            boolean literal = p.patternType() == PatternType.LITERAL;
            if (e.binding().entry().permissionType() == AclPermissionType.DENY) {
                if (literal && p.name().equals(ResourcePattern.WILDCARD_RESOURCE)) {
                    return false;
                }
                (literal ? denyLiteral : denyPrefixed).add(p.name());
            } else if (e.binding().entry().permissionType() == AclPermissionType.ALLOW) {
                if (literal && p.name().equals(ResourcePattern.WILDCARD_RESOURCE)) {
                    return true;
                }
                (literal ? allowLiteral : allowPrefixed).add(p.name());
            }
        }
        for (String name : allowLiteral) {
            if (!denyLiteral.contains(name) && !deniedByPrefix(name, denyPrefixed)) {
                return true;
            }
        }
        for (String name : allowPrefixed) {
            if (!deniedByPrefix(name, denyPrefixed)) {
                return true;
            }
        }
        return false;
    }

    private static boolean deniedByPrefix(String name, Set<String> denyPrefixed) {
        for (int i = 1; i <= name.length(); i++) {
            if (denyPrefixed.contains(name.substring(0, i))) {
                return true;
            }
        }
        return false;
    }

    private static KafkaPrincipal principal(RequestContext context) {
        KafkaPrincipal p = context.principal();
        // compare as type and name only (a subclass may carry more), as Kafka's authorizer does
        return p == null ? KafkaPrincipal.ANONYMOUS : p.getClass() == KafkaPrincipal.class ? p
                : new KafkaPrincipal(p.getPrincipalType(), p.getName());
    }

    private static String host(RequestContext context) {
        InetSocketAddress a = context.clientAddress();
        return a == null || a.getAddress() == null ? "" : a.getAddress().getHostAddress();
    }
}
