package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.util.concurrent.CompletableFuture;
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
        for (BrokerEndpoint b : broker.brokers(context.listener())) {
            response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker()
                    .setBrokerId(b.nodeId()).setHost(b.host()).setPort(b.port()).setRack(b.rack()));
        }
        return CompletableFuture.completedFuture(response);
    }
}
