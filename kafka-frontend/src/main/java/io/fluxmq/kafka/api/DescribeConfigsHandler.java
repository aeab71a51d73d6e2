package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.ConfigValue;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeConfigs v1–4 for topics and for this broker: every value with its source (DYNAMIC_TOPIC_CONFIG for a
 * topic's own override, STATIC_BROKER_CONFIG for a node setting, DEFAULT_CONFIG), synonyms when asked, and
 * documentation and type from v3. Other resource types, and other brokers' ids, get an error for that resource.
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
        boolean documentation = context.version() >= 3 && request.includeDocumentation();
        for (DescribeConfigsRequestData.DescribeConfigsResource resource : request.resources()) {
            DescribeConfigsResult out = new DescribeConfigsResult().setResourceType(resource.resourceType())
                    .setResourceName(resource.resourceName());
            response.results().add(out);
            Errors refused = ConfigAccess.check(broker.authorization(), context, resource.resourceType(),
                    resource.resourceName(), AclOperation.DESCRIBE_CONFIGS);
            if (refused != Errors.NONE) {
                out.setErrorCode(refused.code()).setErrorMessage(refused.message());
                continue;
            }
            List<ConfigValue> values;
            try {
                values = broker.describeConfigs(new ConfigResource(ConfigResource.Type.forId(resource.resourceType()),
                        resource.resourceName()));
            } catch (RuntimeException e) {
                out.setErrorCode(KafkaErrors.of(e).code()).setErrorMessage(e.getMessage());
                continue;
            }
            List<DescribeConfigsResourceResult> configs = new ArrayList<>();
            for (ConfigValue v : values) {
                if (resource.configurationKeys() != null && !resource.configurationKeys().contains(v.name())) {
                    continue;
                }
                DescribeConfigsResourceResult config = new DescribeConfigsResourceResult().setName(v.name())
                        .setValue(v.value()).setReadOnly(v.readOnly()).setConfigSource(v.source().id())
                        .setIsSensitive(false).setConfigType(v.type().id())
                        .setDocumentation(documentation ? v.documentation() : null);
                if (request.includeSynonyms()) {
                    v.synonyms().forEach(s -> config.synonyms().add(new DescribeConfigsSynonym().setName(s.name())
                            .setValue(s.value()).setSource(s.source().id())));
                }
                configs.add(config);
            }
            out.setErrorCode(Errors.NONE.code()).setConfigs(configs);
        }
        return CompletableFuture.completedFuture(response);
    }
}
