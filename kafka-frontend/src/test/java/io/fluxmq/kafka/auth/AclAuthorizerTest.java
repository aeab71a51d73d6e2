package io.fluxmq.kafka.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.server.RequestContext;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

/** Kafka's ACL rules as {@link AclAuthorizer} applies them. */
class AclAuthorizerTest {
    private static final KafkaPrincipal ALICE = new KafkaPrincipal("User", "alice");
    private static final KafkaPrincipal BOB = new KafkaPrincipal("User", "bob");
    private final AclAuthorizer auth = new AclAuthorizer(new AuthorizerConfig(true, Set.of(), false));

    static RequestContext from(KafkaPrincipal principal, String host) {
        return new RequestContext(new RequestHeader(ApiKeys.METADATA, (short) 12, "c", 1), "EXTERNAL",
                new InetSocketAddress(host, 40000), principal);
    }

    static AclBinding acl(ResourceType type, String name, PatternType pattern, String principal, String host,
                          AclOperation op, AclPermissionType permission) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, host, op, permission));
    }

    static AclBinding allow(String topic, PatternType pattern, String principal, AclOperation op) {
        return acl(ResourceType.TOPIC, topic, pattern, principal, "*", op, AclPermissionType.ALLOW);
    }

    private boolean topic(KafkaPrincipal p, AclOperation op, String name) {
        return auth.allowed(from(p, "127.0.0.1"), op, ResourceType.TOPIC, name);
    }

    @Test
    void withoutAclsEverythingIsRefusedUnlessAllowEveryoneIfNoAclFound() {
        assertThat(topic(ALICE, AclOperation.READ, "t")).isFalse();
        AclAuthorizer open = new AclAuthorizer(new AuthorizerConfig(true, Set.of(), true));
        assertThat(open.allowed(from(ALICE, "127.0.0.1"), AclOperation.READ, ResourceType.TOPIC, "t")).isTrue();
        open.update(List.of(allow("t", PatternType.LITERAL, "User:bob", AclOperation.READ)));
        assertThat(open.allowed(from(ALICE, "127.0.0.1"), AclOperation.READ, ResourceType.TOPIC, "t"))
                .as("an ACL exists on the resource: only it counts").isFalse();
        assertThat(open.allowed(from(ALICE, "127.0.0.1"), AclOperation.READ, ResourceType.TOPIC, "other")).isTrue();
    }

    @Test
    void literalPrefixedAndWildcardResources() {
        auth.update(List.of(allow("orders", PatternType.LITERAL, "User:alice", AclOperation.WRITE),
                allow("logs-", PatternType.PREFIXED, "User:alice", AclOperation.READ),
                allow("*", PatternType.LITERAL, "User:bob", AclOperation.READ)));
        assertThat(topic(ALICE, AclOperation.WRITE, "orders")).isTrue();
        assertThat(topic(ALICE, AclOperation.WRITE, "orders2")).as("literal is exact").isFalse();
        assertThat(topic(ALICE, AclOperation.READ, "logs-app")).isTrue();
        assertThat(topic(ALICE, AclOperation.READ, "logs")).as("shorter than the prefix").isFalse();
        assertThat(topic(BOB, AclOperation.READ, "anything")).isTrue();
        assertThat(topic(BOB, AclOperation.WRITE, "anything")).isFalse();
    }

    @Test
    void denyBeatsAllowAndTheUserWildcardMatchesEveryone() {
        auth.update(List.of(allow("t", PatternType.LITERAL, "User:*", AclOperation.ALL),
                acl(ResourceType.TOPIC, "t", PatternType.PREFIXED, "User:bob", "*", AclOperation.WRITE,
                        AclPermissionType.DENY)));
        assertThat(topic(ALICE, AclOperation.WRITE, "t")).isTrue();
        assertThat(topic(BOB, AclOperation.WRITE, "t")).isFalse();
        assertThat(topic(BOB, AclOperation.READ, "t")).isTrue();
        auth.update(List.of(allow("t", PatternType.LITERAL, "User:bob", AclOperation.READ),
                acl(ResourceType.TOPIC, "*", PatternType.LITERAL, "User:*", "*", AclOperation.ALL,
                        AclPermissionType.DENY)));
        assertThat(topic(BOB, AclOperation.READ, "t")).as("DENY ALL on * beats a literal ALLOW").isFalse();
    }

    @Test
    void impliedOperations() {
        auth.update(List.of(allow("r", PatternType.LITERAL, "User:alice", AclOperation.READ),
                allow("w", PatternType.LITERAL, "User:alice", AclOperation.WRITE),
                allow("d", PatternType.LITERAL, "User:alice", AclOperation.DELETE),
                allow("a", PatternType.LITERAL, "User:alice", AclOperation.ALTER),
                allow("c", PatternType.LITERAL, "User:alice", AclOperation.ALTER_CONFIGS),
                allow("all", PatternType.LITERAL, "User:alice", AclOperation.ALL)));
        for (String t : List.of("r", "w", "d", "a", "all")) {
            assertThat(topic(ALICE, AclOperation.DESCRIBE, t)).as("DESCRIBE implied on %s", t).isTrue();
        }
        assertThat(topic(ALICE, AclOperation.DESCRIBE, "c")).isFalse();
        assertThat(topic(ALICE, AclOperation.DESCRIBE_CONFIGS, "c")).isTrue();
        assertThat(topic(ALICE, AclOperation.WRITE, "r")).as("READ implies nothing but DESCRIBE").isFalse();
        assertThat(topic(ALICE, AclOperation.DELETE, "all")).isTrue();
        auth.update(List.of(allow("r", PatternType.LITERAL, "User:alice", AclOperation.READ),
                acl(ResourceType.TOPIC, "r", PatternType.LITERAL, "User:alice", "*", AclOperation.DESCRIBE,
                        AclPermissionType.DENY)));
        assertThat(topic(ALICE, AclOperation.DESCRIBE, "r")).as("an explicit DENY DESCRIBE wins").isFalse();
        assertThat(topic(ALICE, AclOperation.READ, "r")).as("a DENY is never implied").isTrue();
    }

    @Test
    void hostsMatchTheClientAddressOrStar() {
        auth.update(List.of(acl(ResourceType.TOPIC, "t", PatternType.LITERAL, "User:alice", "10.0.0.1",
                AclOperation.READ, AclPermissionType.ALLOW)));
        assertThat(auth.allowed(from(ALICE, "10.0.0.1"), AclOperation.READ, ResourceType.TOPIC, "t")).isTrue();
        assertThat(auth.allowed(from(ALICE, "10.0.0.2"), AclOperation.READ, ResourceType.TOPIC, "t")).isFalse();
    }

    @Test
    void superUsersAreAllowedEverythingAndDecisionsFollowUpdates() {
        AclAuthorizer withSuper = new AclAuthorizer(AuthorizerConfig.parse("x", "User:admin; User:ANONYMOUS", false));
        withSuper.update(List.of(acl(ResourceType.TOPIC, "*", PatternType.LITERAL, "User:*", "*", AclOperation.ALL,
                AclPermissionType.DENY)));
        assertThat(withSuper.allowed(from(KafkaPrincipal.ANONYMOUS, "127.0.0.1"), AclOperation.WRITE,
                ResourceType.TOPIC, "t")).isTrue();
        assertThat(withSuper.allowed(from(ALICE, "127.0.0.1"), AclOperation.WRITE, ResourceType.TOPIC, "t")).isFalse();

        assertThat(topic(ALICE, AclOperation.READ, "t")).isFalse();
        auth.update(List.of(allow("t", PatternType.LITERAL, "User:alice", AclOperation.READ)));
        assertThat(topic(ALICE, AclOperation.READ, "t")).as("the cached refusal is dropped on update").isTrue();
        auth.update(List.of());
        assertThat(topic(ALICE, AclOperation.READ, "t")).isFalse();
    }

    @Test
    void writeOnAnyTopicAsKafkasAuthorizeByResourceType() {
        RequestContext alice = from(ALICE, "127.0.0.1");
        assertThat(auth.allowedOnAny(alice, AclOperation.WRITE, ResourceType.TOPIC)).isFalse();
        auth.update(List.of(allow("app-", PatternType.PREFIXED, "User:alice", AclOperation.WRITE),
                acl(ResourceType.TOPIC, "app", PatternType.PREFIXED, "User:alice", "*", AclOperation.WRITE,
                        AclPermissionType.DENY)));
        assertThat(auth.allowedOnAny(alice, AclOperation.WRITE, ResourceType.TOPIC))
                .as("the allowed prefix is dominated by a denied shorter prefix").isFalse();
        auth.update(List.of(allow("app-", PatternType.PREFIXED, "User:alice", AclOperation.WRITE)));
        assertThat(auth.allowedOnAny(alice, AclOperation.WRITE, ResourceType.TOPIC)).isTrue();
        assertThat(auth.allowedOnAny(from(BOB, "127.0.0.1"), AclOperation.WRITE, ResourceType.TOPIC)).isFalse();
    }

    @Test
    void authorizedOperationsAreKafkasBitField() {
        auth.update(List.of(allow("t", PatternType.LITERAL, "User:alice", AclOperation.READ)));
        int ops = auth.authorizedOperations(from(ALICE, "127.0.0.1"), ResourceType.TOPIC, "t");
        assertThat(ops).isEqualTo((1 << AclOperation.READ.code()) | (1 << AclOperation.DESCRIBE.code()));
        assertThat(Authorization.DISABLED.authorizedOperations(from(ALICE, "127.0.0.1"), ResourceType.GROUP, "g"))
                .as("authorization off: every operation Kafka supports on groups").isEqualTo(
                        (1 << AclOperation.READ.code()) | (1 << AclOperation.DESCRIBE.code())
                                | (1 << AclOperation.DELETE.code()) | (1 << AclOperation.DESCRIBE_CONFIGS.code())
                                | (1 << AclOperation.ALTER_CONFIGS.code()));
    }

    @Test
    void settingsParseAsKafkas() {
        assertThat(AuthorizerConfig.parse("", "", false).enabled()).isFalse();
        assertThat(AuthorizerConfig.parse(AuthorizerConfig.KAFKA_STANDARD_AUTHORIZER, "", false).enabled()).isTrue();
        assertThat(AuthorizerConfig.parse("x", "User:a;User:b", false).superUsers())
                .containsExactlyInAnyOrder(new KafkaPrincipal("User", "a"), new KafkaPrincipal("User", "b"));
        assertThatThrownBy(() -> AuthorizerConfig.parse("x", "alice", false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("super.users");
    }
}
