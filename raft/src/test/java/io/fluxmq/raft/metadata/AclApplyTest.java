package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

/** CreateAcls and DeleteAcls as the metadata state machine applies them, Kafka's filters, and ACLs in snapshots. */
class AclApplyTest {
    private static final AclBinding LITERAL = acl(ResourceType.TOPIC, "orders", PatternType.LITERAL, "User:alice",
            AclOperation.WRITE, AclPermissionType.ALLOW);
    private static final AclBinding PREFIXED = acl(ResourceType.TOPIC, "ord", PatternType.PREFIXED, "User:bob",
            AclOperation.READ, AclPermissionType.ALLOW);
    private static final AclBinding WILDCARD = acl(ResourceType.TOPIC, "*", PatternType.LITERAL, "User:*",
            AclOperation.DESCRIBE, AclPermissionType.DENY);
    private static final AclBinding GROUP = acl(ResourceType.GROUP, "orders", PatternType.LITERAL, "User:alice",
            AclOperation.READ, AclPermissionType.ALLOW);

    private final MetadataStateMachine sm = new MetadataStateMachine();

    static AclBinding acl(ResourceType type, String name, PatternType pattern, String principal, AclOperation op,
                          AclPermissionType permission) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, "*", op, permission));
    }

    private static AclBindingFilter topicFilter(String name, PatternType pattern) {
        return new AclBindingFilter(new ResourcePatternFilter(ResourceType.TOPIC, name, pattern),
                AccessControlEntryFilter.ANY);
    }

    @Test
    void commandsRoundTripThroughTheirEncoding() throws IOException {
        for (MetadataCommand c : List.of(new MetadataCommand.CreateAcls(List.of(LITERAL, PREFIXED, WILDCARD)),
                new MetadataCommand.DeleteAcls(List.of(GROUP)))) {
            byte[] bytes = c.encode();
            assertThat(bytes[0]).isEqualTo(c instanceof MetadataCommand.CreateAcls ? (byte) 12 : (byte) 13);
            assertThat(MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(bytes)))).isEqualTo(c);
        }
    }

    @Test
    void createIsIdempotentAndDeleteRemovesExactlyTheGivenBindings() {
        assertThat(sm.apply(new MetadataCommand.CreateAcls(List.of(LITERAL, PREFIXED))).isOk()).isTrue();
        assertThat(sm.apply(new MetadataCommand.CreateAcls(List.of(LITERAL, GROUP))).isOk()).isTrue();
        assertThat(sm.state().acls()).containsExactlyInAnyOrder(LITERAL, PREFIXED, GROUP);

        assertThat(sm.apply(new MetadataCommand.DeleteAcls(List.of(PREFIXED, WILDCARD))).isOk()).isTrue();
        assertThat(sm.state().acls()).containsExactlyInAnyOrder(LITERAL, GROUP);
    }

    @Test
    void filtersFollowKafkasMatchAndAnySemantics() {
        sm.apply(new MetadataCommand.CreateAcls(List.of(LITERAL, PREFIXED, WILDCARD, GROUP)));
        ClusterState s = sm.state();
        assertThat(s.acls(AclBindingFilter.ANY)).containsExactlyInAnyOrder(LITERAL, PREFIXED, WILDCARD, GROUP);
        assertThat(s.acls(topicFilter("orders", PatternType.LITERAL))).containsExactly(LITERAL);
        assertThat(s.acls(topicFilter("orders", PatternType.ANY))).containsExactly(LITERAL);
        assertThat(s.acls(topicFilter("orders", PatternType.MATCH)))
                .as("literal of that name, the wildcard and prefixes of the name")
                .containsExactlyInAnyOrder(LITERAL, PREFIXED, WILDCARD);
        assertThat(s.acls(topicFilter("other", PatternType.MATCH))).containsExactly(WILDCARD);
        assertThat(s.acls(topicFilter("ord", PatternType.PREFIXED))).containsExactly(PREFIXED);
        assertThat(s.acls(new AclBindingFilter(ResourcePatternFilter.ANY, new AccessControlEntryFilter("User:alice",
                null, AclOperation.ANY, AclPermissionType.ANY)))).containsExactlyInAnyOrder(LITERAL, GROUP);
        assertThat(s.acls(new AclBindingFilter(ResourcePatternFilter.ANY, new AccessControlEntryFilter(null,
                null, AclOperation.ANY, AclPermissionType.DENY)))).containsExactly(WILDCARD);
    }

    @Test
    void snapshotsCarryAclsAsVersionFourOnlyWhileAclsExist() throws IOException {
        sm.apply(new MetadataCommand.CreateAcls(List.of(LITERAL, PREFIXED, WILDCARD, GROUP)));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MetadataStateMachine.writeSnapshot(new DataOutputStream(bytes), sm.state());
        assertThat(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray(), 4, 2)).readShort())
                .as("format version with ACLs").isEqualTo((short) 4);
        ClusterState read = MetadataStateMachine.readSnapshot(
                new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), 9);
        assertThat(read.acls()).isEqualTo(sm.state().acls());

        sm.apply(new MetadataCommand.DeleteAcls(List.of(LITERAL, PREFIXED, WILDCARD, GROUP)));
        ByteArrayOutputStream none = new ByteArrayOutputStream();
        MetadataStateMachine.writeSnapshot(new DataOutputStream(none), sm.state());
        assertThat(new DataInputStream(new ByteArrayInputStream(none.toByteArray(), 4, 2)).readShort())
                .as("without ACLs: version 2, which older builds load").isEqualTo((short) 2);
        assertThat(MetadataStateMachine.readSnapshot(new DataInputStream(new ByteArrayInputStream(
                none.toByteArray())), 10).acls()).isEmpty();
    }
}
