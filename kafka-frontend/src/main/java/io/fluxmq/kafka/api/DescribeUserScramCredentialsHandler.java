package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData.UserName;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.CredentialInfo;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeUserScramCredentials v0, as Kafka's brokers (from their copy of the metadata): DESCRIBE on the cluster or
 * CLUSTER_AUTHORIZATION_FAILED; no users (or null) lists every user with a credential; a named user without one
 * RESOURCE_NOT_FOUND, a user named twice DUPLICATE_RESOURCE; each found user with the mechanism and iterations of
 * each of its credentials (never salts or keys). Users of the node setting ({@code sasl.jaas.config}) are not listed:
 * they are not in the metadata.
 */
public final class DescribeUserScramCredentialsHandler implements ApiHandler<DescribeUserScramCredentialsRequestData> {
    private final BrokerServices broker;

    public DescribeUserScramCredentialsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS;
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
    public CompletableFuture<ApiMessage> handle(RequestContext context,
                                                DescribeUserScramCredentialsRequestData request) {
        DescribeUserScramCredentialsResponseData response = new DescribeUserScramCredentialsResponseData();
        if (!broker.authorization().allowedOnCluster(context, AclOperation.DESCRIBE)) {
            Errors refused = Errors.CLUSTER_AUTHORIZATION_FAILED;
            response.setErrorCode(refused.code()).setErrorMessage(refused.message());
            if (request.users() != null) { // as Kafka's getErrorResponse: one result (without a name) per user asked
                request.users().forEach(u -> response.results().add(new DescribeUserScramCredentialsResult()
                        .setErrorCode(refused.code()).setErrorMessage(refused.message())));
            }
            return CompletableFuture.completedFuture(response);
        }
        Map<String, List<ScramCredentialInfo>> credentials = broker.scramCredentials();
        Map<String, Boolean> asked = new LinkedHashMap<>(); // user → named more than once
        if (request.users() == null || request.users().isEmpty()) {
            new TreeSet<>(credentials.keySet()).forEach(user -> asked.put(user, false));
        } else {
            for (UserName user : request.users()) {
                asked.put(user.name(), asked.containsKey(user.name()));
            }
        }
        asked.forEach((user, twice) -> {
            DescribeUserScramCredentialsResult result = new DescribeUserScramCredentialsResult().setUser(user);
            List<ScramCredentialInfo> infos = credentials.get(user);
            if (twice) {
                result.setErrorCode(Errors.DUPLICATE_RESOURCE.code()).setErrorMessage(
                        "Cannot describe SCRAM credentials for the same user twice in a single request: " + user);
            } else if (infos == null || infos.isEmpty()) {
                result.setErrorCode(Errors.RESOURCE_NOT_FOUND.code()).setErrorMessage(
                        "Attempt to describe a user credential that does not exist: " + user);
            } else {
                infos.forEach(info -> result.credentialInfos().add(new CredentialInfo()
                        .setMechanism(info.mechanism().type()).setIterations(info.iterations())));
            }
            response.results().add(result);
        });
        return CompletableFuture.completedFuture(response);
    }
}
