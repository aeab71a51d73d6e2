package io.fluxmq.kafka.auth;

import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.utils.SecurityUtils;

/**
 * The authorizer settings, with Kafka's names. {@value #CLASS_NAME_KEY}: empty (the default) leaves authorization off
 * (every request allowed, the ACL APIs answer SECURITY_DISABLED); any non-empty value, such as Kafka's
 * {@value #KAFKA_STANDARD_AUTHORIZER}, turns on FluxMQ's built-in ACL authorizer, which follows the rules of Kafka's
 * {@code StandardAuthorizer} (FluxMQ loads no class by that name). {@value #SUPER_USERS_KEY}: principals separated by
 * semicolons ({@code User:admin;User:ops}), allowed everything. {@value #ALLOW_EVERYONE_KEY} (default false): a
 * resource no ACL matches is allowed to everyone instead of refused.
 */
public record AuthorizerConfig(boolean enabled, Set<KafkaPrincipal> superUsers, boolean allowEveryoneIfNoAclFound) {
    public static final String CLASS_NAME_KEY = "authorizer.class.name";
    public static final String CLASS_NAME_DEFAULT = "";
    public static final String SUPER_USERS_KEY = "super.users";
    public static final String SUPER_USERS_DEFAULT = "";
    public static final String ALLOW_EVERYONE_KEY = "allow.everyone.if.no.acl.found";
    public static final boolean ALLOW_EVERYONE_DEFAULT = false;
    /** The name Kafka 4 clusters (KRaft) configure; accepted like any other non-empty value. */
    public static final String KAFKA_STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

    public static final AuthorizerConfig DISABLED = new AuthorizerConfig(false, Set.of(), ALLOW_EVERYONE_DEFAULT);

    public AuthorizerConfig {
        superUsers = Set.copyOf(superUsers);
    }

    /**
     * Parses the three settings; throws IllegalArgumentException for a super user that is not
     * {@code type:name}.
     */
    public static AuthorizerConfig parse(String className, String superUsers, boolean allowEveryoneIfNoAclFound) {
        Set<KafkaPrincipal> users = new LinkedHashSet<>();
        for (String item : superUsers.split(";")) {
            String user = item.trim();
            if (user.isEmpty()) {
                continue;
            }
            if (user.indexOf(':') <= 0 || user.endsWith(":")) {
                throw new IllegalArgumentException("invalid principal '" + user + "' in " + SUPER_USERS_KEY
                        + ": expected type:name such as User:admin");
            }
            users.add(SecurityUtils.parseKafkaPrincipal(user));
        }
        return new AuthorizerConfig(!className.isBlank(), users, allowEveryoneIfNoAclFound);
    }
}
