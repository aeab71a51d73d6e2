package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.auth.AclAuthorizer;
import io.fluxmq.kafka.auth.AuthorizerConfig;
import io.fluxmq.kafka.server.FakeBrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialDeletion;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialUpsertion;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData.UserName;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.CredentialInfo;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

/**
 * AlterUserScramCredentials and DescribeUserScramCredentials against {@link FakeBrokerServices}' credential store:
 * results per user with Kafka's codes, RESOURCE_NOT_FOUND for a missing deletion or user, DUPLICATE_RESOURCE for a
 * user described twice, and the cluster checks (ALTER / DESCRIBE) once an authorizer runs.
 */
class ScramCredentialsHandlersTest {
    private static RequestContext context(ApiKeys key) {
        return new RequestContext(new RequestHeader(key, (short) 0, "test", 1), "EXTERNAL",
                new InetSocketAddress("127.0.0.1", 40000), KafkaPrincipal.ANONYMOUS);
    }

    private static ScramCredentialUpsertion upsert(String user, ScramMechanism mechanism, int iterations) {
        return new ScramCredentialUpsertion().setName(user).setMechanism(mechanism.type()).setIterations(iterations)
                .setSalt(new byte[] {1, 2, 3}).setSaltedPassword(new byte[] {4, 5, 6});
    }

    private static AlterUserScramCredentialsResponseData alter(FakeBrokerServices broker,
                                                               List<ScramCredentialDeletion> deletions,
                                                               List<ScramCredentialUpsertion> upsertions) {
        return (AlterUserScramCredentialsResponseData) new AlterUserScramCredentialsHandler(broker)
                .handle(context(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS), new AlterUserScramCredentialsRequestData()
                        .setDeletions(deletions).setUpsertions(upsertions)).join();
    }

    private static DescribeUserScramCredentialsResponseData describe(FakeBrokerServices broker, String... users) {
        DescribeUserScramCredentialsRequestData request = new DescribeUserScramCredentialsRequestData().setUsers(
                users == null ? null : Arrays.stream(users).map(u -> new UserName().setName(u)).toList());
        return (DescribeUserScramCredentialsResponseData) new DescribeUserScramCredentialsHandler(broker)
                .handle(context(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS), request).join();
    }

    private static short errorOf(AlterUserScramCredentialsResponseData response, String user) {
        return response.results().stream().filter(r -> r.user().equals(user)).findFirst().orElseThrow().errorCode();
    }

    private static DescribeUserScramCredentialsResult resultOf(DescribeUserScramCredentialsResponseData response,
                                                               String user) {
        return response.results().stream().filter(r -> r.user().equals(user)).findFirst().orElseThrow();
    }

    @Test
    void upsertDescribeAndDeleteWithKafkasResults() {
        FakeBrokerServices broker = new FakeBrokerServices();
        AlterUserScramCredentialsResponseData stored = alter(broker, List.of(), List.of(
                upsert("alice", ScramMechanism.SCRAM_SHA_512, 8192), upsert("bob", ScramMechanism.SCRAM_SHA_256,
                        4096)));
        assertThat(stored.results()).extracting(AlterUserScramCredentialsResult::errorCode)
                .containsExactly(Errors.NONE.code(), Errors.NONE.code());

        DescribeUserScramCredentialsResponseData all = describe(broker);
        assertThat(all.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(all.results()).extracting(DescribeUserScramCredentialsResult::user).containsExactly("alice", "bob");
        assertThat(resultOf(all, "alice").credentialInfos()).containsExactly(new CredentialInfo()
                .setMechanism(ScramMechanism.SCRAM_SHA_512.type()).setIterations(8192));
        assertThat(describe(broker, (String[]) null).results()).hasSize(2);

        DescribeUserScramCredentialsResponseData named = describe(broker, "bob", "carol", "bob");
        assertThat(named.results()).hasSize(2);
        assertThat(resultOf(named, "bob").errorCode()).isEqualTo(Errors.DUPLICATE_RESOURCE.code());
        assertThat(resultOf(named, "carol").errorCode()).isEqualTo(Errors.RESOURCE_NOT_FOUND.code());
        assertThat(resultOf(named, "carol").errorMessage())
                .isEqualTo("Attempt to describe a user credential that does not exist: carol");

        AlterUserScramCredentialsResponseData deleted = alter(broker, List.of(
                new ScramCredentialDeletion().setName("alice").setMechanism(ScramMechanism.SCRAM_SHA_512.type()),
                new ScramCredentialDeletion().setName("bob").setMechanism(ScramMechanism.SCRAM_SHA_512.type())),
                List.of(upsert("low", ScramMechanism.SCRAM_SHA_256, 10)));
        assertThat(errorOf(deleted, "alice")).isEqualTo(Errors.NONE.code());
        assertThat(errorOf(deleted, "bob")).as("bob has SHA-256 only").isEqualTo(Errors.RESOURCE_NOT_FOUND.code());
        assertThat(deleted.results().stream().filter(r -> r.user().equals("bob")).findFirst().orElseThrow()
                .errorMessage()).isEqualTo("Attempt to delete a user credential that does not exist");
        assertThat(errorOf(deleted, "low")).isEqualTo(Errors.UNACCEPTABLE_CREDENTIAL.code());
        assertThat(describe(broker).results()).extracting(DescribeUserScramCredentialsResult::user)
                .containsExactly("bob");
    }

    @Test
    void withAnAuthorizerAlterNeedsClusterAlterAndDescribeNeedsClusterDescribe() {
        AclAuthorizer acls = new AclAuthorizer(new AuthorizerConfig(true, Set.of(), false));
        FakeBrokerServices broker = new FakeBrokerServices(acls);
        AlterUserScramCredentialsResponseData refused = alter(broker, List.of(new ScramCredentialDeletion()
                .setName("zed").setMechanism((byte) 1)), List.of(upsert("bob", ScramMechanism.SCRAM_SHA_256, 4096),
                upsert("alice", ScramMechanism.SCRAM_SHA_512, 4096)));
        assertThat(refused.results()).extracting(AlterUserScramCredentialsResult::user)
                .containsExactly("alice", "bob", "zed");
        assertThat(refused.results()).allMatch(r -> r.errorCode() == Errors.CLUSTER_AUTHORIZATION_FAILED.code());
        DescribeUserScramCredentialsResponseData hidden = describe(broker, "alice");
        assertThat(hidden.errorCode()).isEqualTo(Errors.CLUSTER_AUTHORIZATION_FAILED.code());

        acls.update(List.of(clusterAcl(AclOperation.ALTER), clusterAcl(AclOperation.DESCRIBE)));
        assertThat(errorOf(alter(broker, List.of(), List.of(upsert("alice", ScramMechanism.SCRAM_SHA_512, 4096))),
                "alice")).isEqualTo(Errors.NONE.code());
        assertThat(resultOf(describe(broker, "alice"), "alice").errorCode()).isEqualTo(Errors.NONE.code());
    }

    private static AclBinding clusterAcl(AclOperation op) {
        return new AclBinding(new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL),
                new AccessControlEntry("User:ANONYMOUS", "*", op, AclPermissionType.ALLOW));
    }
}
