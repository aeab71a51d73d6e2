package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.server.RequestContext;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;

/**
 * AlterUserScramCredentials v0, as Kafka's controller: ALTER on the cluster, else every user of the request gets
 * CLUSTER_AUTHORIZATION_FAILED; the checks of {@link ScramCredentialValidation}; a deletion of a credential that does
 * not exist RESOURCE_NOT_FOUND; the valid changes stored in cluster metadata together, one result per user. The
 * password never reaches the broker: clients send a salted password, from which the stored and server keys are derived
 * here.
 */
public final class AlterUserScramCredentialsHandler implements ApiHandler<AlterUserScramCredentialsRequestData> {
    private static final String MISSING = "Attempt to delete a user credential that does not exist";

    private final BrokerServices broker;

    public AlterUserScramCredentialsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ALTER_USER_SCRAM_CREDENTIALS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, AlterUserScramCredentialsRequestData request) {
        AlterUserScramCredentialsResponseData response = new AlterUserScramCredentialsResponseData();
        if (!broker.authorization().allowedOnCluster(context, AclOperation.ALTER)) {
            Set<String> users = new TreeSet<>(); // as Kafka's getErrorResponse: each user once, sorted
            request.deletions().forEach(d -> users.add(d.name()));
            request.upsertions().forEach(u -> users.add(u.name()));
            users.forEach(user -> response.results().add(result(user, Errors.CLUSTER_AUTHORIZATION_FAILED,
                    Errors.CLUSTER_AUTHORIZATION_FAILED.message())));
            return CompletableFuture.completedFuture(response);
        }
        ScramCredentialValidation.Plan plan = ScramCredentialValidation.plan(request);
        if (plan.changes().isEmpty()) {
            addErrors(response, plan.errors());
            return CompletableFuture.completedFuture(response);
        }
        return broker.alterScramCredentials(plan.changes()).handle((missing, failure) -> {
            Errors error = failure == null ? Errors.NONE : KafkaErrors.of(failure);
            String message = failure == null ? null : KafkaErrors.message(failure);
            plan.changes().forEach(change -> response.results().add(missing != null
                    && missing.contains(change.user()) ? result(change.user(), Errors.RESOURCE_NOT_FOUND, MISSING)
                    : result(change.user(), error, message)));
            addErrors(response, plan.errors());
            return response;
        });
    }

    private static void addErrors(AlterUserScramCredentialsResponseData response, Map<String, ApiError> errors) {
        errors.forEach((user, e) -> response.results().add(result(user, e.error(), e.message())));
    }

    private static AlterUserScramCredentialsResult result(String user, Errors error, String message) {
        return new AlterUserScramCredentialsResult().setUser(user).setErrorCode(error.code())
                .setErrorMessage(error == Errors.NONE ? null : message);
    }
}
