package io.fluxmq.kafka.api;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** DescribeCluster v0–2: cluster id, controller and the brokers on the client's listener. */
public final class DescribeClusterHandler implements ApiHandler<DescribeClusterRequestData> {
    private static final byte BROKER_ENDPOINTS = 1;
    private final BrokerServices broker;

    public DescribeClusterHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_CLUSTER;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeClusterRequestData request) {
        DescribeClusterResponseData response = new DescribeClusterResponseData()
                .setClusterId(broker.clusterId())
                .setControllerId(broker.controllerId())
                .setClusterAuthorizedOperations(Integer.MIN_VALUE);
        if (context.version() >= 1) {
            if (request.endpointType() != BROKER_ENDPOINTS) {
                return CompletableFuture.completedFuture(response.setErrorCode(Errors.UNSUPPORTED_ENDPOINT_TYPE.code())
                        .setErrorMessage("only broker endpoints are served"));
            }
            response.setEndpointType(BROKER_ENDPOINTS);
        }
        if (request.includeClusterAuthorizedOperations()) {
            // as Kafka: no refusal, the operations only with DESCRIBE on the cluster
            Authorization auth = broker.authorization();
            response.setClusterAuthorizedOperations(auth.allowedOnCluster(context, AclOperation.DESCRIBE)
                    ? auth.authorizedOperations(context, ResourceType.CLUSTER, Authorization.CLUSTER_NAME) : 0);
        }
        for (BrokerEndpoint b : broker.brokers(context.listener())) {
            response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker()
                    .setBrokerId(b.nodeId()).setHost(b.host()).setPort(b.port()).setRack(b.rack()));
        }
        return CompletableFuture.completedFuture(response);
    }
}
