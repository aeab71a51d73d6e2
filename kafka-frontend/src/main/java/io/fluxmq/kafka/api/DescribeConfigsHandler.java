package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;

/**
 * DescribeConfigs v1–4 for topics (their overrides over the defaults) and for this broker (its static settings).
 * Other resource types get INVALID_REQUEST.
 */
public final class DescribeConfigsHandler implements ApiHandler<DescribeConfigsRequestData> {
    private final BrokerServices broker;

    public DescribeConfigsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_CONFIGS;
    }

    @Override
    public short minVersion() {
        return 1;
    }

    @Override
    public short maxVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeConfigsRequestData request) {
        DescribeConfigsResponseData response = new DescribeConfigsResponseData();
        for (DescribeConfigsRequestData.DescribeConfigsResource resource : request.resources()) {
            DescribeConfigsResult out = new DescribeConfigsResult().setResourceType(resource.resourceType())
                    .setResourceName(resource.resourceName());
            response.results().add(out);
            ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
            if (type == ConfigResource.Type.TOPIC) {
                Optional<TopicInfo> topic = broker.topic(resource.resourceName());
                if (topic.isEmpty()) {
                    out.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                            .setErrorMessage("topic " + resource.resourceName() + " does not exist");
                    continue;
                }
                fill(out, resource, request.includeSynonyms(), broker.topicConfigDefaults(), topic.get().configs(),
                        ConfigSource.TOPIC_CONFIG);
            } else if (type == ConfigResource.Type.BROKER) {
                boolean self = resource.resourceName().isEmpty()
                        || resource.resourceName().equals(Integer.toString(broker.nodeId()));
                if (!self) {
                    out.setErrorCode(Errors.INVALID_REQUEST.code())
                            .setErrorMessage("broker " + resource.resourceName() + " is not this node");
                    continue;
                }
                fill(out, resource, request.includeSynonyms(), broker.brokerConfigs(), Map.of(),
                        ConfigSource.STATIC_BROKER_CONFIG);
            } else {
                out.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("unsupported resource type " + resource.resourceType());
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private static void fill(DescribeConfigsResult out, DescribeConfigsRequestData.DescribeConfigsResource resource,
                             boolean synonyms, Map<String, String> defaults, Map<String, String> overrides,
                             ConfigSource overrideSource) {
        Map<String, String> merged = new TreeMap<>(defaults);
        merged.putAll(overrides);
        List<DescribeConfigsResourceResult> configs = new ArrayList<>();
        merged.forEach((name, value) -> {
            if (resource.configurationKeys() != null && !resource.configurationKeys().contains(name)) {
                return;
            }
            boolean overridden = overrides.containsKey(name);
            ConfigSource source = overridden ? overrideSource
                    : overrideSource == ConfigSource.STATIC_BROKER_CONFIG ? ConfigSource.STATIC_BROKER_CONFIG
                    : ConfigSource.DEFAULT_CONFIG;
            DescribeConfigsResourceResult config = new DescribeConfigsResourceResult().setName(name).setValue(value)
                    .setReadOnly(overrideSource == ConfigSource.STATIC_BROKER_CONFIG)
                    .setConfigSource(source.id()).setIsSensitive(false);
            if (synonyms) {
                config.synonyms().add(new DescribeConfigsSynonym().setName(name).setValue(value)
                        .setSource(source.id()));
            }
            configs.add(config);
        });
        out.setConfigs(configs);
    }
}
