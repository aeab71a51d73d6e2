package io.fluxmq.kafka.api;

import io.fluxmq.kafka.server.ApiVersionsSupport;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.txn.TxnConfig;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ApiVersions v0–4: the version range of every registered handler, and (v3+) the {@code transaction.version} feature:
 * supported 0–2 and finalized at the node's {@code transaction.version}, which decides whether Kafka 4 clients use
 * transaction version 2 (KIP-890). As Kafka, a supported range starting at 0 is left out below v4, and a finalized
 * level of 0 is not listed. The finalized features' epoch is fixed: the level is a static setting of every node.
 */
public final class ApiVersionsHandler implements ApiHandler<ApiVersionsRequestData> {
    static final String TRANSACTION_VERSION = "transaction.version";
    /** The epoch of the finalized features; Kafka clients read them only at an epoch of 0 or more. */
    static final long FEATURES_EPOCH = 1;

    private final Supplier<ApiRegistry> registry;
    private final short transactionVersion;

    public ApiVersionsHandler(Supplier<ApiRegistry> registry) {
        this(registry, TxnConfig.MAX_TRANSACTION_VERSION);
    }

    public ApiVersionsHandler(Supplier<ApiRegistry> registry, short transactionVersion) {
        this.registry = registry;
        this.transactionVersion = transactionVersion;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.API_VERSIONS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ApiVersionsRequestData request) {
        if (context.version() >= 3 && !validClientSoftware(request)) {
            return CompletableFuture.completedFuture(ApiVersionsSupport.response(registry.get(),
                    Errors.INVALID_REQUEST));
        }
        ApiVersionsResponseData response = ApiVersionsSupport.response(registry.get(), Errors.NONE);
        if (context.version() >= 3) {
            if (context.version() >= 4) {
                response.supportedFeatures().add(new ApiVersionsResponseData.SupportedFeatureKey()
                        .setName(TRANSACTION_VERSION).setMinVersion((short) 0)
                        .setMaxVersion(TxnConfig.MAX_TRANSACTION_VERSION));
            }
            response.setFinalizedFeaturesEpoch(FEATURES_EPOCH);
            if (transactionVersion > 0) {
                response.finalizedFeatures().add(new ApiVersionsResponseData.FinalizedFeatureKey()
                        .setName(TRANSACTION_VERSION).setMinVersionLevel(transactionVersion)
                        .setMaxVersionLevel(transactionVersion));
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private static boolean validClientSoftware(ApiVersionsRequestData request) {
        return valid(request.clientSoftwareName()) && valid(request.clientSoftwareVersion());
    }

    /** Kafka's rule: non-empty, letters, digits, '.', '-' only, starting and ending with a letter or digit. */
    private static boolean valid(String s) {
        return s != null && s.matches("[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?");
    }
}
